"""SampleUDFs/outliers.py as a child process: Tukey-fence outliers of each batch."""
import pytest

from kapacitor.udf import udf_pb2

import udfproc

# Sorted: -50 10 11 12 13 | 14 15 16 17 100 -> Q1 = 11, Q3 = 16, IQR = 5.
# scale 1.5: fences 3.5 and 23.5, so 100 and -50 are the outliers (in arrival order).
VALUES = [10.0, 11.0, 12.0, 13.0, 14.0, 15.0, 16.0, 17.0, 100.0, -50.0]
TAGS = {"host": "h1"}


def started(**options):
    udf = udfproc.UDFProcess.sample("outliers.py")
    response = udf.call(udfproc.init(field="value", **options))
    assert response.init.success, response.init.error
    return udf


def run_batch(udf, values):
    """Sends one batch; returns (begin, points, end) of the answer."""
    udf.send(*udfproc.batch(values, start=100, step=10, name="cpu", group="host=h1", tags=TAGS))
    begin = udf.recv()
    assert begin.WhichOneof("message") == "begin"
    points = [udf.recv() for _ in range(begin.begin.size)]
    end = udf.recv()
    assert end.WhichOneof("message") == "end"
    return begin.begin, [p.point for p in points], end.end


def test_info_declares_a_batch_to_batch_udf_with_field_and_scale():
    udf = udfproc.UDFProcess.sample("outliers.py")
    try:
        info = udf.call(udfproc.info()).info
        assert (info.wants, info.provides) == (udf_pb2.BATCH, udf_pb2.BATCH)
        assert {name: list(o.valueTypes) for name, o in info.options.items()} == {
            "field": [udf_pb2.STRING], "scale": [udf_pb2.DOUBLE]}
    finally:
        udf.kill()


@pytest.mark.parametrize("options, error", [
    ({"scale": 2.0}, "must supply field name"),
    ({"field": "value", "scale": 0.5}, "invalid scale must be >= 1.0"),
])
def test_init_refuses_bad_options_with_the_reason(options, error):
    udf = udfproc.UDFProcess.sample("outliers.py")
    try:
        response = udf.call(udfproc.init(**options)).init
        assert (response.success, response.error) == (False, error)
    finally:
        udf.kill()


def test_the_points_outside_the_fences_come_back_as_a_batch():
    udf = started()
    try:
        begin, points, end = run_batch(udf, VALUES)
        assert (begin.name, begin.group, dict(begin.tags), begin.size) == ("cpu", "host=h1", TAGS, 2)
        assert [(p.time, p.fieldsDouble["value"]) for p in points] == [(180, 100.0), (190, -50.0)]
        assert (end.name, end.group, end.tmax, dict(end.tags)) == ("cpu", "host=h1", 190, TAGS)
    finally:
        udf.kill()


def test_a_wider_scale_finds_fewer_outliers():
    udf = started(scale=14.0)  # fences 11 - 70 = -59 and 16 + 70 = 86: only 100 is outside
    try:
        _, points, _ = run_batch(udf, VALUES)
        assert [p.fieldsDouble["value"] for p in points] == [100.0]
        begin, points, end = run_batch(udf, [1.0, 2.0, 3.0, 4.0])  # batches are independent
        assert (begin.size, points, end.tmax) == (0, [], 130)
    finally:
        udf.kill()


def test_quartiles_of_an_odd_count_leave_the_median_out_of_both_halves():
    import sys
    sys.path.insert(0, udfproc.SAMPLES)
    from outliers import tukey_fences

    # halves [1, 2, 3] and [5, 6, 100]: Q1 = 2, Q3 = 6, IQR = 4
    assert tukey_fences([100.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0], 1.5) == (-4.0, 12.0)
    assert tukey_fences([7.0], 1.5) is None
