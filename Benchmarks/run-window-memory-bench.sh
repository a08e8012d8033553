#!/usr/bin/env bash
# Memory per buffered window point (BENCHMARKS.md, issue 12 item 1): POINTS points over SERIES series, 1 s apart per
# series, through `tock bench pipeline` with
#   window:    stream|from()|groupBy('host')|window().period(1h).every(1h)|count('value')   (no window closes: all held)
#   no window: stream|from()|groupBy('host')
# Peak RSS of the first minus the second, divided by POINTS, is the memory per buffered point. Each case runs RUNS
# times for this tock and, when BASELINE names another tock binary, for it too, interleaved run for run; the script
# prints every run and the medians.
# Environment: POINTS (1000000), SERIES (1000), RUNS (3), TOCK (.build/release/tock), BASELINE (optional),
# WORK (/tmp/tock-window-memory).
set -euo pipefail
cd "$(dirname "$0")/.."

POINTS=${POINTS:-1000000}
SERIES=${SERIES:-1000}
RUNS=${RUNS:-3}
TOCK=${TOCK:-.build/release/tock}
WORK=${WORK:-/tmp/tock-window-memory}
mkdir -p "$WORK"
DATA="$WORK/workload-$POINTS-$SERIES.lp"
[ -s "$DATA" ] || "$TOCK" bench generate --points "$POINTS" --series "$SERIES" -o "$DATA"
WINDOW="stream|from()|groupBy('host')|window().period(1h).every(1h)|count('value')"
PLAIN="stream|from()|groupBy('host')"
RESULTS="$WORK/results.txt"
: > "$RESULTS"
echo "machine: $(nproc) cores; uptime: $(uptime)" >&2

run() { # run LABEL BINARY SCRIPT: appends "LABEL peak-RSS-KiB cpu-seconds"
    "$2" bench pipeline --input "$DATA" --script "$3" --json \
        | python3 -c 'import json,sys; r=json.loads(sys.stdin.read()); print(sys.argv[1], r["peak_rss_kib"], r["cpu_seconds"])' "$1" \
        | tee -a "$RESULTS"
}
for _ in $(seq "$RUNS"); do
    if [ -n "${BASELINE:-}" ]; then
        run baseline-window "$BASELINE" "$WINDOW"
        run baseline-plain "$BASELINE" "$PLAIN"
    fi
    run window "$TOCK" "$WINDOW"
    run plain "$TOCK" "$PLAIN"
done
echo "uptime after: $(uptime)" >&2

python3 - "$RESULTS" "$POINTS" <<'PY'
import statistics, sys
rows = [l.split() for l in open(sys.argv[1]) if l.strip()]
points = int(sys.argv[2])
def med(name): return statistics.median(int(r[1]) for r in rows if r[0] == name)
for prefix in ["baseline-", ""]:
    if not any(r[0] == prefix + "window" for r in rows):
        continue
    w, p = med(prefix + "window"), med(prefix + "plain")
    print(f"{prefix or 'this '}tock: peak RSS window {w / 1024:.0f} MiB, no window {p / 1024:.0f} MiB: "
          f"{(w - p) * 1024 / points:.0f} bytes per buffered point (medians of {sum(r[0] == prefix + 'window' for r in rows)} runs)")
PY
