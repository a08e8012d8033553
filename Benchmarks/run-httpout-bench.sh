#!/usr/bin/env bash
# `tock run` over POINTS points in SERIES groups with an httpOut leaf (BENCHMARKS.md, "tock run output"):
#   stream|from().measurement('cpu').groupBy('host')|window().period(10s).every(10s)|mean('value')|httpOut('out')
# Each case runs RUNS times, interleaved run for run so that all see the same machine load; the script prints the
# median CPU time (user + system, of the tock process) and stdout bytes of each:
#   updates  - this tock, default output: each httpOut update printed as the series that changed
#   final    - this tock, --httpout final: each endpoint's final result once
#   none     - this tock, --output none: no output at all (the engine alone)
#   baseline - BASELINE (optional: another tock binary, e.g. a build of an older commit), default output
# Environment: POINTS (1000000), SERIES (1000), RUNS (3), WORK (/tmp/tock-httpout-bench), TOCK (.build/release/tock),
# BASELINE (unset: no baseline case), BASELINE_TIMEOUT (600 s: a baseline run that prints too much is cut off and
# reported as a lower bound).
set -euo pipefail
cd "$(dirname "$0")/.."

POINTS=${POINTS:-1000000}
SERIES=${SERIES:-1000}
RUNS=${RUNS:-3}
WORK=${WORK:-/tmp/tock-httpout-bench}
TOCK=${TOCK:-.build/release/tock}
BASELINE_TIMEOUT=${BASELINE_TIMEOUT:-600}
mkdir -p "$WORK"

DATA="$WORK/workload-$POINTS-$SERIES.lp"
[ -s "$DATA" ] || "$TOCK" bench generate --points "$POINTS" --series "$SERIES" -o "$DATA"
SCRIPT="$WORK/httpout.tick"
cat > "$SCRIPT" <<'TICK'
stream
  |from().measurement('cpu').groupBy('host')
  |window().period(10s).every(10s)
  |mean('value')
  |httpOut('out')
TICK

# measure NAME TIMEOUT BINARY ARGS...: one run; appends "NAME cpu-seconds stdout-bytes timed-out" to results.
measure() {
    local name=$1 limit=$2 binary=$3
    shift 3
    local out="$WORK/$name.out" times="$WORK/$name.time"
    local status=0
    /usr/bin/time -f "%U %S" -o "$times" timeout "$limit" "$binary" run "$SCRIPT" --input "$DATA" --quiet "$@" \
        | wc -c > "$out" || status=$?
    local cpu
    cpu=$(tail -1 "$times" | awk '{ printf "%.2f", $1 + $2 }')
    echo "$name $cpu $(cat "$out") $([ "$status" = 0 ] && echo no || echo yes)" >> "$WORK/results.txt"
}

: > "$WORK/results.txt"
for run in $(seq "$RUNS"); do
    measure updates 3600 "$TOCK"
    measure final 3600 "$TOCK" --httpout final
    measure none 3600 "$TOCK" --output none
    if [ -n "${BASELINE:-}" ]; then measure baseline "$BASELINE_TIMEOUT" "$BASELINE"; fi
done

python3 - "$WORK/results.txt" "$POINTS" "$SERIES" <<'PY'
import statistics, sys
rows = [line.split() for line in open(sys.argv[1]) if line.strip()]
print(f"tock run, {int(sys.argv[2]):,} points in {int(sys.argv[3]):,} groups, httpOut leaf; medians of {len(rows) // len({r[0] for r in rows})} runs")
for name in dict.fromkeys(r[0] for r in rows):
    mine = [r for r in rows if r[0] == name]
    cpu = statistics.median(float(r[1]) for r in mine)
    size = statistics.median(int(r[2]) for r in mine)
    cut = any(r[3] == "yes" for r in mine)
    print(f"  {name:9} CPU {cpu:8.2f} s   stdout {size / 1e6:10.1f} MB{'   (cut off by the timeout: lower bounds)' if cut else ''}")
PY
