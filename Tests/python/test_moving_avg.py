"""SampleUDFs/moving_avg.py as a child process: a per-group moving average of one field."""
import json

import pytest

from kapacitor.udf import udf_pb2

import udfproc


@pytest.fixture
def udf():
    process = udfproc.UDFProcess.sample("moving_avg.py")
    yield process
    process.kill()


def started(size=2, **extra):
    process = udfproc.UDFProcess.sample("moving_avg.py")
    response = process.call(udfproc.init(field="value", size=size, **extra))
    assert response.init.success, response.init.error
    return process


def test_info_declares_a_stream_to_stream_udf_with_three_options(udf):
    info = udf.call(udfproc.info()).info
    assert (info.wants, info.provides) == (udf_pb2.STREAM, udf_pb2.STREAM)
    assert {name: list(o.valueTypes) for name, o in info.options.items()} == {
        "field": [udf_pb2.STRING], "size": [udf_pb2.INT], "as": [udf_pb2.STRING]}


def test_init_without_field_or_size_fails_with_the_reasons(udf):
    response = udf.call(udfproc.init()).init
    assert not response.success
    assert response.error == "must supply field name must supply window size"


def test_average_of_one_two_three_over_two_points_is_one_then_one_and_a_half_then_two_and_a_half():
    udf = started(size=2)
    try:
        udf.send(*[udfproc.point(t, group="g", tags={"host": "a"}, value=v, other=7)
                   for t, v in [(10, 1.0), (20, 2.0), (30, 3.0)]])
        points = [r.point for r in udf.recv_n(3)]
        assert [p.fieldsDouble["avg"] for p in points] == [1.0, 1.5, 2.5]
        assert [p.time for p in points] == [10, 20, 30]
        assert all(dict(p.tags) == {"host": "a"} for p in points)
        assert all(dict(p.fieldsDouble) == {"avg": p.fieldsDouble["avg"]} for p in points)
        assert all(len(p.fieldsInt) == 0 for p in points)
    finally:
        udf.kill()


def test_groups_are_averaged_separately_and_as_names_the_output_field():
    udf = started(size=3, **{"as": "mean"})
    try:
        udf.send(udfproc.point(1, group="a", value=10.0), udfproc.point(2, group="b", value=2),
                 udfproc.point(3, group="a", value=20.0), udfproc.point(4, group="b", value=4))
        means = [(r.point.group, r.point.fieldsDouble["mean"]) for r in udf.recv_n(4)]
        assert means == [("a", 10.0), ("b", 2.0), ("a", 15.0), ("b", 3.0)]
    finally:
        udf.kill()


def test_a_restored_snapshot_continues_exactly_like_the_original_process():
    original = started(size=3)
    try:
        original.send(*[udfproc.point(t, group="g", value=v)
                        for t, v in enumerate([1.0, 5.0, 2.0, 8.0])])
        original.recv_n(4)
        data = original.call(udfproc.snapshot()).snapshot.snapshot
        saved = json.loads(data)
        assert saved["g"]["window"] == [5.0, 2.0, 8.0] and saved["g"]["size"] == 3
        later = [udfproc.point(10 + t, group="g", value=v) for t, v in enumerate([3.0, 9.0])]
        original.send(*later)
        expected = [r.point.fieldsDouble["avg"] for r in original.recv_n(2)]
    finally:
        original.kill()

    restarted = started(size=3)
    try:
        assert restarted.call(udfproc.restore(data)).restore.success
        restarted.send(*later)
        assert [r.point.fieldsDouble["avg"] for r in restarted.recv_n(2)] == expected
        assert expected == pytest.approx([13.0 / 3, 20.0 / 3])
    finally:
        restarted.kill()


def test_a_corrupt_snapshot_is_refused(udf):
    udf.call(udfproc.init(field="value", size=2))
    response = udf.call(udfproc.restore(b"not json")).restore
    assert not response.success
    assert response.error.startswith("invalid movingAvg snapshot")
