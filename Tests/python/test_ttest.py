"""SampleUDFs/ttest.py as a child process: Welch's t-test of each window against history."""
import json

import pytest
from scipy.stats import ttest_ind_from_stats

from kapacitor.udf import udf_pb2

import udfproc

SECOND = 1000000000
TAGS = {"printer": "p1"}
BASE = [1.0, 2.0, 3.0, 4.0, 5.0]
SHIFTED = [101.0, 102.0, 103.0, 104.0, 105.0]


def window(values, start):
    """A batch as the host sends it: begin, points one second apart, end at tmax."""
    return udfproc.batch(values, field="hotend", start=start * SECOND, step=SECOND,
                         name="temperatures", group="printer=p1", tags=TAGS)


def started(size=10, alpha=0.001):
    udf = udfproc.UDFProcess.sample("ttest.py")
    response = udf.call(udfproc.init(field="hotend", size=size, alpha=alpha))
    assert response.init.success, response.init.error
    return udf


def emitted_after(udf, *requests):
    """Responses the UDF emits for ``requests``: everything before the keepalive echo."""
    udf.send(*requests, udfproc.keepalive(77))
    out = []
    while True:
        response = udf.recv()
        if response.WhichOneof("message") == "keepalive":
            return out
        out.append(response)


@pytest.fixture
def udf():
    process = started()
    yield process
    process.kill()


def test_info_wants_batches_and_provides_a_stream_with_field_size_and_alpha():
    process = udfproc.UDFProcess.sample("ttest.py")
    try:
        info = process.call(udfproc.info()).info
        assert (info.wants, info.provides) == (udf_pb2.BATCH, udf_pb2.STREAM)
        assert {name: list(o.valueTypes) for name, o in info.options.items()} == {
            "field": [udf_pb2.STRING], "size": [udf_pb2.INT], "alpha": [udf_pb2.DOUBLE]}
    finally:
        process.kill()


@pytest.mark.parametrize("options, error", [
    ({"field": "hotend", "size": 1, "alpha": 0.01}, "must supply window size > 1"),
    ({"field": "", "size": 10, "alpha": 0.01}, "must supply a field name"),
    ({"field": "hotend", "size": 10, "alpha": 0.0}, "must supply an alpha value"),
    ({"size": 0}, "must supply window size > 1 must supply a field name must supply an alpha value"),
])
def test_init_refuses_bad_options_with_the_reason(options, error):
    process = udfproc.UDFProcess.sample("ttest.py")
    try:
        response = process.call(udfproc.init(**options)).init
        assert (response.success, response.error) == (False, error)
    finally:
        process.kill()


def test_the_first_window_only_fills_the_history(udf):
    assert emitted_after(udf, *window(BASE, 0)) == []


def test_a_window_like_the_history_gives_t_zero_and_pvalue_one_at_tmax(udf):
    emitted_after(udf, *window(BASE, 0))
    [response] = emitted_after(udf, *window(BASE, 5))
    p = response.point
    assert (p.time, p.name, p.group, dict(p.tags)) == (9 * SECOND, "temperatures", "printer=p1", TAGS)
    assert p.fieldsDouble["t"] == pytest.approx(0.0)
    assert p.fieldsDouble["pvalue"] == pytest.approx(1.0)


def test_a_shifted_window_is_significant_and_not_learned(udf):
    emitted_after(udf, *window(BASE, 0))
    [shifted] = emitted_after(udf, *window(SHIFTED, 5))
    # History 1..5 (mean 3, sd 1.5811) against 101..105 (mean 103, same sd), n = 5 each.
    t, p = ttest_ind_from_stats(3.0, 2.5 ** 0.5, 5, 103.0, 2.5 ** 0.5, 5, equal_var=False)
    assert shifted.point.fieldsDouble["pvalue"] < 0.001
    assert shifted.point.fieldsDouble["t"] == pytest.approx(t)
    assert shifted.point.fieldsDouble["pvalue"] == pytest.approx(p)
    # Had 101..105 been learned, the history mean would have moved and t would not be 0.
    [again] = emitted_after(udf, *window(BASE, 10))
    assert again.point.fieldsDouble["t"] == pytest.approx(0.0)


def test_the_history_keeps_only_the_last_size_values():
    udf = started(size=5, alpha=1e-9)
    try:
        emitted_after(udf, *window([10.0, 20.0, 30.0, 40.0, 50.0], 0))
        [first] = emitted_after(udf, *window([11.0, 21.0, 31.0, 41.0, 51.0], 5))
        assert first.point.fieldsDouble["pvalue"] > 1e-9  # learned: history is now 11..51
        [second] = emitted_after(udf, *window([11.0, 21.0, 31.0, 41.0, 51.0], 10))
        assert second.point.fieldsDouble["t"] == pytest.approx(0.0)
    finally:
        udf.kill()


def test_a_restored_snapshot_continues_exactly_like_the_original_process():
    history = [window([1.0, 2.5, 2.0, 3.5, 3.0], 0), window([2.0, 3.0, 2.5, 1.5, 2.0], 5)]
    later = [window([2.2, 2.8, 3.1, 1.9, 2.4], 10), window([2.0, 2.9, 3.3, 1.0, 2.6], 15)]
    original = started(size=7)
    try:
        for batch in history:
            emitted_after(original, *batch)
        data = original.call(udfproc.snapshot()).snapshot.snapshot
        assert len(json.loads(data)["histories"]["printer=p1"]["window"]) == 7
        expected = [emitted_after(original, *batch)[0].point for batch in later]
    finally:
        original.kill()

    restarted = started(size=7)
    try:
        assert restarted.call(udfproc.restore(data)).restore.success
        got = [emitted_after(restarted, *batch)[0].point for batch in later]
        assert got == expected
    finally:
        restarted.kill()


def test_an_invalid_snapshot_is_refused(udf):
    response = udf.call(udfproc.restore(b"{}")).restore
    assert not response.success
    assert response.error.startswith("invalid tTest snapshot")


def test_each_group_is_compared_with_its_own_history(udf):
    def group_window(values, start, printer):
        return udfproc.batch(values, field="hotend", start=start * SECOND, step=SECOND,
                             name="temperatures", group="printer=" + printer,
                             tags={"printer": printer})

    assert emitted_after(udf, *group_window(BASE, 0, "p1"), *group_window(SHIFTED, 0, "p2")) == []
    out = emitted_after(udf, *group_window(BASE, 5, "p1"), *group_window(SHIFTED, 5, "p2"))
    assert [(r.point.group, r.point.fieldsDouble["t"]) for r in out] == [
        ("printer=p1", pytest.approx(0.0)), ("printer=p2", pytest.approx(0.0))]
