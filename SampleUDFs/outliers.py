"""outliers: Kapacitor's Tukey-outlier example UDF (BATCH -> BATCH).

Options:
  .field('value')   STRING  the field to examine (float or integer values)
  .scale(1.5)       DOUBLE  fence distance in interquartile ranges (default 1.5, >= 1)

For every batch it computes the quartiles Q1 and Q3 (medians of the lower and upper halves of
the sorted values, the median itself excluded when the count is odd) and sends back a batch
holding only the points outside the fences ``[Q1 - scale*IQR, Q3 + scale*IQR]``, in the order
they arrived: a BeginBatch (size = number of outliers), the outlier points, then the EndBatch
it received. Points without the field are never outliers. Batches are independent, so
snapshots are empty.

Runs under Tock's agent or Kapacitor's (PYTHONPATH must contain the ``kapacitor`` package):
  python3 outliers.py
"""
import logging
import sys

from kapacitor.udf import udf_pb2
from kapacitor.udf.agent import Agent, Handler

logger = logging.getLogger("outliers")


def median(sorted_values):
    n = len(sorted_values)
    middle = n // 2
    if n % 2:
        return sorted_values[middle]
    return (sorted_values[middle - 1] + sorted_values[middle]) / 2.0


def tukey_fences(values, scale):
    """(lower, upper) fences of ``values``, or None when there are fewer than two."""
    ordered = sorted(values)
    n = len(ordered)
    if n < 2:
        return None
    first = median(ordered[:n // 2])
    third = median(ordered[(n + 1) // 2:])
    iqr = third - first
    return first - scale * iqr, third + scale * iqr


class OutliersHandler(Handler):
    def __init__(self, agent):
        self._agent = agent
        self._field = None
        self._scale = 1.5
        self._begin = None
        self._entries = []  # (value, point) of the current batch, in arrival order

    def info(self):
        response = udf_pb2.Response()
        response.info.wants = udf_pb2.BATCH
        response.info.provides = udf_pb2.BATCH
        response.info.options["field"].valueTypes.append(udf_pb2.STRING)
        response.info.options["scale"].valueTypes.append(udf_pb2.DOUBLE)
        return response

    def init(self, init_req):
        for opt in init_req.options:
            if opt.name == "field":
                self._field = opt.values[0].stringValue
            elif opt.name == "scale":
                self._scale = opt.values[0].doubleValue

        problems = []
        if not self._field:
            problems.append("must supply field name")
        if self._scale < 1.0:
            problems.append("invalid scale must be >= 1.0")

        response = udf_pb2.Response()
        response.init.success = not problems
        response.init.error = " ".join(problems)
        return response

    def snapshot(self):
        response = udf_pb2.Response()
        response.snapshot.snapshot = b""
        return response

    def restore(self, restore_req):
        response = udf_pb2.Response()
        response.restore.success = True
        return response

    def begin_batch(self, begin_req):
        self._begin = udf_pb2.BeginBatch()
        self._begin.CopyFrom(begin_req)
        self._entries = []

    def point(self, point):
        field = self._field
        if field in point.fieldsDouble:
            value = point.fieldsDouble[field]
        elif field in point.fieldsInt:
            value = float(point.fieldsInt[field])
        else:
            return
        # Copy: an agent may reuse the request object for the next message.
        kept = udf_pb2.Point()
        kept.CopyFrom(point)
        self._entries.append((value, kept))

    def end_batch(self, end_req):
        entries, self._entries = self._entries, []
        fences = tukey_fences([value for value, _ in entries], self._scale)
        outliers = []
        if fences is not None:
            lower, upper = fences
            outliers = [point for value, point in entries if value < lower or value > upper]

        response = udf_pb2.Response()
        if self._begin is not None:
            response.begin.CopyFrom(self._begin)
        else:
            response.begin.name = end_req.name
            response.begin.group = end_req.group
            response.begin.tags.update(end_req.tags)
            response.begin.byName = end_req.byName
        response.begin.size = len(outliers)
        self._begin = None
        self._agent.write_response(response)
        for point in outliers:
            response = udf_pb2.Response()
            response.point.CopyFrom(point)
            self._agent.write_response(response)
        response = udf_pb2.Response()
        response.end.CopyFrom(end_req)
        self._agent.write_response(response, True)


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO, stream=sys.stderr,
                        format="%(asctime)s %(levelname)s:%(name)s: %(message)s")
    agent = Agent()
    agent.handler = OutliersHandler(agent)
    logger.info("Starting Agent")
    agent.start()
    agent.wait()
    logger.info("Agent finished")
