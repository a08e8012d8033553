"""Answers Info and Init, echoes points, then after SILENT_AFTER points stops answering anything."""
import time

import rawudf
from kapacitor.udf import udf_pb2

silent_after = rawudf.env_int("SILENT_AFTER", 1)
seen = 0
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
        seen += 1
        if seen >= silent_after:
            rawudf.log("going quiet after %d points" % seen)
            while True:
                time.sleep(60)
        response = udf_pb2.Response()
        response.point.CopyFrom(request.point)
        rawudf.write_response(response)
