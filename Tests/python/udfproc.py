"""Test helpers: run a UDF as a child process and talk to it with framed protobuf messages,
the way the host does (requests on stdin, responses on stdout)."""
import os
import queue
import subprocess
import sys
import threading

from kapacitor.udf import udf_pb2
from kapacitor.udf.agent import EOF, decodeUvarint32, encodeUvarint

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
# The agent package the child UDFs import. TOCK_UDF_AGENT_PATH points them at another one, e.g.
# Kapacitor's udf/agent/py, to check that the sample UDFs also run under Kapacitor's agent.
PYTHONPATH = os.environ.get("TOCK_UDF_AGENT_PATH") or os.path.join(ROOT, "Protocol", "python")
SAMPLES = os.path.join(ROOT, "SampleUDFs")

# Guards against a hung child only; no test asserts how fast anything is.
WAIT = 20.0


def child_env():
    """The child's environment: our SDK on PYTHONPATH and Python's stdio buffering left on
    (no PYTHONUNBUFFERED, no -u), so the agent's own flushing is what delivers responses."""
    env = dict(os.environ)
    env.pop("PYTHONUNBUFFERED", None)
    env["PYTHONPATH"] = PYTHONPATH
    return env


def frame(message):
    data = message.SerializeToString()
    out = _Sink()
    encodeUvarint(out, len(data))
    return out.data + data


class _Sink(object):
    def __init__(self):
        self.data = b""

    def write(self, b):
        self.data += b
        return len(b)


class UDFProcess(object):
    """A UDF child process; ``send`` writes requests, ``recv`` returns the next response."""

    def __init__(self, args):
        self.proc = subprocess.Popen([sys.executable] + list(args), stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                     env=child_env(), cwd=ROOT)
        self._responses = queue.Queue()
        self._stderr = []
        self._threads = [threading.Thread(target=self._read, daemon=True),
                         threading.Thread(target=self._drain_stderr, daemon=True)]
        for thread in self._threads:
            thread.start()

    @classmethod
    def sample(cls, name, *extra):
        return cls([os.path.join(SAMPLES, name)] + list(extra))

    def _read(self):
        out = self.proc.stdout
        try:
            while True:
                size = decodeUvarint32(out)
                response = udf_pb2.Response()
                response.ParseFromString(out.read(size))
                self._responses.put(response)
        except EOF:
            self._responses.put(None)
        except Exception as e:  # surfaced to the test by recv
            self._responses.put(e)

    def _drain_stderr(self):
        for line in self.proc.stderr:
            self._stderr.append(line.decode("utf-8", "replace"))

    @property
    def stderr(self):
        return "".join(self._stderr)

    def send(self, *requests):
        self.proc.stdin.write(b"".join(frame(r) for r in requests))
        self.proc.stdin.flush()

    def recv(self):
        try:
            response = self._responses.get(timeout=WAIT)
        except queue.Empty:
            raise AssertionError("no response from the UDF; stderr:\n" + self.stderr)
        if isinstance(response, Exception):
            raise response
        if response is None:
            raise AssertionError("the UDF closed its output; stderr:\n" + self.stderr)
        return response

    def recv_n(self, n):
        return [self.recv() for _ in range(n)]

    def call(self, request):
        self.send(request)
        return self.recv()

    def close(self):
        """Closes stdin, collects the remaining responses and waits for the exit code."""
        if not self.proc.stdin.closed:
            self.proc.stdin.close()
        rest = []
        while True:
            try:
                response = self._responses.get(timeout=WAIT)
            except queue.Empty:
                self.proc.kill()
                raise AssertionError("the UDF did not finish after stdin closed")
            if response is None or isinstance(response, Exception):
                break
            rest.append(response)
        self.returncode = self.proc.wait(timeout=WAIT)
        self._release()
        return rest

    def kill(self):
        """Ends the process if it still runs and releases its pipes (safe to call twice)."""
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()
        self._release()

    def _release(self):
        for thread in self._threads:
            thread.join(WAIT)
        for pipe in (self.proc.stdin, self.proc.stdout, self.proc.stderr):
            try:
                pipe.close()
            except (OSError, ValueError):
                pass


# ---- request builders ----

def info():
    request = udf_pb2.Request()
    request.info.SetInParent()
    return request


def init(task="task", node="node", **options):
    """An InitRequest; option values map bool/int/float/str to BOOL/INT/DOUBLE/STRING."""
    request = udf_pb2.Request()
    request.init.taskID = task
    request.init.nodeID = node
    for name, value in options.items():
        option = request.init.options.add()
        option.name = name
        opt_value = option.values.add()
        if isinstance(value, bool):
            opt_value.type, opt_value.boolValue = udf_pb2.BOOL, value
        elif isinstance(value, int):
            opt_value.type, opt_value.intValue = udf_pb2.INT, value
        elif isinstance(value, float):
            opt_value.type, opt_value.doubleValue = udf_pb2.DOUBLE, value
        else:
            opt_value.type, opt_value.stringValue = udf_pb2.STRING, value
    return request


def keepalive(time):
    request = udf_pb2.Request()
    request.keepalive.time = time
    return request


def snapshot():
    request = udf_pb2.Request()
    request.snapshot.SetInParent()
    return request


def restore(data):
    request = udf_pb2.Request()
    request.restore.snapshot = data
    return request


def point(time, group="", tags=None, name="", **fields):
    request = udf_pb2.Request()
    p = request.point
    p.time = time
    p.name = name
    p.group = group
    p.tags.update(tags or {})
    for key, value in fields.items():
        if isinstance(value, bool):
            p.fieldsBool[key] = value
        elif isinstance(value, int):
            p.fieldsInt[key] = value
        elif isinstance(value, float):
            p.fieldsDouble[key] = value
        else:
            p.fieldsString[key] = value
    return request


def begin(name="m", group="", tags=None, size=0):
    request = udf_pb2.Request()
    request.begin.name = name
    request.begin.group = group
    request.begin.tags.update(tags or {})
    request.begin.size = size
    return request


def end(tmax, name="m", group="", tags=None):
    request = udf_pb2.Request()
    request.end.name = name
    request.end.group = group
    request.end.tmax = tmax
    request.end.tags.update(tags or {})
    return request


def batch(values, field="value", start=0, step=1, name="m", group="", tags=None):
    """begin, one point per value (times start, start+step, ...), end with tmax = last time."""
    requests = [begin(name, group, tags, len(values))]
    times = [start + i * step for i in range(len(values))]
    for t, v in zip(times, values):
        requests.append(point(t, group=group, tags=tags, **{field: float(v)}))
    requests.append(end(times[-1] if times else start, name, group, tags))
    return requests
