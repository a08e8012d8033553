"""The Python agent: request dispatch, keepalive, errors and framing, run in-process."""
import io

import pytest

from kapacitor.udf import udf_pb2
from kapacitor.udf.agent import Agent, Handler, decodeUvarint32

import udfproc


class KeptBytes(io.BytesIO):
    """An output stream whose bytes survive Agent.wait() closing it."""

    def close(self):
        self.kept = self.getvalue()
        io.BytesIO.close(self)


class OneByteReader(io.RawIOBase):
    """Input that arrives one byte per read, so every message straddles reads."""

    def __init__(self, data):
        self._data = data
        self._pos = 0

    def readable(self):
        return True

    def readinto(self, buffer):
        if self._pos >= len(self._data) or len(buffer) == 0:
            return 0
        buffer[0] = self._data[self._pos]
        self._pos += 1
        return 1


class NoRead1(object):
    """A plain reader without read1 (the agent then reads message by message)."""

    def __init__(self, data):
        self._stream = io.BytesIO(data)

    def read(self, n=-1):
        return self._stream.read(n)

    def close(self):
        pass


class Recorder(Handler):
    """Echoes data as points named after the request type; answers management requests."""

    def __init__(self, agent):
        self.agent = agent
        self.calls = []

    def info(self):
        self.calls.append("info")
        response = udf_pb2.Response()
        response.info.wants = udf_pb2.BATCH
        response.info.provides = udf_pb2.STREAM
        return response

    def init(self, init_req):
        self.calls.append("init")
        response = udf_pb2.Response()
        response.init.success = True
        return response

    def snapshot(self):
        self.calls.append("snapshot")
        response = udf_pb2.Response()
        response.snapshot.snapshot = b"state"
        return response

    def restore(self, restore_req):
        self.calls.append("restore")
        response = udf_pb2.Response()
        response.restore.success = restore_req.snapshot == b"state"
        return response

    def _emit(self, name):
        response = udf_pb2.Response()
        response.point.name = name
        self.agent.write_response(response)

    def begin_batch(self, begin_req):
        self.calls.append("begin")
        self._emit("begin")

    def point(self, point):
        self.calls.append("point")
        if point.name == "boom":
            raise ValueError("boom")
        self._emit("point")

    def end_batch(self, end_req):
        self.calls.append("end")
        self._emit("end")


def run_agent(data, reader=None, handler_class=Recorder):
    out = KeptBytes()
    agent = Agent(reader if reader is not None else io.BytesIO(data), out)
    handler = handler_class(agent)
    agent.handler = handler
    agent.start()
    agent.wait()
    return handler, parse_responses(out.kept)


def parse_responses(data):
    stream = io.BytesIO(data)
    responses = []
    while stream.tell() < len(data):
        size = decodeUvarint32(stream)
        response = udf_pb2.Response()
        response.ParseFromString(stream.read(size))
        responses.append(response)
    return responses


def frames(*requests):
    return b"".join(udfproc.frame(r) for r in requests)


def conversation():
    return frames(udfproc.info(), udfproc.init(), udfproc.keepalive(12345),
                  *udfproc.batch([1.0]), udfproc.snapshot(), udfproc.restore(b"state"))


def kinds(responses):
    return [r.WhichOneof("message") if r.WhichOneof("message") != "point" else r.point.name
            for r in responses]


def test_requests_reach_the_handler_in_order_and_answers_come_back_in_order():
    handler, responses = run_agent(conversation())
    assert handler.calls == ["info", "init", "begin", "point", "end", "snapshot", "restore"]
    assert kinds(responses) == ["info", "init", "keepalive", "begin", "point", "end",
                                "snapshot", "restore"]
    assert responses[0].info.wants == udf_pb2.BATCH
    assert responses[6].snapshot.snapshot == b"state"
    assert responses[7].restore.success


def test_keepalive_is_answered_by_the_agent_with_the_same_time():
    handler, responses = run_agent(frames(udfproc.keepalive(1451606400000000000)))
    assert handler.calls == []
    assert [r.keepalive.time for r in responses] == [1451606400000000000]


