"""Echoes points; on point number ERROR_AT sends an ErrorResponse instead, as the agent does when a handler raises."""
import rawudf
from kapacitor.udf import udf_pb2

error_at = rawudf.env_int("ERROR_AT", 1)
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
        if seen == error_at:
            rawudf.log("rejecting point %d" % seen)
            response = udf_pb2.Response()
            response.error.error = "error processing request of type point: field 'value' is negative"
            rawudf.write_response(response)
            continue
        response = udf_pb2.Response()
        response.point.CopyFrom(request.point)
        rawudf.write_response(response)
