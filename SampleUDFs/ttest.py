"""tTest: the UDF of Kapacitor's "Custom anomaly detection" guide (the 3D-printer demo).

Wants BATCH (windows of points), provides STREAM. Options:
  .field('hotend')   STRING  the field to test
  .size(3600)        INT     how many accepted values the rolling history keeps (> 1)
  .alpha(0.001)      DOUBLE  significance level (0 < alpha < 1)

For every window it runs Welch's t-test (unequal variances) between the history and the window
and emits one point at the window's tmax, with the window's name, group and tags and fields
``t`` and ``pvalue``. The first window only fills the history. A window joins the history only
if ``pvalue > alpha``: anomalies are not learned. Each group (``groupBy``) has its own history;
the guide's single-series task has one. The p-value is computed as scipy's ttest_ind_from_stats does
(to 1e-8 relative) but in plain Python, so the process starts in milliseconds rather than seconds.
Snapshots hold the histories as JSON, so a restarted
task continues exactly where it stopped.

Runs under Tock's agent or Kapacitor's (PYTHONPATH must contain the ``kapacitor`` package):
  python3 ttest.py
"""
import json
import math
import sys
from collections import deque

from kapacitor.udf import udf_pb2
from kapacitor.udf.agent import Agent, Handler


def _beta_continued_fraction(a, b, x):
    """Lentz's continued fraction for the regularized incomplete beta function."""
    tiny = 1e-300
    c, d = 1.0, 1.0 - (a + b) * x / (a + 1.0)
    d = 1.0 / (d if abs(d) > tiny else tiny)
    h = d
    for m in range(1, 400):
        m2 = 2 * m
        for aa in (m * (b - m) * x / ((a - 1.0 + m2) * (a + m2)),
                   -(a + m) * (a + b + m) * x / ((a + m2) * (a + 1.0 + m2))):
            d = 1.0 + aa * d
            d = 1.0 / (d if abs(d) > tiny else tiny)
            c = 1.0 + aa / c
            c = c if abs(c) > tiny else tiny
            h *= d * c
        if abs(d * c - 1.0) < 1e-15:
            break
    return h


def regularized_incomplete_beta(a, b, x):
    """I_x(a, b), from its continued fraction on whichever side converges fast."""
    if x <= 0.0:
        return 0.0
    if x >= 1.0:
        return 1.0
    front = math.exp(math.lgamma(a + b) - math.lgamma(a) - math.lgamma(b)
                     + a * math.log(x) + b * math.log1p(-x))
    if x < (a + 1.0) / (a + b + 2.0):
        return front * _beta_continued_fraction(a, b, x) / a
    return 1.0 - front * _beta_continued_fraction(b, a, 1.0 - x) / b


def welch_ttest(mean1, std1, n1, mean2, std2, n2):
    """(t, pvalue) of Welch's two-sided t-test from summary statistics (sample standard deviations),
    as scipy.stats.ttest_ind_from_stats(..., equal_var=False) computes it, without importing scipy
    (which takes seconds per process)."""
    v1, v2 = std1 * std1 / n1, std2 * std2 / n2
    se2 = v1 + v2
    if se2 == 0.0 or n1 < 2 or n2 < 2:
        return float("nan"), float("nan")
    t = (mean1 - mean2) / math.sqrt(se2)
    df = se2 * se2 / (v1 * v1 / (n1 - 1) + v2 * v2 / (n2 - 1))
    return t, regularized_incomplete_beta(df / 2.0, 0.5, df / (df + t * t))


class MovingStats(object):
    """Mean and variance of the last ``size`` values (``size == -1``: all values), updated
    incrementally with Welford's algorithm, including the removal of the oldest value."""

    def __init__(self, size):
        if not (size == -1 or size > 1):
            raise ValueError("size must be -1 or > 1, got %d" % size)
        self.size = size
        self.window = deque()
        self.n = 0
        self.mean = 0.0
        self._s = 0.0  # sum of squared differences from the mean

    def stddev(self):
        """Sample standard deviation (0 for fewer than two values)."""
        if self.n < 2:
            return 0.0
        return math.sqrt(max(self._s, 0.0) / (self.n - 1))

    def update(self, value):
        self.n += 1
        diff = value - self.mean
        self.mean += diff / self.n
        self._s += diff * (value - self.mean)
        if self.n == self.size + 1:
            old = self.window.popleft()
            old_mean = (self.n * self.mean - old) / (self.n - 1)
            self._s -= (old - self.mean) * (old - old_mean)
            self.mean = old_mean
            self.n -= 1
        self.window.append(value)

    def to_json(self):
        return {"size": self.size, "n": self.n, "mean": self.mean, "s": self._s,
                "window": list(self.window)}

    @classmethod
    def from_json(cls, data, size):
        """Rebuilds the stats saved by ``to_json``. If ``size`` differs from the saved size
        (the task was changed), the newest ``size`` values are replayed instead."""
        window = [float(v) for v in data["window"]]
        stats = cls(size)
        if int(data["size"]) == size and int(data["n"]) == len(window):
            stats.window = deque(window)
            stats.n = len(window)
            stats.mean = float(data["mean"])
            stats._s = float(data["s"])
        else:
            for value in window[-size:] if size > 0 else window:
                stats.update(value)
        return stats


