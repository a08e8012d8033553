"""Bytewax 0.21.1 baseline: the same workload as a dataflow, run on one worker.

FileSource -> parse -> key by host -> tumbling 10 s event-time windows (fold: sum and count)
-> mean -> a sink that counts outputs and sums the means. Bytewax closes every window at the
end of the input, so it emits one more window per host than Kapacitor/Tock/the plain script.
Prints one JSON line with points/s and peak RSS.
"""
import json
import os
import sys
import time
from datetime import datetime, timedelta, timezone

import bytewax.operators as op
from bytewax.connectors.files import FileSource
from bytewax.dataflow import Dataflow
from bytewax.operators.windowing import EventClock, TumblingWindower, fold_window
from bytewax.outputs import DynamicSink, StatelessSinkPartition
from bytewax.testing import run_main

from pipeline_common import parse, peak_rss_kib

TOTALS = {"points": 0, "outputs": 0, "output_sum": 0.0}
EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


class _Tally(StatelessSinkPartition):
    def write_batch(self, items):
        for _host, (_window, mean) in items:
            TOTALS["outputs"] += 1
            TOTALS["output_sum"] += mean


class TallySink(DynamicSink):
    def build(self, step_id, worker_index, worker_count):
        return _Tally()


def to_event(line: str):
    _, tags, fields, t = parse(line.encode())
    TOTALS["points"] += 1
    ts = EPOCH + timedelta(microseconds=t // 1000)
    return tags[b"host"].decode(), (ts, fields[b"value"])


def build(path: str) -> Dataflow:
    flow = Dataflow("pipeline_bench")
    lines = op.input("lines", flow, FileSource(path, batch_size=10_000))
    events = op.map("parse", lines, to_event)
    # Event time only: a fixed "now" keeps system time (slow on a busy machine) from making points late,
    # so a window closes when a point at or after its end arrives, as in Kapacitor.
    clock = EventClock(lambda e: e[0], wait_for_system_duration=timedelta(0), now_getter=lambda: EPOCH)
    windower = TumblingWindower(length=timedelta(seconds=10), align_to=EPOCH)

    def folder(acc, e):
        acc[0] += e[1]
        acc[1] += 1
        return acc

    windows = fold_window("window", events, clock, windower, lambda: [0.0, 0], folder,
                          lambda a, b: [a[0] + b[0], a[1] + b[1]])
    means = op.map("mean", windows.down, lambda kv: (kv[0], (kv[1][0], kv[1][1][0] / kv[1][1][1])))
    op.output("out", means, TallySink())
    return flow


def main(path: str) -> None:
    size = os.path.getsize(path)
    wall = time.perf_counter()
    cpu = time.process_time()
    run_main(build(path))
    seconds = time.perf_counter() - wall
    points = TOTALS["points"]
    print(json.dumps({
        "name": "bytewax", "bytes": size, "points": points, "seconds": seconds,
        "cpu_seconds": time.process_time() - cpu, "points_per_s": points / seconds,
        "mb_per_s": size / 1e6 / seconds, "peak_rss_kib": peak_rss_kib(),
        "outputs": TOTALS["outputs"], "output_sum": TOTALS["output_sum"],
    }))


if __name__ == "__main__":
    main(sys.argv[1])
