# The Swift mirror alone, two builds side by side: each reads the same Init + POINTS Request{point} frames (the
# printer demo's shape, as `tock bench udf` sends them) from a file, stdout to /dev/null. Medians of RUNS alternating
# runs; CPU = the child's user + system time (RUSAGE_CHILDREN), which a loaded machine does not inflate.
#
#   python3 SampleUDFs/bench_swift_mirror_alone.py BASELINE/swift-mirror NEW/swift-mirror   # POINTS=200000 RUNS=5
import os, resource, statistics, subprocess, sys, time
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "Protocol", "python"))
from kapacitor.udf import udf_pb2

POINTS, RUNS = int(os.environ.get("POINTS", 200000)), int(os.environ.get("RUNS", 5))
def varint(n):
    out = bytearray()
    while n >= 0x80:
        out.append((n & 0x7F) | 0x80); n >>= 7
    out.append(n); return bytes(out)
def frame(msg):
    b = msg.SerializeToString(); return varint(len(b)) + b
path = "/tmp/swift-mirror-alone-requests-%d.bin" % os.getpid()
with open(path, "wb") as f:
    r = udf_pb2.Request(); r.init.taskID = "bench"; r.init.nodeID = "mirror1"; f.write(frame(r))
    for i in range(POINTS):
        r = udf_pb2.Request(); p = r.point
        p.time = 1451606400000000000 + i * 1000000000; p.name = "temperatures"; p.database = "printer"
        p.retentionPolicy = "autogen"; p.group = "temperatures\nhost=printer-%d" % (i % 16); p.dimensions.append("host")
        p.tags["host"] = "printer-%d" % (i % 16); p.tags["region"] = "eu-west"; p.tags["sensor"] = "thermo-%d" % (i % 7)
        p.fieldsDouble["hotend"] = 220 + (i % 13) * 0.1; p.fieldsDouble["bed"] = 90.5; p.fieldsDouble["air"] = 70.25 + i
        p.fieldsInt["count"] = i
        f.write(frame(r))
print("requests: %d bytes, %d points" % (os.path.getsize(path), POINTS))
def run(binary):
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.monotonic()
    with open(path, "rb") as inp, open("/dev/null", "wb") as out:
        rc = subprocess.run([binary], stdin=inp, stdout=out).returncode
    wall = time.monotonic() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    assert rc == 0, binary
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
bins = {"baseline": sys.argv[1], "new": sys.argv[2]}
res = {k: [] for k in bins}
for _ in range(RUNS):
    for k, b in bins.items(): res[k].append(run(b))
for k, v in res.items():
    w = statistics.median(x[0] for x in v); c = statistics.median(x[1] for x in v)
    print("%-9s wall %.3f s = %7.0f points/s   CPU %.3f s = %7.0f points/CPU-s  %.2f us/point" % (k, w, POINTS / w, c, POINTS / c, c / POINTS * 1e6))
os.remove(path)
