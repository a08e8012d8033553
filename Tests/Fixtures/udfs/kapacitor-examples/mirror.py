# Behaves as Kapacitor's udf/agent/examples/mirror/mirror.py (see README.md): a Unix-socket UDF server that
# echoes every point; its snapshot is a str, which fails under Python 3.
import sys
import logging

from kapacitor.udf.agent import Agent, Handler, Server
from kapacitor.udf import udf_pb2

logging.basicConfig(level=logging.DEBUG, format='%(asctime)s %(levelname)s:%(name)s: %(message)s')
log = logging.getLogger()


class Mirror(Handler):
    def __init__(self, agent):
        self._agent = agent

    def info(self):
        r = udf_pb2.Response()
        r.info.wants = udf_pb2.STREAM
        r.info.provides = udf_pb2.STREAM
        return r

    def init(self, init_req):
        r = udf_pb2.Response()
        r.init.success = True
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
        raise Exception("not supported")

    def point(self, point):
        r = udf_pb2.Response()
        r.point.CopyFrom(point)
        self._agent.write_response(r, True)

    def end_batch(self, end_req):
        raise Exception("not supported")


class Accepter(object):
    connections = 0

    def accept(self, conn, addr):
        self.connections += 1
        agent = Agent(conn, conn)
        agent.handler = Mirror(agent)
        log.info("agent for connection %d", self.connections)
        agent.start()
        agent.wait()
        log.info("connection %d done", self.connections)


if __name__ == '__main__':
    path = sys.argv[1] if len(sys.argv) == 2 else "/tmp/mirror.sock"
    server = Server(path, Accepter())
    log.info("serving on %s", path)
    server.serve()
