"""Plain Python baseline: groupBy('host') | window().period(10s).every(10s) | mean('value').

Keeps a dict of lists (host -> the values of its current window). As in Kapacitor, a window is
emitted when the first point at or after its end arrives; the last window of each host stays open.
Prints one JSON line with points/s and peak RSS.
"""
import json
import sys
import time

from pipeline_common import WINDOW_NS, parse, peak_rss_kib


def main(path: str) -> None:
    windows = {}  # host -> [window end ns, [values]]
    points = 0
    outputs = 0
    output_sum = 0.0
    size = 0
    wall = time.perf_counter()
    cpu = time.process_time()
    with open(path, "rb") as f:
        for line in f:
            size += len(line)
            _, tags, fields, t = parse(line.rstrip(b"\n"))
            points += 1
            host = tags[b"host"]
            state = windows.get(host)
            if state is None:
                state = windows[host] = [t - t % WINDOW_NS + WINDOW_NS, []]
            elif t >= state[0]:
                values = state[1]
                if values:
                    outputs += 1
                    output_sum += sum(values) / len(values)
                state[0] = t - t % WINDOW_NS + WINDOW_NS
                state[1] = []
            state[1].append(fields[b"value"])
    seconds = time.perf_counter() - wall
    print(json.dumps({
        "name": "python", "bytes": size, "points": points, "seconds": seconds,
        "cpu_seconds": time.process_time() - cpu, "points_per_s": points / seconds,
        "mb_per_s": size / 1e6 / seconds, "peak_rss_kib": peak_rss_kib(),
        "outputs": outputs, "output_sum": output_sum,
    }))


if __name__ == "__main__":
    main(sys.argv[1])
