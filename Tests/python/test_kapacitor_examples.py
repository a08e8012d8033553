"""UDFs shaped as Kapacitor's Python examples (Tests/Fixtures/udfs/kapacitor-examples) on the project's agent
under Python 3: their snapshot answers a str, so the agent answers with an error naming the request, logs the
traceback and ends, as Kapacitor's agent does. (What the host makes of it: PluginHostTests, KapacitorExampleTests.)"""
import os

from kapacitor.udf import udf_pb2

import udfproc

EXAMPLES = os.path.join(udfproc.ROOT, "Tests", "Fixtures", "udfs", "kapacitor-examples")


def example(name):
    return udfproc.UDFProcess([os.path.join(EXAMPLES, name)])


def test_moving_average_is_per_group_and_its_snapshot_ends_the_agent_with_an_error():
    udf = example("moving_avg.py")
    try:
        assert udf.call(udfproc.init(field="value", size=2, **{"as": "avg"})).init.success
        udf.send(udfproc.point(1, group="host=a", value=1.0), udfproc.point(2, group="host=b", value=10.0),
                 udfproc.point(3, group="host=a", value=3.0))
        assert [r.point.fieldsDouble["avg"] for r in udf.recv_n(3)] == [1.0, 10.0, 2.0]
        error = udf.call(udfproc.snapshot())
        assert error.WhichOneof("message") == "error"
        assert error.error.error.startswith("error processing request of type snapshot: ")
        assert udf.close() == []
        assert "TypeError" in udf.stderr
    finally:
        udf.kill()


def test_outliers_snapshot_is_a_str_too():
    udf = udfproc.UDFProcess([os.path.join(EXAMPLES, "outliers.py")])
    try:
        info = udf.call(udfproc.info()).info
        assert (info.wants, info.provides) == (udf_pb2.BATCH, udf_pb2.BATCH)
        assert udf.call(udfproc.snapshot()).WhichOneof("message") == "error"
        udf.close()
    finally:
        udf.kill()
