"""The printer demo's statistics in Python: the day from printer_data.py (seed 42), cut into
aligned 5-minute windows [k*300 s, (k+1)*300 s) with tmax at the window's end, through
ttest.py's handler (size 3600, alpha 0.001). This is the reference for the host's demo: every
planted anomaly alerts, plus the few false positives the guide warns about."""
import sys

import pytest

from kapacitor.udf import udf_pb2

import udfproc

sys.path.insert(0, udfproc.SAMPLES)
import printer_data  # noqa: E402
import ttest  # noqa: E402

ALPHA = 0.001
WINDOW = 300


class CollectingAgent(object):
    def __init__(self):
        self.responses = []

    def write_response(self, response, flush=False):
        self.responses.append(response)


def init_request(field):
    request = udf_pb2.InitRequest()
    for name, attribute, value in [("field", "stringValue", field), ("size", "intValue", 3600),
                                   ("alpha", "doubleValue", ALPHA)]:
        option = request.options.add()
        option.name = name
        setattr(option.values.add(), attribute, value)
    return request


@pytest.fixture(scope="module")
def rows():
    return list(printer_data.values(42))


def alerting_window_ends(rows, column, field):
    """Seconds since the start at which the windows with pvalue < alpha end."""
    agent = CollectingAgent()
    handler = ttest.TTestHandler(agent)
    assert handler.init(init_request(field)).init.success
    point = udf_pb2.Point()
    for k in range(len(rows) // WINDOW):
        handler.begin_batch(udf_pb2.BeginBatch(name="temperatures"))
        for row in rows[k * WINDOW:(k + 1) * WINDOW]:
            point.fieldsDouble[field] = row[column]
            handler.point(point)
        handler.end_batch(udf_pb2.EndBatch(name="temperatures",
                                           tmax=(printer_data.START + (k + 1) * WINDOW) * 10 ** 9))
    assert len(agent.responses) == len(rows) // WINDOW - 1  # every window but the first
    return [r.point.time // 10 ** 9 - printer_data.START for r in agent.responses
            if r.point.fieldsDouble["pvalue"] < ALPHA]


@pytest.mark.parametrize("column, field, anomaly_ends, false_positive_ends", [
    (1, "hotend", [3900], [13800]),                                 # 1 h; 3 h 50 m
    (2, "bed", [29100, 29400, 29700], [65100]),                     # 8 h; 18 h 05 m
    (3, "air", [43500, 43800, 44100, 44400, 44700, 45000], [48300]),  # 12 h; 13 h 25 m
])
def test_every_planted_anomaly_alerts_for_seed_42(rows, column, field, anomaly_ends,
                                                  false_positive_ends):
    assert alerting_window_ends(rows, column, field) == sorted(anomaly_ends + false_positive_ends)
