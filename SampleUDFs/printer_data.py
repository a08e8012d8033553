"""Generates the 3D-printer temperature day of Kapacitor's anomaly-detection guide.

86,402 points, one a second from 2016-01-01T00:00:00Z, measurement ``temperatures`` with float
fields ``hotend``, ``bed`` and ``air``. Each value is ``target + offset + sigma * z`` with ``z``
a standard normal deviate (Box-Muller on ``random.Random(seed).random()``), drawn in the order
hotend, bed, air for each second, with sigma and offset following SCHEDULE (the planted
anomalies). Values are written with 6 decimals. Same seed, same bytes.

Output is line protocol with second timestamps:
  python3 printer_data.py --output printer.lp          # to a file ('-' = stdout, the default)
  python3 printer_data.py --url 'http://127.0.0.1:9092/write?db=printer&rp=autogen&precision=s'
"""
import argparse
import random
import sys
import urllib.request
from math import cos as _cos, log as _log, pi, sin as _sin, sqrt as _sqrt

_TWO_PI = 2.0 * pi

MEASUREMENT = "temperatures"
START = 1451606400  # 2016-01-01T00:00:00Z, in seconds
COUNT = 24 * 3600 + 2
DEFAULT_SEED = 42
DEFAULT_URL = "http://127.0.0.1:9092/write?db=printer&rp=autogen&precision=s"

TARGETS = {"hotend": 220.0, "bed": 90.0, "air": 70.0}
FIELDS = ("hotend", "bed", "air")

# field -> [(from second, sigma, offset)], in order.
SCHEDULE = {
    "hotend": [(0, 0.5, 0.0), (3600, 3.0, -1.5), (3900, 0.5, 0.0)],
    "bed": [(0, 1.0, 0.0), (28800, 5.0, 2.0), (29700, 1.0, 0.0)],
    "air": [(0, 3.0, 0.0), (10800, 5.0, 0.0), (43200, 15.0, -5.0), (45000, 5.0, 0.0),
            (72000, 3.0, 0.0)],
}


def parameters(field, second):
    """(sigma, offset) of ``field`` at ``second`` seconds after START."""
    current = SCHEDULE[field][0]
    for entry in SCHEDULE[field]:
        if entry[0] <= second:
            current = entry
    return current[1], current[2]


def _segments(count):
    """Yields (first second, end second, {field: (mean, sigma)}) runs of constant parameters."""
    cuts = sorted({0, count} | {entry[0] for entries in SCHEDULE.values()
                                for entry in entries if entry[0] < count})
    for first, end in zip(cuts, cuts[1:]):
        params = {}
        for field in FIELDS:
            sigma, offset = parameters(field, first)
            params[field] = (TARGETS[field] + offset, sigma)
        yield first, end, params


def standard_normals(seed, n):
    """``n`` standard normal deviates: Box-Muller pairs from ``random.Random(seed).random()``
    (the uniform stream is stable across Python versions, unlike ``gauss``'s internals)."""
    rand = random.Random(seed).random
    out = []
    append = out.append
    for _ in range((n + 1) // 2):
        angle = rand() * _TWO_PI
        radius = _sqrt(-2.0 * _log(1.0 - rand()))
        append(_cos(angle) * radius)
        append(_sin(angle) * radius)
    del out[n:]
    return out


def _rows(seed, count):
    """Yields, per run of constant parameters, (times, hotend, bed, air) sequences."""
    z = standard_normals(seed, 3 * count)
    for first, end, params in _segments(count):
        (hm, hs), (bm, bs), (am, as_) = params["hotend"], params["bed"], params["air"]
        lo, hi = 3 * first, 3 * end
        yield (range(START + first, START + end),
               [hm + hs * v for v in z[lo:hi:3]],
               [bm + bs * v for v in z[lo + 1:hi:3]],
               [am + as_ * v for v in z[lo + 2:hi:3]])


def values(seed=DEFAULT_SEED, count=COUNT):
    """Yields (unix seconds, hotend, bed, air) for each of the ``count`` seconds (full
    precision; the line protocol output rounds to 6 decimals)."""
    for times, hotend, bed, air in _rows(seed, count):
        for row in zip(times, hotend, bed, air):
            yield row


def lines(seed=DEFAULT_SEED, count=COUNT, chunk=10000):
    """Yields line-protocol text in chunks of up to ``chunk`` lines (each ending in a newline)."""
    template = MEASUREMENT + " hotend=%.6f,bed=%.6f,air=%.6f %d\n"
    out = []
    for times, hotend, bed, air in _rows(seed, count):
        for t, h, b, a in zip(times, hotend, bed, air):
            out.append(template % (h, b, a, t))
            if len(out) == chunk:
                yield "".join(out)
                out = []
    if out:
        yield "".join(out)


def post(url, seed=DEFAULT_SEED, count=COUNT, chunk=10000, timeout=30.0):
    """POSTs the data to an InfluxDB-style /write URL; raises unless every chunk gets 2xx."""
    for body in lines(seed, count, chunk):
        request = urllib.request.Request(url, data=body.encode("ascii"), method="POST",
                                         headers={"Content-Type": "text/plain; charset=utf-8"})
        with urllib.request.urlopen(request, timeout=timeout) as response:
            if not 200 <= response.status < 300:
                raise RuntimeError("write to %s answered %d" % (url, response.status))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED, help="random seed (default 42)")
    target = parser.add_mutually_exclusive_group()
    target.add_argument("--output", default="-", metavar="PATH",
                        help="write line protocol to PATH ('-' = stdout, the default)")
    target.add_argument("--url", nargs="?", const=DEFAULT_URL, metavar="URL",
                        help="POST to an InfluxDB /write URL (default %s)" % DEFAULT_URL)
    parser.add_argument("--chunk", type=int, default=10000,
                        help="lines per POST or write (default 10000)")
    parser.add_argument("--count", type=int, default=COUNT,
                        help="number of seconds to generate (default %d)" % COUNT)
    args = parser.parse_args(argv)
    if args.chunk < 1 or args.count < 0:
        parser.error("--chunk must be positive and --count not negative")

    if args.url:
        post(args.url, args.seed, args.count, args.chunk)
        return
    if args.output == "-":
        write = sys.stdout.write
        for body in lines(args.seed, args.count, args.chunk):
            write(body)
        sys.stdout.flush()
    else:
        with open(args.output, "w", encoding="ascii") as f:
            for body in lines(args.seed, args.count, args.chunk):
                f.write(body)


if __name__ == "__main__":
    main()
