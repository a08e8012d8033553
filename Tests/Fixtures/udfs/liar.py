"""Its Info declares options its Init then rejects.

Info: mode STRING, alpha INT, size INT. Init rejects `mode` ("unknown option mode") and wants `alpha`
as a DOUBLE ("alpha must be a DOUBLE, got INT"). With only `size` it initializes.
"""
import rawudf
from kapacitor.udf import udf_pb2

TYPE_NAMES = {udf_pb2.BOOL: "BOOL", udf_pb2.INT: "INT", udf_pb2.DOUBLE: "DOUBLE",
              udf_pb2.STRING: "STRING", udf_pb2.DURATION: "DURATION"}
while True:
    request = rawudf.read_request()
    if request is None:
        break
    kind = request.WhichOneof("message")
    if kind == "info":
        rawudf.write_response(rawudf.info_response(options={
            "mode": [udf_pb2.STRING], "alpha": [udf_pb2.INT], "size": [udf_pb2.INT]}))
    elif kind == "init":
        errors = []
        for option in request.init.options:
            if option.name == "mode":
                errors.append("unknown option mode")
            elif option.name == "alpha" and option.values[0].type != udf_pb2.DOUBLE:
                errors.append("alpha must be a DOUBLE, got %s" % TYPE_NAMES[option.values[0].type])
        if errors:
            rawudf.log("init rejected: " + "; ".join(errors))
        rawudf.write_response(rawudf.init_response(not errors, "; ".join(errors)))
    elif kind == "keepalive":
        rawudf.write_response(rawudf.keepalive_response(request))
