"""Raw framing for the misbehaving test UDFs: varint-length-prefixed udf_pb2 messages on stdin/stdout.

These fixtures do not use the agent on purpose: they break the protocol in ways the agent never would.
"""
import os
import sys

from kapacitor.udf import udf_pb2

stdin = sys.stdin.buffer
stdout = sys.stdout.buffer


def read_request():
    """The next Request, or None at end of input."""
    length = 0
    shift = 0
    while True:
        b = stdin.read(1)
        if not b:
            return None
        length |= (b[0] & 0x7F) << shift
        if b[0] & 0x80 == 0:
            break
        shift += 7
    data = stdin.read(length)
    request = udf_pb2.Request()
    request.ParseFromString(data)
    return request


def varint(n):
    out = bytearray()
    while n >= 0x80:
        out.append((n & 0x7F) | 0x80)
        n >>= 7
    out.append(n)
    return bytes(out)


def write_response(response):
    data = response.SerializeToString()
    stdout.write(varint(len(data)) + data)
    stdout.flush()


def info_response(wants=udf_pb2.STREAM, provides=udf_pb2.STREAM, options=None):
    response = udf_pb2.Response()
    response.info.wants = wants
    response.info.provides = provides
    for name, types in (options or {}).items():
        response.info.options[name].valueTypes.extend(types)
    return response


def init_response(success=True, error=""):
    response = udf_pb2.Response()
    response.init.success = success
    response.init.error = error
    return response


def keepalive_response(request):
    response = udf_pb2.Response()
    response.keepalive.time = request.keepalive.time
    return response


def env_int(name, default=0):
    return int(os.environ.get(name, default))


def log(message):
    sys.stderr.write(message + "\n")
    sys.stderr.flush()
