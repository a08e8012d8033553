"""movingAvg: Kapacitor's moving-average example UDF (STREAM -> STREAM).

Options:
  .field('value')   STRING  the field to average (float or integer values)
  .size(10)         INT     how many of the latest values to average (> 0)
  .as('avg')        STRING  name of the output field (default 'avg')

Keeps one window per group (``point.group``) and emits, for every point, a copy of it whose
fields are replaced by the single float field ``as``: the mean of the group's last ``size``
values. Points without the field are skipped. Snapshots are JSON
``{group: {"size": n, "window": [...], "avg": x}}``, the format of Kapacitor's example.

Runs under Tock's agent or Kapacitor's (PYTHONPATH must contain the ``kapacitor`` package):
  python3 moving_avg.py
"""
import json
import logging
import sys
from collections import deque

from kapacitor.udf import udf_pb2
from kapacitor.udf.agent import Agent, Handler

logger = logging.getLogger("moving_avg")

# Typed field maps of a point (older generated code has no fieldsBool).
_FIELD_MAPS = [name for name in ("fieldsDouble", "fieldsInt", "fieldsString", "fieldsBool")
               if name in udf_pb2.Point.DESCRIPTOR.fields_by_name]


class AvgState(object):
    """The last ``size`` values of one group and their mean (updated incrementally)."""

    def __init__(self, size):
        self.size = size
        self.window = deque()
        self.avg = 0.0

    def update(self, value):
        count = float(len(self.window))
        if count >= self.size:
            # Full window: the oldest value leaves as the new one enters.
            self.avg += value / count - self.window.popleft() / count
        else:
            self.avg = (value + count * self.avg) / (count + 1)
        self.window.append(value)
        return self.avg

    def snapshot(self):
        return {"size": self.size, "window": list(self.window), "avg": self.avg}

    @classmethod
    def restored(cls, data):
        state = cls(int(data["size"]))
        state.window = deque(float(v) for v in data["window"])
        state.avg = float(data["avg"])
        return state


class AvgHandler(Handler):
    def __init__(self, agent):
        self._agent = agent
        self._field = None
        self._size = 0
        self._as = "avg"
        self._state = {}
        self._flush = not getattr(agent, "auto_flush", False)
        self._missing_logged = False

    def info(self):
        response = udf_pb2.Response()
        response.info.wants = udf_pb2.STREAM
        response.info.provides = udf_pb2.STREAM
        response.info.options["field"].valueTypes.append(udf_pb2.STRING)
        response.info.options["size"].valueTypes.append(udf_pb2.INT)
        response.info.options["as"].valueTypes.append(udf_pb2.STRING)
        return response

    def init(self, init_req):
        for opt in init_req.options:
            if opt.name == "field":
                self._field = opt.values[0].stringValue
            elif opt.name == "size":
                self._size = opt.values[0].intValue
            elif opt.name == "as":
                self._as = opt.values[0].stringValue

        problems = []
        if not self._field:
            problems.append("must supply field name")
        if self._size <= 0:
            problems.append("must supply window size")
        if self._as == "":
            problems.append("invalid as name")

        response = udf_pb2.Response()
        response.init.success = not problems
        response.init.error = " ".join(problems)
        return response

    def snapshot(self):
        data = {group: state.snapshot() for group, state in self._state.items()}
        response = udf_pb2.Response()
        response.snapshot.snapshot = json.dumps(data).encode("utf-8")
        return response

    def restore(self, restore_req):
        response = udf_pb2.Response()
        try:
            data = json.loads(restore_req.snapshot.decode("utf-8")) if restore_req.snapshot else {}
            self._state = {group: AvgState.restored(saved) for group, saved in data.items()}
            response.restore.success = True
        except Exception as e:
            response.restore.success = False
            response.restore.error = "invalid movingAvg snapshot: %s" % e
        return response

    def begin_batch(self, begin_req):
        raise Exception("not supported: movingAvg wants a stream")

    def point(self, point):
        field = self._field
        if field in point.fieldsDouble:
            value = point.fieldsDouble[field]
        elif field in point.fieldsInt:
            value = float(point.fieldsInt[field])
        else:
            if not self._missing_logged:
                self._missing_logged = True
                logger.warning("points without field %r are skipped", field)
            return
        state = self._state.get(point.group)
        if state is None:
            state = self._state[point.group] = AvgState(self._size)

        response = udf_pb2.Response()
        out = response.point
        out.CopyFrom(point)
        for name in _FIELD_MAPS:
            out.ClearField(name)
        out.fieldsDouble[self._as] = state.update(value)
        self._agent.write_response(response, self._flush)

    def end_batch(self, end_req):
        raise Exception("not supported: movingAvg wants a stream")


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO, stream=sys.stderr,
                        format="%(asctime)s %(levelname)s:%(name)s: %(message)s")
    agent = Agent()
    agent.handler = AvgHandler(agent)
    logger.info("Starting Agent")
    agent.start()
    agent.wait()
    logger.info("Agent finished")
