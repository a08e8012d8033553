"""The notifier side of Tock's plugin protocol (see the package docstring)."""
import sys
import threading
from concurrent.futures import ThreadPoolExecutor

from . import plugin_pb2 as pb
from .wire import read_frame, write_frame

_TYPES = {
    "string": pb.OPTION_TYPE_STRING,
    "int": pb.OPTION_TYPE_INT,
    "float": pb.OPTION_TYPE_FLOAT,
    "bool": pb.OPTION_TYPE_BOOL,
    "duration": pb.OPTION_TYPE_DURATION,
    "string_list": pb.OPTION_TYPE_STRING_LIST,
    "string_map": pb.OPTION_TYPE_STRING_MAP,
}
_LEVELS = {pb.OK: "OK", pb.INFO: "INFO", pb.WARNING: "WARNING", pb.CRITICAL: "CRITICAL"}


class Option(object):
    """An option handlers may set: ``Option("url", "string", required=True, description="…")``."""

    def __init__(self, name, type="string", required=False, description=""):
        if type not in _TYPES:
            raise ValueError("option %s: type must be one of %s" % (name, ", ".join(sorted(_TYPES))))
        self.name = name
        self.type = type
        self.required = required
        self.description = description


class Delivered(object):
    outcome = pb.DELIVERED
    reason = ""
    after = 0


class Retry(object):
    """Another attempt may succeed, no sooner than ``after_seconds`` if given."""
    outcome = pb.RETRYABLE_FAILURE

    def __init__(self, reason, after_seconds=None):
        self.reason = reason
        self.after = int(after_seconds * 1e9) if after_seconds else 0


class Fail(object):
    """The event can never be delivered: it is dead-lettered with ``reason``."""
    outcome = pb.PERMANENT_FAILURE
    after = 0

    def __init__(self, reason):
        self.reason = reason


def _field(value):
    kind = value.WhichOneof("value")
    return getattr(value, kind) if kind else None


def _option(value):
    kind = value.WhichOneof("value")
    if kind == "string_list":
        return list(value.string_list.values)
    if kind == "string_map":
        return dict(value.string_map.values)
    if kind == "duration_value":
        return value.duration_value / 1e9
    return getattr(value, kind) if kind else None


def event_dict(e):
    """The event as a dict: Kapacitor's alert fields plus task, name, group, tags, fields, topic."""
    return {
        "id": e.id, "message": e.message, "details": e.details, "time": e.time, "duration": e.duration,
        "level": _LEVELS.get(e.level, "OK"), "previousLevel": _LEVELS.get(e.previous_level, "OK"),
        "recoverable": e.recoverable, "task": e.task, "name": e.name, "group": e.group,
        "tags": dict(e.tags), "fields": {k: _field(v) for k, v in e.fields.items()},
        "topic": e.topic, "category": e.category, "json": e.json,
    }


class Notifier(object):
    """Base class: set ``name``, ``version``, ``options``, ``max_in_flight``; implement ``notify``."""
    name = "notifier"
    version = "0"
    options = []
    #: Events handled at once (each in its own thread when more than one).
    max_in_flight = 1

    def notify(self, event, options):
        raise NotImplementedError("implement notify(event, options)")

    # The protocol.

    def run(self, stdin=None, stdout=None):
        """Serves the host until stdin closes."""
        self._in = stdin or sys.stdin.buffer
        self._out = stdout or sys.stdout.buffer
        self._lock = threading.Lock()
        pool = ThreadPoolExecutor(max_workers=max(1, self.max_in_flight)) if self.max_in_flight > 1 else None
        try:
            while True:
                data = self._read_frame()
                if data is None:
                    break
                request = pb.Request.FromString(data)
                kind = request.WhichOneof("message")
                if kind == "handshake":
                    self._write(pb.Response(handshake=pb.HandshakeResponse(
                        protocol_version=1, name=self.name, version=self.version, kind=pb.NOTIFIER,
                        max_in_flight=max(1, self.max_in_flight),
                        options=[pb.OptionInfo(name=o.name, type=_TYPES[o.type], required=o.required,
                                               description=o.description) for o in self.options])))
                elif kind == "keepalive":
                    self._write(pb.Response(keepalive=pb.KeepaliveResponse(time=request.keepalive.time)))
                elif kind == "notify":
                    if pool:
                        pool.submit(self._deliver, request.notify)
                    else:
                        self._deliver(request.notify)
        finally:
            if pool:
                pool.shutdown(wait=True)

    def _deliver(self, request):
        try:
            options = {k: _option(v) for k, v in request.options.items()}
            result = self.notify(event_dict(request.event), options)
            if result is None:
                result = Delivered()
        except Exception as e:  # an exception is a retryable failure with its text
            result = Retry("%s: %s" % (type(e).__name__, e))
        self._write(pb.Response(notified=pb.NotifiedResponse(
            delivery_id=request.delivery_id, outcome=result.outcome, reason=result.reason, retry_after=result.after)))

    def _write(self, response):
        with self._lock:
            write_frame(self._out, response.SerializeToString())

    def _read_frame(self):
        return read_frame(self._in)
