"""The collector side of Tock's plugin protocol (see the package docstring)."""
import sys
import threading
import time as _time

from . import plugin_pb2 as pb
from .notifier import Option, _TYPES, _option
from .wire import read_frame, write_frame


class Collector(object):
    """Base class: set ``name``, ``version``, ``options``, ``interval`` (seconds, the default when the host's
    section sets none) and ``streaming``; implement ``gather`` (polled) or call ``emit`` on your own schedule
    (streaming, from ``start``).

    ``gather(time, options)`` returns points: dicts ``{"name": …, "tags": {…}, "fields": {…}, "time": ns}``
    (``tags`` and ``time`` optional; a point without a time gets the gather's). Raising an exception reports the
    gather failed, with its text, and the host counts the collector down for that run.
    """
    name = "collector"
    version = "0"
    options = []
    #: Seconds between gathers when the host's section does not set an interval (0: the host's default).
    interval = 0
    #: True: the plugin sends points when it has them (``emit``), the host does not ask.
    streaming = False

    def gather(self, time, options):
        raise NotImplementedError("implement gather(time, options), or set streaming = True and call emit()")

    def start(self, options):
        """Called once after the handshake, with the configured options; a streaming collector starts its thread."""

    def emit(self, points):
        """Sends points now (streaming collectors)."""
        self._send(pb.Response(points=pb.PointsResponse(gather_id=0, points=[_point(p) for p in points])))

    # The protocol.

    def run(self, stdin=None, stdout=None):
        """Serves the host until stdin closes."""
        self._in = stdin or sys.stdin.buffer
        self._out = stdout or sys.stdout.buffer
        self._lock = threading.Lock()
        self._options = {}
        while True:
            data = read_frame(self._in)
            if data is None:
                break
            request = pb.Request.FromString(data)
            kind = request.WhichOneof("message")
            if kind == "handshake":
                self._options = {k: _option(v) for k, v in request.handshake.options.items()}
                self._send(pb.Response(handshake=pb.HandshakeResponse(
                    protocol_version=1, name=self.name, version=self.version, kind=pb.COLLECTOR,
                    default_interval=int(self.interval * 1e9),
                    mode=pb.STREAMING if self.streaming else pb.POLLED,
                    options=[pb.OptionInfo(name=o.name, type=_TYPES[o.type], required=o.required,
                                           description=o.description) for o in self.options])))
                self.start(self._options)
            elif kind == "keepalive":
                self._send(pb.Response(keepalive=pb.KeepaliveResponse(time=request.keepalive.time)))
            elif kind == "gather" and not self.streaming:
                self._gather(request.gather)

    def _gather(self, request):
        try:
            points = self.gather(request.time, self._options) or []
            response = pb.PointsResponse(gather_id=request.gather_id, points=[_point(p) for p in points], done=True)
        except Exception as e:  # the gather failed; the plugin goes on
            response = pb.PointsResponse(gather_id=request.gather_id, done=True, error="%s: %s" % (type(e).__name__, e))
        self._send(pb.Response(points=response))

    def _send(self, response):
        with self._lock:
            write_frame(self._out, response.SerializeToString())


def _value(v):
    value = pb.FieldValue()
    if isinstance(v, bool):
        value.bool_value = v
    elif isinstance(v, int):
        value.int_value = v
    elif isinstance(v, float):
        value.double_value = v
    elif isinstance(v, str):
        value.string_value = v
    else:
        raise TypeError("field value %r is not a bool, int, float or str" % (v,))
    return value


def _point(p):
    return pb.Point(name=p["name"], tags={k: str(v) for k, v in p.get("tags", {}).items()},
                    fields={k: _value(v) for k, v in p["fields"].items()}, time=int(p.get("time", 0)))


def now():
    """Nanoseconds since the Unix epoch."""
    return _time.time_ns()
