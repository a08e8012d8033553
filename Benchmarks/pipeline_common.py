"""The benchmark workload's line parsing, shared by the plain-Python and Bytewax baselines.

Lines look like `cpu,host=server0001 value=0.5 1600000000000000000`. This is the minimum a
Python program needs for this input (split on spaces, commas and '='; no escapes, no quoted
strings), so the baselines are not slowed by a full line-protocol parser.
"""
import resource

WINDOW_NS = 10_000_000_000


def parse(line: bytes):
    """Returns (measurement, tags dict, fields dict, time ns)."""
    key, fields, ts = line.split(b" ")
    measurement, *tags = key.split(b",")
    tag_map = dict(t.split(b"=", 1) for t in tags)
    field_map = {}
    for kv in fields.split(b","):
        k, v = kv.split(b"=", 1)
        field_map[k] = float(v)
    return measurement, tag_map, field_map, int(ts)


def peak_rss_kib() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
