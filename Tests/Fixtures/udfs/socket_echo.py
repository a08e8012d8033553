"""A socket UDF server (STREAM -> STREAM echo) speaking raw framing, one thread per connection.

Usage: socket_echo.py SOCKET_PATH. Prints "listening" on stdout once it accepts connections.
"""
import os
import socket
import sys
import threading

from kapacitor.udf import udf_pb2
import rawudf


def read_request(stream):
    length, shift = 0, 0
    while True:
        b = stream.read(1)
        if not b:
            return None
        length |= (b[0] & 0x7F) << shift
        if b[0] & 0x80 == 0:
            break
        shift += 7
    request = udf_pb2.Request()
    request.ParseFromString(stream.read(length))
    return request


def write(stream, response):
    data = response.SerializeToString()
    stream.write(rawudf.varint(len(data)) + data)
    stream.flush()


def serve(conn):
    reader = conn.makefile("rb")
    writer = conn.makefile("wb")
    while True:
        request = read_request(reader)
        if request is None:
            break
        kind = request.WhichOneof("message")
        if kind == "info":
            write(writer, rawudf.info_response())
        elif kind == "init":
            write(writer, rawudf.init_response())
        elif kind == "keepalive":
            write(writer, rawudf.keepalive_response(request))
        elif kind == "snapshot":
            response = udf_pb2.Response()
            response.snapshot.snapshot = b""
            write(writer, response)
        elif kind == "point":
            response = udf_pb2.Response()
            response.point.CopyFrom(request.point)
            write(writer, response)
    writer.close()
    reader.close()
    conn.close()


path = sys.argv[1]
if os.path.exists(path):
    os.remove(path)
server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
server.bind(path)
server.listen(5)
print("listening", flush=True)
while True:
    conn, _ = server.accept()
    threading.Thread(target=serve, args=(conn,), daemon=True).start()
