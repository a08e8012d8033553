"""The agent as a real child process without `python -u`: data written without flush is
delivered while the host keeps stdin open, and handler errors reach the host and stderr."""
import textwrap

import pytest

import udfproc

SCRIPT = textwrap.dedent('''
    import threading
    from kapacitor.udf.agent import Agent, Handler
    from kapacitor.udf import udf_pb2

    class Lazy(Handler):
        """Never passes flush=True for data; answers one point later from another thread."""
        def __init__(self, agent):
            self._agent = agent

        def init(self, init_req):
            response = udf_pb2.Response()
            response.init.success = True
            return response

        def point(self, point):
            if point.name == "fail":
                raise RuntimeError("cannot handle " + point.name)
            response = udf_pb2.Response()
            response.point.CopyFrom(point)
            if point.name == "later":
                threading.Thread(target=self._agent.write_response, args=(response,)).start()
            else:
                self._agent.write_response(response)

    agent = Agent()
    agent.handler = Lazy(agent)
    agent.start()
    agent.wait()
''')


def start(tmp_path, *python_flags):
    path = tmp_path / "lazy_udf.py"
    path.write_text(SCRIPT)
    return udfproc.UDFProcess(list(python_flags) + [str(path)])


@pytest.mark.parametrize("python_flags", [(), ("-u",)], ids=["buffered", "python -u"])
def test_unflushed_data_arrives_before_stdin_is_closed(tmp_path, python_flags):
    udf = start(tmp_path, *python_flags)
    try:
        udf.send(udfproc.point(1, name="a", value=1.0))
        first = udf.recv()
        udf.send(udfproc.point(2, name="b", value=2.0), udfproc.point(3, name="c", value=3.0))
        rest = udf.recv_n(2)
        assert [r.point.time for r in [first] + rest] == [1, 2, 3]
        assert udf.close() == []
        assert udf.returncode == 0
    finally:
        udf.kill()


def test_data_written_from_another_thread_while_the_agent_waits_is_delivered(tmp_path):
    udf = start(tmp_path)
    try:
        udf.send(udfproc.point(5, name="later", value=5.0))
        assert udf.recv().point.time == 5
    finally:
        udf.kill()


def test_keepalive_is_echoed_by_a_child_process(tmp_path):
    udf = start(tmp_path)
    try:
        assert udf.call(udfproc.keepalive(42)).keepalive.time == 42
    finally:
        udf.kill()


def test_a_handler_error_reaches_the_host_and_stderr_and_the_agent_exits(tmp_path):
    udf = start(tmp_path)
    try:
        udf.send(udfproc.point(1, name="fail"))
        response = udf.recv()
        assert response.error.error == "error processing request of type point: cannot handle fail"
        assert udf.close() == []
        assert "RuntimeError: cannot handle fail" in udf.stderr
        assert "Traceback" in udf.stderr
    finally:
        udf.kill()
