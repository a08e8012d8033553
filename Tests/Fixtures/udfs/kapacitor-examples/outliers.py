# Behaves as Kapacitor's udf/agent/examples/outliers/outliers.py (see README.md): per batch, the points outside
# Tukey's fences [Q1 - scale*IQR, Q3 + scale*IQR], sent back as a batch; its snapshot is a str, which fails
# under Python 3. Quartiles as Kapacitor's example computes them (with integer division for Python 3).
import logging

from kapacitor.udf.agent import Agent, Handler
from kapacitor.udf import udf_pb2

logging.basicConfig(level=logging.DEBUG, format='%(asctime)s %(levelname)s:%(name)s: %(message)s')
log = logging.getLogger()


def median(entries):
    n = len(entries)
    m = n // 2
    if n % 2 == 0:
        return m, m + 1, (entries[m][0] + entries[m + 1][0]) / 2.0
    return m, m, entries[m][0]


class Outliers(Handler):
    def __init__(self, agent):
        self._agent = agent
        self._field = None
        self._scale = 1.5
        self._entries = []

    def info(self):
        r = udf_pb2.Response()
        r.info.wants = udf_pb2.BATCH
        r.info.provides = udf_pb2.BATCH
        r.info.options['field'].valueTypes.append(udf_pb2.STRING)
        r.info.options['scale'].valueTypes.append(udf_pb2.DOUBLE)
        return r

    def init(self, init_req):
        for opt in init_req.options:
            if opt.name == 'field':
                self._field = opt.values[0].stringValue
            elif opt.name == 'scale':
                self._scale = opt.values[0].doubleValue
        problems = []
        if self._field is None:
            problems.append('must supply field name')
        if self._scale < 1.0:
            problems.append('invalid scale must be >= 1.0')
        r = udf_pb2.Response()
        r.init.success = not problems
        r.init.error = ' '.join(problems)
        return r

    def snapshot(self):
        r = udf_pb2.Response()
        r.snapshot.snapshot = ''  # a str: TypeError under Python 3
        return r

    def restore(self, restore_req):
        r = udf_pb2.Response()
        r.restore.success = False
        r.restore.error = 'not implemented'
        return r

    def begin_batch(self, begin_req):
        self._entries = []
        r = udf_pb2.Response()
        r.begin.CopyFrom(begin_req)
        self._agent.write_response(r)

    def point(self, point):
        self._entries.append((point.fieldsDouble[self._field], point))

    def end_batch(self, end_req):
        entries = sorted(self._entries, key=lambda e: e[0])
        left, right, _ = median(entries)
        _, first, q1 = median(entries[:right])
        third, _, q3 = median(entries[left + 1:])
        iqr = q3 - q1
        lower, upper = q1 - iqr * self._scale, q3 + iqr * self._scale
        r = udf_pb2.Response()
        for value, point in entries[:first]:
            if value < lower:
                r.point.CopyFrom(point)
                self._agent.write_response(r)
        for value, point in entries[left + 1 + third + 1:]:
            if value > upper:
                r.point.CopyFrom(point)
                self._agent.write_response(r)
        r.end.CopyFrom(end_req)
        self._agent.write_response(r)


if __name__ == '__main__':
    agent = Agent()
    agent.handler = Outliers(agent)
    log.info("starting agent")
    agent.start()
    agent.wait()
    log.info("agent finished")
