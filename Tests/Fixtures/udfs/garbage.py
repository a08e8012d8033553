"""Answers Info and Init, then on the first point writes bytes that are not a valid response.

GARBAGE=varint: a length prefix longer than 5 bytes; GARBAGE=proto: a frame that does not decode;
GARBAGE=huge: a frame announcing 100 MB.
"""
import os
import sys

import rawudf

mode = os.environ.get("GARBAGE", "proto")
while True:
    request = rawudf.read_request()
    if request is None:
        break
    kind = request.WhichOneof("message")
    if kind == "info":
        rawudf.write_response(rawudf.info_response())
    elif kind == "init":
        rawudf.write_response(rawudf.init_response())
    elif kind == "keepalive":
        rawudf.write_response(rawudf.keepalive_response(request))
    elif kind == "point":
        rawudf.log("writing %s garbage" % mode)
        if mode == "varint":
            sys.stdout.buffer.write(b"\xff\xff\xff\xff\xff\xff\x01")
        elif mode == "huge":
            sys.stdout.buffer.write(rawudf.varint(100 * 1000 * 1000) + b"\x00" * 16)
        else:
            sys.stdout.buffer.write(b"\x05\xff\xff\xff\xff\xff")
        sys.stdout.buffer.flush()