def test_a_handler_exception_sends_an_error_and_stops_the_agent():
    handler, responses = run_agent(frames(udfproc.point(1), udfproc.point(2, name="boom"),
                                          udfproc.point(3)))
    assert handler.calls == ["point", "point"]
    assert kinds(responses) == ["point", "error"]
    assert responses[1].error.error == "error processing request of type point: boom"


def test_a_handler_returning_no_response_is_an_error():
    class Silent(Handler):
        def __init__(self, agent):
            pass

    _, responses = run_agent(frames(udfproc.info()), handler_class=Silent)
    assert [r.error.error for r in responses] == [
        "error processing request of type info: cannot write None response"]


def test_a_message_cut_short_by_the_end_of_input_is_an_error():
    whole = udfproc.frame(udfproc.point(7, host="a"))
    _, responses = run_agent(whole[:-3])
    assert [r.error.error for r in responses] == [
        "error processing request of type unknown: unexpected EOF, expected 3 more bytes"]


def test_messages_arriving_one_byte_at_a_time_are_framed_correctly():
    handler, responses = run_agent(b"", reader=OneByteReader(conversation()))
    assert handler.calls == ["info", "init", "begin", "point", "end", "snapshot", "restore"]
    assert len(responses) == 8


def test_readers_without_read1_are_supported():
    handler, responses = run_agent(b"", reader=NoRead1(conversation()))
    assert handler.calls == ["info", "init", "begin", "point", "end", "snapshot", "restore"]
    assert len(responses) == 8


def test_a_message_larger_than_a_read_chunk_arrives_whole():
    big = bytes(range(256)) * 1000  # 256,000 bytes: a 3-byte length prefix

    class Sized(Recorder):
        def restore(self, restore_req):
            response = udf_pb2.Response()
            response.restore.success = restore_req.snapshot == big
            response.restore.error = str(len(restore_req.snapshot))
            return response

    _, responses = run_agent(frames(udfproc.restore(big), udfproc.keepalive(9)),
                             handler_class=Sized)
    assert responses[0].restore.success, responses[0].restore.error
    assert responses[1].keepalive.time == 9


def response_of_size(size):
    """A Response whose serialized form is exactly ``size`` bytes."""
    for k in range(size, -1, -1):
        response = udf_pb2.Response()
        response.snapshot.snapshot = b"x" * k
        if response.ByteSize() == size:
            return response
    raise AssertionError("no snapshot response of %d bytes" % size)


def test_write_response_frames_messages_of_every_prefix_length():
    sizes = [2, 127, 128, 300, 16383, 16384, 70000]
    out = KeptBytes()
    agent = Agent(io.BytesIO(b""), out)
    for size in sizes:
        agent.write_response(response_of_size(size))
    stream = io.BytesIO(out.getvalue())
    assert out.getvalue()[:1] == b"\x02"
    for size in sizes:
        assert decodeUvarint32(stream) == size
        assert len(stream.read(size)) == size
    assert stream.read() == b""


def test_multi_byte_prefixes_split_across_reads_are_decoded():
    class Echo(Handler):
        def __init__(self, agent):
            self.agent = agent

        def point(self, point):
            response = udf_pb2.Response()
            response.point.CopyFrom(point)
            self.agent.write_response(response)

    sent = [udfproc.point(i, text="y" * n) for i, n in enumerate([10, 200, 20000, 3])]
    for reader in (OneByteReader(frames(*sent)), None):
        _, responses = run_agent(frames(*sent), reader=reader, handler_class=Echo)
        assert [r.point for r in responses] == [s.point for s in sent]


@pytest.mark.parametrize("prefix", [b"\x80\x80\x80\x80\x80\x01", b"\xff\xff\xff\xff\x1f"])
def test_a_length_prefix_beyond_32_bits_is_reported_to_the_host(prefix):
    _, responses = run_agent(prefix + b"\x00" * 8)
    assert [r.error.error for r in responses] == [
        "error processing request of type unknown: "
        "too many bytes when decoding varint, larger than 32bit uint"]
