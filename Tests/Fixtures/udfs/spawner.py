"""Starts two grandchildren on Init and echoes points (STREAM -> STREAM).

On Init it starts `sleep 1000` twice: one in its own process group, one in a new session (setsid), both
inheriting its stdin, stdout and stderr, and writes "group PID" and "session PID" lines to the file
named by GRANDCHILD_PIDS. With EXIT_AFTER=n it exits with status 3 after echoing its n-th point;
otherwise it serves until its input ends.
"""
import os
import subprocess
import sys

import rawudf
from kapacitor.udf import udf_pb2

exit_after = rawudf.env_int("EXIT_AFTER")
pids_file = os.environ.get("GRANDCHILD_PIDS", "")
seen = 0


def spawn_grandchildren():
    group = subprocess.Popen(["sleep", "1000"])
    session = subprocess.Popen(["sleep", "1000"], start_new_session=True)
    if pids_file:
        with open(pids_file + ".tmp", "w") as f:
            f.write("group %d\nsession %d\n" % (group.pid, session.pid))
        os.rename(pids_file + ".tmp", pids_file)
    rawudf.log("started grandchildren %d and %d" % (group.pid, session.pid))


while True:
    request = rawudf.read_request()
    if request is None:
        break
    kind = request.WhichOneof("message")
    if kind == "info":
        rawudf.write_response(rawudf.info_response())
    elif kind == "init":
        spawn_grandchildren()
        rawudf.write_response(rawudf.init_response())
    elif kind == "keepalive":
        rawudf.write_response(rawudf.keepalive_response(request))
    elif kind == "snapshot":
        response = udf_pb2.Response()
        response.snapshot.snapshot = b""
        rawudf.write_response(response)
    elif kind == "point":
        seen += 1
        response = udf_pb2.Response()
        response.point.CopyFrom(request.point)
        rawudf.write_response(response)
        if exit_after and seen >= exit_after:
            rawudf.log("exiting after %d points" % seen)
            sys.exit(3)
