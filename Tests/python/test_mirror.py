"""SampleUDFs/mirror.py: echoes stream points, over stdio or a Unix socket server."""
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time

from kapacitor.udf import udf_pb2
from kapacitor.udf.agent import Agent, EOF, decodeUvarint32

import udfproc


def rich_point(t):
    request = udfproc.point(t, group="host=a", tags={"host": "a"}, name="cpu",
                            usage=0.5, count=3, state="ok", up=True)
    request.point.database = "telegraf"
    request.point.retentionPolicy = "autogen"
    request.point.dimensions.append("host")
    request.point.byName = True
    return request


def test_every_point_comes_back_unchanged_over_stdio():
    udf = udfproc.UDFProcess.sample("mirror.py")
    try:
        info = udf.call(udfproc.info()).info
        assert (info.wants, info.provides, len(info.options)) == (udf_pb2.STREAM, udf_pb2.STREAM, 0)
        assert udf.call(udfproc.init()).init.success
        sent = [rich_point(t) for t in (1, 2, 3)]
        udf.send(*sent)
        assert [r.point for r in udf.recv_n(3)] == [s.point for s in sent]
        assert udf.call(udfproc.restore(udf.call(udfproc.snapshot()).snapshot.snapshot)).restore.success
        assert udf.close() == [] and udf.returncode == 0
    finally:
        udf.kill()


def test_a_batch_is_refused_with_an_error():
    udf = udfproc.UDFProcess.sample("mirror.py")
    try:
        response = udf.call(udfproc.begin())
        assert response.error.error == (
            "error processing request of type begin: mirror wants a stream, not batches (start it with --batch)")
    finally:
        udf.kill()


def test_with_batch_it_wants_batches_and_echoes_begin_points_end():
    udf = udfproc.UDFProcess.sample("mirror.py", "--batch")
    try:
        info = udf.call(udfproc.info()).info
        assert (info.wants, info.provides) == (udf_pb2.BATCH, udf_pb2.BATCH)
        assert udf.call(udfproc.init()).init.success
        sent = [udfproc.begin(name="cpu", group="host=a", tags={"host": "a"}, size=2),
                udfproc.point(1, group="host=a", value=1.5), udfproc.point(2, group="host=a", value=2.5),
                udfproc.end(2, name="cpu", group="host=a", tags={"host": "a"})]
        udf.send(*sent)
        got = udf.recv_n(4)
        assert [r.WhichOneof("message") for r in got] == ["begin", "point", "point", "end"]
        assert got[0].begin == sent[0].begin and got[3].end == sent[3].end
        assert [r.point.fieldsDouble["value"] for r in got[1:3]] == [1.5, 2.5]
        assert udf.close() == [] and udf.returncode == 0
    finally:
        udf.kill()


class SocketClient(object):
    def __init__(self, path):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(udfproc.WAIT)
        self.sock.connect(path)
        self.reader = self.sock.makefile("rb")

    def call(self, *requests):
        self.sock.sendall(b"".join(udfproc.frame(r) for r in requests))
        responses = []
        for _ in requests:
            response = udf_pb2.Response()
            response.ParseFromString(self.reader.read(decodeUvarint32(self.reader)))
            responses.append(response)
        return responses

    def close_write_and_drain(self):
        self.sock.shutdown(socket.SHUT_WR)
        try:
            decodeUvarint32(self.reader)
            return False
        except EOF:
            return True
        finally:
            self.reader.close()
            self.sock.close()


def test_socket_mode_serves_each_connection_with_its_own_agent():
    directory = tempfile.mkdtemp(prefix="tock-mirror-")
    path = os.path.join(directory, "mirror.sock")
    server = subprocess.Popen([sys.executable, os.path.join(udfproc.SAMPLES, "mirror.py"),
                               "--socket", path], env=udfproc.child_env(),
                              stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + udfproc.WAIT
        while not os.path.exists(path):
            assert server.poll() is None, server.stderr.read().decode()
            assert time.monotonic() < deadline, "the server did not create its socket"
            time.sleep(0.05)
        first, second = SocketClient(path), SocketClient(path)
        [info] = first.call(udfproc.info())
        assert info.info.wants == udf_pb2.STREAM
        [init] = second.call(udfproc.init())
        assert init.init.success
        echoed = second.call(rich_point(10), rich_point(20))
        assert [r.point.time for r in echoed] == [10, 20]
        assert echoed[0].point == rich_point(10).point
        [alive] = first.call(udfproc.keepalive(5))
        assert alive.keepalive.time == 5
        # Closing the write side ends that connection's agent, which closes its side.
        assert first.close_write_and_drain()
        assert second.close_write_and_drain()

        server.send_signal(signal.SIGTERM)
        assert server.wait(timeout=udfproc.WAIT) == 0
        assert not os.path.exists(path)
    finally:
        if server.poll() is None:
            server.kill()
            server.wait()
        server.stderr.close()
        if os.path.exists(path):
            os.remove(path)
        os.rmdir(directory)


def test_an_in_process_server_stops_and_removes_its_socket(tmp_path):
    from threading import Thread
    from kapacitor.udf.agent import Server

    path = str(tmp_path / "s.sock")
    accepted = []

    class Accepter(object):
        def accept(self, conn, addr):
            agent = Agent(conn, conn)
            accepted.append(agent)
            agent.start()
            agent.wait()

    server = Server(path, Accepter())
    thread = Thread(target=server.serve, daemon=True)
    thread.start()
    try:
        client = SocketClient(path)
        [alive] = client.call(udfproc.keepalive(3))
        assert alive.keepalive.time == 3
        assert client.close_write_and_drain()
    finally:
        server.stop()
    thread.join(udfproc.WAIT)
    assert not thread.is_alive()
    assert not os.path.exists(path)
    assert len(accepted) == 1


def test_a_stale_socket_file_from_a_dead_server_is_replaced(tmp_path):
    from kapacitor.udf.agent import Server

    path = str(tmp_path / "stale.sock")
    dead = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    dead.bind(path)
    dead.close()  # the file stays behind, nobody listens
    server = Server(path, object())
    try:
        probe = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        probe.connect(path)  # listening already, before serve()
        probe.close()
    finally:
        server.stop()
    assert not os.path.exists(path)
