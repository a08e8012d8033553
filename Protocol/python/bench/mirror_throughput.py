"""Measures how many points per second a Python UDF (default: SampleUDFs/mirror.py) echoes
through pipes, the way the host drives it: framed Point requests on stdin, responses counted on
stdout. The child runs without -u and without PYTHONUNBUFFERED.

  python3 Protocol/python/bench/mirror_throughput.py [--points 200000] [--runs 5]
"""
import argparse
import os
import statistics
import subprocess
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
PYTHONPATH = os.path.dirname(HERE)
ROOT = os.path.dirname(os.path.dirname(PYTHONPATH))
sys.path.insert(0, PYTHONPATH)

from kapacitor.udf import udf_pb2  # noqa: E402
from kapacitor.udf.agent import encodeUvarint  # noqa: E402


class _Buffer(object):
    def __init__(self):
        self.parts = []

    def write(self, b):
        self.parts.append(b)


def framed_points(count):
    """``count`` framed Point requests shaped like the printer demo's points after a groupBy
    (3 tags, 3 float fields, 1 integer field, database, retention policy, group, a dimension;
    about 190 bytes each, the shape of Tock's Swift codec benchmark)."""
    out = _Buffer()
    request = udf_pb2.Request()
    p = request.point
    p.name = "temperatures"
    p.database = "printer"
    p.retentionPolicy = "autogen"
    p.group = "printer=p1\nsite=lab"
    p.dimensions.append("printer")
    p.tags.update({"printer": "p1", "site": "lab", "model": "mk3s"})
    for i in range(count):
        p.time = 1451606400000000000 + i * 1000000000
        p.fieldsDouble["hotend"] = 220.0 + (i % 7) * 0.125
        p.fieldsDouble["bed"] = 90.0 + (i % 5) * 0.25
        p.fieldsDouble["air"] = 70.0 + (i % 3) * 0.5
        p.fieldsInt["iteration"] = i
        data = request.SerializeToString()
        encodeUvarint(out, len(data))
        out.write(data)
    return b"".join(out.parts)


def count_frames(stream, expected):
    """Reads framed responses until ``expected`` have arrived; returns how many did."""
    seen = 0
    buf = b""
    pos = 0
    while seen < expected:
        chunk = stream.read1(1 << 16)
        if not chunk:
            break
        buf = buf[pos:] + chunk
        pos = 0
        while True:
            size, shift, i = 0, 0, pos
            while i < len(buf):
                b = buf[i]
                i += 1
                size |= (b & 0x7F) << shift
                if b < 0x80:
                    break
                shift += 7
            else:
                break
            if i + size > len(buf):
                break
            pos = i + size
            seen += 1
    return seen


_TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid):
    """User + system CPU time of a running process, from /proc (10 ms resolution)."""
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / _TICKS


def run_once(script, payload, count, agent_path=PYTHONPATH):
    """(points/s of wall time, points/s of the child's CPU time) for one run, both measured
    from the first point written to the last response read (startup excluded)."""
    env = dict(os.environ, PYTHONPATH=agent_path)
    env.pop("PYTHONUNBUFFERED", None)
    proc = subprocess.Popen([sys.executable, script], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, env=env)
    init = udf_pb2.Request()
    init.init.SetInParent()
    data = init.SerializeToString()
    out = _Buffer()
    encodeUvarint(out, len(data))
    proc.stdin.write(b"".join(out.parts) + data)
    proc.stdin.flush()
    count_frames(proc.stdout, 1)  # the InitResponse: the process is ready

    def feed():
        proc.stdin.write(payload)
        proc.stdin.flush()

    cpu_before = cpu_seconds(proc.pid)
    start = time.perf_counter()
    writer = threading.Thread(target=feed)
    writer.start()
    seen = count_frames(proc.stdout, count)
    elapsed = time.perf_counter() - start
    cpu = cpu_seconds(proc.pid) - cpu_before
    writer.join()
    proc.stdin.close()
    proc.wait()
    if seen != count:
        raise SystemExit("expected %d points back, got %d" % (count, seen))
    return count / elapsed, count / max(cpu, 0.01)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--points", type=int, default=200000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--udf", default=os.path.join(ROOT, "SampleUDFs", "mirror.py"))
    parser.add_argument("--compare", metavar="PATH",
                        help="also run the UDF with this agent package on PYTHONPATH (e.g. "
                             "Kapacitor's udf/agent/py), alternating runs")
    args = parser.parse_args()
    payload = framed_points(args.points)
    agents = [("tock", PYTHONPATH)] + ([("other", args.compare)] if args.compare else [])
    rates = {name: [] for name, _ in agents}
    for _ in range(args.runs):
        for name, path in agents:
            rates[name].append(run_once(args.udf, payload, args.points, path))
    for name, _ in agents:
        wall = [r[0] for r in rates[name]]
        cpu = [r[1] for r in rates[name]]
        print("%s agent, %s: %d points x %d runs: median %.0f points/s wall (min %.0f, max %.0f);"
              " median %.0f points per CPU second of the child" % (
                  name, os.path.basename(args.udf), args.points, args.runs,
                  statistics.median(wall), min(wall), max(wall), statistics.median(cpu)))


if __name__ == "__main__":
    main()
