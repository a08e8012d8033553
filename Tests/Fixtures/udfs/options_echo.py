"""Echoes its Init options back as one point per option value, to check the types the host sends.

Info declares b BOOL, i INT, f DOUBLE, s STRING, d DURATION and pair (INT, STRING). On the first
point it emits, for every option value received, a point named after the option with fields
type (the ValueType name) and value (as a string).
"""
import rawudf
from kapacitor.udf import udf_pb2

TYPE_NAMES = {udf_pb2.BOOL: "BOOL", udf_pb2.INT: "INT", udf_pb2.DOUBLE: "DOUBLE",
              udf_pb2.STRING: "STRING", udf_pb2.DURATION: "DURATION"}
received = []
while True:
    request = rawudf.read_request()
    if request is None:
        break
    kind = request.WhichOneof("message")
    if kind == "info":
        rawudf.write_response(rawudf.info_response(options={
            "b": [udf_pb2.BOOL], "i": [udf_pb2.INT], "f": [udf_pb2.DOUBLE], "s": [udf_pb2.STRING],
            "d": [udf_pb2.DURATION], "pair": [udf_pb2.INT, udf_pb2.STRING]}))
    elif kind == "init":
        for option in request.init.options:
            for index, value in enumerate(option.values):
                received.append((option.name, index, TYPE_NAMES[value.type], str(getattr(value, value.WhichOneof("value")))))
        rawudf.write_response(rawudf.init_response())
    elif kind == "keepalive":
        rawudf.write_response(rawudf.keepalive_response(request))
    elif kind == "point":
        for name, index, type_name, value in received:
            response = udf_pb2.Response()
            response.point.name = name
            response.point.time = request.point.time + index
            response.point.fieldsString["type"] = type_name
            response.point.fieldsString["value"] = value
            rawudf.write_response(response)
