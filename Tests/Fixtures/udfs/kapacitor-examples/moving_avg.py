# Behaves as Kapacitor's udf/agent/examples/moving_avg/moving_avg.py (see README.md): per group, the mean of
# the last `size` values of `field`, sent as the only field `as`; its snapshot is a str (json.dumps), which
# fails under Python 3.
import json
import logging

from kapacitor.udf.agent import Agent, Handler
from kapacitor.udf import udf_pb2

logging.basicConfig(level=logging.DEBUG, format='%(asctime)s %(levelname)s:%(name)s: %(message)s')
log = logging.getLogger()


class Window(object):
    def __init__(self, size):
        self.size = size
        self.values = []
        self.avg = 0.0

    def add(self, value):
        n = float(len(self.values))
        if n == self.size:
            self.avg += value / n - self.values[0] / n
            self.values.pop(0)
        else:
            self.avg = (value + n * self.avg) / (n + 1)
        self.values.append(value)
        return self.avg


class MovingAverage(Handler):
    def __init__(self, agent):
        self._agent = agent
        self._field = None
        self._size = 0
        self._as = 'avg'
        self._groups = {}

    def info(self):
        r = udf_pb2.Response()
        r.info.wants = udf_pb2.STREAM
        r.info.provides = udf_pb2.STREAM
        r.info.options['field'].valueTypes.append(udf_pb2.STRING)
        r.info.options['size'].valueTypes.append(udf_pb2.INT)
        r.info.options['as'].valueTypes.append(udf_pb2.STRING)
        return r

    def init(self, init_req):
        for opt in init_req.options:
            if opt.name == 'field':
                self._field = opt.values[0].stringValue
            elif opt.name == 'size':
                self._size = opt.values[0].intValue
            elif opt.name == 'as':
                self._as = opt.values[0].stringValue
        problems = []
        if self._field is None:
            problems.append('must supply field name')
        if self._size == 0:
            problems.append('must supply window size')
        r = udf_pb2.Response()
        r.init.success = not problems
        r.init.error = ' '.join(problems)
        return r

    def snapshot(self):
        data = dict((g, {'size': w.size, 'window': w.values, 'avg': w.avg}) for g, w in self._groups.items())
        r = udf_pb2.Response()
        r.snapshot.snapshot = json.dumps(data)  # a str: TypeError under Python 3
        return r

    def restore(self, restore_req):
        r = udf_pb2.Response()
        r.restore.success = False
        r.restore.error = 'not implemented'
        return r

    def begin_batch(self, begin_req):
        raise Exception("not supported")

    def point(self, point):
        r = udf_pb2.Response()
        r.point.CopyFrom(point)
        r.point.ClearField('fieldsInt')
        r.point.ClearField('fieldsString')
        r.point.ClearField('fieldsDouble')
        value = point.fieldsDouble[self._field]
        window = self._groups.setdefault(point.group, Window(self._size))
        r.point.fieldsDouble[self._as] = window.add(value)
        self._agent.write_response(r)

    def end_batch(self, end_req):
        raise Exception("not supported")


if __name__ == '__main__':
    agent = Agent()
    agent.handler = MovingAverage(agent)
    log.info("starting agent")
    agent.start()
    agent.wait()
    log.info("agent finished")
