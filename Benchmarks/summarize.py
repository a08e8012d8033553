"""Medians and ratios of Benchmarks/run-pipeline-bench.sh results (one JSON object per line)."""
import json
import statistics
import sys
from collections import defaultdict


def main(path: str) -> None:
    runs = defaultdict(list)
    with open(path) as f:
        for line in f:
            line = line.strip()
            if line.startswith("{"):
                r = json.loads(line)
                runs[r["name"]].append(r)
    med = {}
    print("| case | runs | points | wall s | points/s (wall) | CPU s | points per CPU-second | MB per CPU-second | peak RSS MiB | outputs |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for name in ["lineprotocol-baseline", "lineprotocol", "pipeline-baseline", "pipeline", "python", "bytewax"]:
        rs = runs.get(name)
        if not rs:
            continue
        m = {
            "points": rs[0]["points"],
            "wall": statistics.median(r["seconds"] for r in rs),
            "cpu": statistics.median(float(r["cpu_seconds"]) for r in rs),
            "rss": max(int(r["peak_rss_kib"]) for r in rs) / 1024,
            "bytes": rs[0]["bytes"],
            "outputs": rs[0].get("outputs", "-"),
        }
        m["pps_wall"] = m["points"] / m["wall"]
        m["pps_cpu"] = m["points"] / m["cpu"]
        med[name] = m
        print(f"| {name} | {len(rs)} | {m['points']:,} | {m['wall']:.2f} | {m['pps_wall']:,.0f} | {m['cpu']:.2f} | "
              f"{m['pps_cpu']:,.0f} | {m['bytes'] / 1e6 / m['cpu']:.1f} | {m['rss']:.0f} | {m['outputs']} |")
    for case in ["lineprotocol", "pipeline"]:
        if case in med and f"{case}-baseline" in med:
            print(f"tock {case} / baseline: {med[case]['pps_cpu'] / med[f'{case}-baseline']['pps_cpu']:.2f}x "
                  f"(points per CPU-second), {med[case]['pps_wall'] / med[f'{case}-baseline']['pps_wall']:.2f}x (wall)")
    if "pipeline" in med:
        for other in ["python", "bytewax"]:
            if other in med:
                print(f"tock pipeline / {other}: {med['pipeline']['pps_cpu'] / med[other]['pps_cpu']:.1f}x "
                      f"(points per CPU-second), {med['pipeline']['pps_wall'] / med[other]['pps_wall']:.1f}x (wall)")


if __name__ == "__main__":
    main(sys.argv[1])
