"""mirror: a STREAM -> STREAM UDF that sends every point back unchanged (BATCH -> BATCH with --batch).

Kapacitor's mirror example, usable two ways:
  python3 mirror.py                  # one process per task node, over stdin/stdout
  python3 mirror.py --socket PATH    # one server for all nodes, over a Unix socket
  python3 mirror.py PATH             # the same, as Kapacitor's mirror is started

Runs under Tock's agent or Kapacitor's (PYTHONPATH must contain the ``kapacitor`` package).
"""
import argparse
import logging
import signal
import sys

from kapacitor.udf import udf_pb2
from kapacitor.udf.agent import Agent, Handler, Server

logger = logging.getLogger("mirror")


class MirrorHandler(Handler):
    """Echoes points; stateless, so snapshots are empty and restoring one always succeeds."""

    def __init__(self, agent, batch=False):
        self._agent = agent
        self._batch = batch
        # Kapacitor's agent only delivers flushed data; Tock's flushes by itself when idle.
        self._flush = not getattr(agent, "auto_flush", False)

    def info(self):
        response = udf_pb2.Response()
        edge = udf_pb2.BATCH if self._batch else udf_pb2.STREAM
        response.info.wants = edge
        response.info.provides = edge
        return response

    def init(self, init_req):
        response = udf_pb2.Response()
        response.init.success = True
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
        if not self._batch:
            raise Exception("mirror wants a stream, not batches (start it with --batch)")
        response = udf_pb2.Response()
        response.begin.CopyFrom(begin_req)
        self._agent.write_response(response, self._flush)

    def point(self, point):
        response = udf_pb2.Response()
        response.point.CopyFrom(point)
        self._agent.write_response(response, self._flush)

    def end_batch(self, end_req):
        if not self._batch:
            raise Exception("mirror wants a stream, not batches (start it with --batch)")
        response = udf_pb2.Response()
        response.end.CopyFrom(end_req)
        self._agent.write_response(response, self._flush)


class Accepter(object):
    """Runs one agent per socket connection."""

    def __init__(self, batch=False):
        self._count = 0
        self._batch = batch

    def accept(self, conn, addr):
        self._count += 1
        number = self._count
        agent = Agent(conn, conn)
        agent.handler = MirrorHandler(agent, batch=self._batch)
        logger.info("connection %d: agent started", number)
        agent.start()
        agent.wait()
        logger.info("connection %d: agent finished", number)


def main(argv=None):
    parser = argparse.ArgumentParser(description="Mirror UDF: echoes every point.")
    parser.add_argument("--socket", metavar="PATH", help="serve this Unix socket instead of stdio")
    parser.add_argument("--batch", action="store_true", help="want and provide batches instead of a stream")
    parser.add_argument("path", nargs="?", help="same as --socket PATH (Kapacitor's mirror usage)")
    args = parser.parse_args(argv)
    if args.path and args.socket and args.path != args.socket:
        parser.error("give the socket path once")
    args.socket = args.socket or args.path
    logging.basicConfig(level=logging.INFO, stream=sys.stderr,
                        format="%(asctime)s %(levelname)s:%(name)s: %(message)s")
    if args.socket:
        server = Server(args.socket, Accepter(batch=args.batch))
        # SIGTERM stops accepting and removes the socket file; open connections finish.
        signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(0))
        logger.info("serving %s", args.socket)
        server.serve()
    else:
        agent = Agent()
        agent.handler = MirrorHandler(agent, batch=args.batch)
        agent.start()
        agent.wait()


if __name__ == "__main__":
    main()
