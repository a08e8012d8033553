"""Wants batches. PROVIDES=batch echoes each batch with `value` doubled (same tags, name from the
end message, tmax from the end); PROVIDES=stream emits one point per batch at tmax with fields
count (INT) and mean (DOUBLE), tags and name of the batch, grouped by its tags."""
import os

import rawudf
from kapacitor.udf import udf_pb2

provides = udf_pb2.BATCH if os.environ.get("PROVIDES", "batch") == "batch" else udf_pb2.STREAM
begin = None
points = []
while True:
    request = rawudf.read_request()
    if request is None:
        break
    kind = request.WhichOneof("message")
    if kind == "info":
        rawudf.write_response(rawudf.info_response(wants=udf_pb2.BATCH, provides=provides))
    elif kind == "init":
        rawudf.write_response(rawudf.init_response())
    elif kind == "keepalive":
        rawudf.write_response(rawudf.keepalive_response(request))
    elif kind == "begin":
        begin = request.begin
        points = []
    elif kind == "point":
        points.append(request.point)
    elif kind == "end":
        end = request.end
        if provides == udf_pb2.BATCH:
            response = udf_pb2.Response()
            response.begin.CopyFrom(begin)
            rawudf.write_response(response)
            for p in points:
                response = udf_pb2.Response()
                response.point.CopyFrom(p)
                response.point.fieldsDouble["value"] = p.fieldsDouble["value"] * 2
                rawudf.write_response(response)
            response = udf_pb2.Response()
            response.end.CopyFrom(end)
            rawudf.write_response(response)
        else:
            values = [p.fieldsDouble["value"] for p in points]
            response = udf_pb2.Response()
            response.point.name = end.name
            response.point.time = end.tmax
            response.point.group = end.group
            response.point.tags.update(end.tags)
            response.point.dimensions.extend(sorted(end.tags.keys()))
            response.point.fieldsInt["count"] = len(values)
            response.point.fieldsDouble["mean"] = sum(values) / len(values) if values else 0.0
            rawudf.write_response(response)
