"""A moving average (STREAM -> STREAM) that snapshots its state and crashes once.

Options: field STRING, size INT, as STRING. Environment: CRASH_AT=n raises ZeroDivisionError on the
n-th point it receives, unless the file CRASH_MARKER exists; the crash creates it, so the restarted
process carries on. Snapshot: JSON {"values": [...]}.
"""
import json
import os

import rawudf
from kapacitor.udf import udf_pb2

crash_at = rawudf.env_int("CRASH_AT")
marker = os.environ.get("CRASH_MARKER", "")
field, size, as_ = "value", 3, "avg"
values = []
seen = 0

while True:
    request = rawudf.read_request()
    if request is None:
        break
    kind = request.WhichOneof("message")
    if kind == "info":
        rawudf.write_response(rawudf.info_response(options={
            "field": [udf_pb2.STRING], "size": [udf_pb2.INT], "as": [udf_pb2.STRING]}))
    elif kind == "init":
        for option in request.init.options:
            if option.name == "field":
                field = option.values[0].stringValue
            elif option.name == "size":
                size = option.values[0].intValue
            elif option.name == "as":
                as_ = option.values[0].stringValue
        rawudf.write_response(rawudf.init_response())
    elif kind == "keepalive":
        rawudf.write_response(rawudf.keepalive_response(request))
    elif kind == "snapshot":
        response = udf_pb2.Response()
        response.snapshot.snapshot = json.dumps({"values": values}).encode()
        rawudf.write_response(response)
    elif kind == "restore":
        values = json.loads(request.restore.snapshot.decode())["values"]
        rawudf.log("restored %d values" % len(values))
        response = udf_pb2.Response()
        response.restore.success = True
        rawudf.write_response(response)
    elif kind == "point":
        seen += 1
        if crash_at and seen == crash_at and not (marker and os.path.exists(marker)):
            if marker:
                open(marker, "w").close()
            rawudf.log("about to divide by zero at point %d" % seen)
            1 / 0
        values.append(request.point.fieldsDouble[field])
        values = values[-size:]
        response = udf_pb2.Response()
        response.point.CopyFrom(request.point)
        response.point.ClearField("fieldsDouble")
        response.point.ClearField("fieldsInt")
        response.point.fieldsDouble[as_] = sum(values) / len(values)
        rawudf.write_response(response)