def batch_stats(values):
    """(mean, sample stddev, count) of a window's values, by Welford's algorithm."""
    stats = MovingStats(-1)
    for value in values:
        stats.update(value)
    return stats.mean, stats.stddev(), stats.n


class TTestHandler(Handler):
    def __init__(self, agent):
        self._agent = agent
        self._field = ""
        self._size = 0
        self._alpha = 0.0
        self._ready = False  # init succeeded
        self._histories = {}  # group -> MovingStats of accepted values
        self._group = ""  # group of the window being received
        self._batch = None  # values of the window being received, None outside a window
        self._missing_logged = False

    def info(self):
        response = udf_pb2.Response()
        response.info.wants = udf_pb2.BATCH
        response.info.provides = udf_pb2.STREAM
        response.info.options["field"].valueTypes.append(udf_pb2.STRING)
        response.info.options["size"].valueTypes.append(udf_pb2.INT)
        response.info.options["alpha"].valueTypes.append(udf_pb2.DOUBLE)
        return response

    def init(self, init_req):
        for opt in init_req.options:
            if opt.name == "field":
                self._field = opt.values[0].stringValue
            elif opt.name == "size":
                self._size = opt.values[0].intValue
            elif opt.name == "alpha":
                self._alpha = opt.values[0].doubleValue

        problems = []
        if self._size <= 1:
            problems.append("must supply window size > 1")
        if self._field == "":
            problems.append("must supply a field name")
        if self._alpha == 0:
            problems.append("must supply an alpha value")
        elif not 0 < self._alpha < 1:
            problems.append("alpha must be between 0 and 1, got %g" % self._alpha)

        response = udf_pb2.Response()
        response.init.success = not problems
        response.init.error = " ".join(problems)
        if not problems:
            self._ready = True
        return response

    def snapshot(self):
        state = {
            "field": self._field,
            "histories": {group: h.to_json() for group, h in self._histories.items()},
            "group": self._group,
            "batch": self._batch,
        }
        response = udf_pb2.Response()
        response.snapshot.snapshot = json.dumps(state).encode("utf-8")
        return response

    def restore(self, restore_req):
        response = udf_pb2.Response()
        try:
            state = json.loads(restore_req.snapshot.decode("utf-8"))
            histories = {}
            for group, saved in state["histories"].items():
                size = self._size if self._size > 1 else int(saved["size"])
                histories[group] = MovingStats.from_json(saved, size)
            batch = state.get("batch")
            self._histories = histories
            self._group = str(state.get("group", ""))
            self._batch = [float(v) for v in batch] if batch is not None else None
            response.restore.success = True
        except Exception as e:
            response.restore.success = False
            response.restore.error = "invalid tTest snapshot: %s" % e
        return response

    def begin_batch(self, begin_req):
        self._group = begin_req.group
        self._batch = []

    def point(self, point):
        if self._batch is None:
            raise Exception("received a point outside a batch; tTest wants batches")
        field = self._field
        if field in point.fieldsDouble:
            self._batch.append(point.fieldsDouble[field])
        elif field in point.fieldsInt:
            self._batch.append(float(point.fieldsInt[field]))
        elif not self._missing_logged:
            self._missing_logged = True
            sys.stderr.write("tTest: points without field %r are ignored\n" % field)

    def end_batch(self, end_req):
        values, self._batch = self._batch or [], None
        if not self._ready:
            raise Exception("received data before a successful init")
        history = self._histories.get(end_req.group)
        if history is None:
            history = self._histories[end_req.group] = MovingStats(self._size)
        if history.n == 0:
            # Nothing to compare with yet: the first window becomes the baseline.
            for value in values:
                history.update(value)
            return
        mean, stddev, n = batch_stats(values)
        if n < 2:
            return  # no variance estimate: no test, nothing learned
        t, pvalue = welch_ttest(history.mean, history.stddev(), history.n, mean, stddev, n)
        if math.isnan(t) or math.isnan(pvalue):
            return  # both samples constant: the test is undefined
        response = udf_pb2.Response()
        response.point.time = end_req.tmax
        response.point.name = end_req.name
        response.point.group = end_req.group
        response.point.tags.update(end_req.tags)
        response.point.fieldsDouble["t"] = t
        response.point.fieldsDouble["pvalue"] = pvalue
        self._agent.write_response(response, True)
        if pvalue > self._alpha:
            for value in values:
                history.update(value)


if __name__ == "__main__":
    agent = Agent()
    agent.handler = TTestHandler(agent)
    sys.stderr.write("Starting agent for TTestHandler\n")
    agent.start()
    agent.wait()
    sys.stderr.write("Agent finished\n")
