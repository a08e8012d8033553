#!/usr/bin/env bash
# The line-protocol + pipeline benchmark of BENCHMARKS.md, from scratch:
#   1. builds tock in release mode,
#   2. generates POINTS points over SERIES series (`cpu,host=serverNNNN value=V <ts>`, 1 s apart per series),
#   3. measures, RUNS times each: parse alone (`tock bench lineprotocol`), parse + the pipeline
#      stream|from()|groupBy('host')|window().period(10s).every(10s)|mean('value') (`tock bench pipeline`),
#      the same workload in plain Python (dict of lists) and in Bytewax 0.21.1,
#   4. prints medians and ratios (Benchmarks/summarize.py).
# Environment: POINTS (10000000), SERIES (1000), RUNS (3), BYTEWAX_POINTS (POINTS; Bytewax is slow),
# PYTHON_POINTS (POINTS), WORK (/tmp/tock-bench: data and results.jsonl),
# BASELINE (optional: another tock binary, e.g. a build of an older commit, measured interleaved with this one, run
# for run, so that both see the same machine load; its cases are reported as lineprotocol-baseline and
# pipeline-baseline).
set -euo pipefail
cd "$(dirname "$0")/.."

POINTS=${POINTS:-10000000}
SERIES=${SERIES:-1000}
RUNS=${RUNS:-3}
BYTEWAX_POINTS=${BYTEWAX_POINTS:-$POINTS}
PYTHON_POINTS=${PYTHON_POINTS:-$POINTS}
WORK=${WORK:-/tmp/tock-bench}
PYTHON=${PYTHON:-python3}
mkdir -p "$WORK"

swift build -c release --product tock
TOCK=.build/release/tock

data() { # data N: the first N points of the workload, generated once
    local file="$WORK/workload-$1.lp"
    [ -s "$file" ] || "$TOCK" bench generate --points "$1" --series "$SERIES" -o "$file"
    echo "$file"
}

if ! "$PYTHON" -c "import bytewax" 2>/dev/null; then
    "$PYTHON" -m pip install --quiet --disable-pip-version-check -r Benchmarks/requirements.txt
fi

DATA=$(data "$POINTS")
RESULTS="$WORK/results.jsonl"
: > "$RESULTS"
echo "machine: $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg); data: $DATA" >&2

BASELINE=${BASELINE:-}
baseline() { # CASE: one run of the baseline binary, renamed CASE-baseline
    [ -n "$BASELINE" ] || return 0
    "$BASELINE" bench "$1" --input "$DATA" --json | sed -E "s/\"name\":\"([a-z]+)\"/\"name\":\"\\1-baseline\"/" | tee -a "$RESULTS"
}
for _ in $(seq "$RUNS"); do baseline lineprotocol; "$TOCK" bench lineprotocol --input "$DATA" --json | tee -a "$RESULTS"; done
for _ in $(seq "$RUNS"); do baseline pipeline; "$TOCK" bench pipeline --input "$DATA" --json | tee -a "$RESULTS"; done
echo "load average after tock: $(cut -d' ' -f1-3 /proc/loadavg)" >&2
PY_DATA=$(data "$PYTHON_POINTS")
for _ in $(seq "$RUNS"); do "$PYTHON" Benchmarks/pipeline_python.py "$PY_DATA" | tee -a "$RESULTS"; done
BW_DATA=$(data "$BYTEWAX_POINTS")
for _ in $(seq "$RUNS"); do "$PYTHON" Benchmarks/pipeline_bytewax.py "$BW_DATA" | tee -a "$RESULTS"; done

echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)" >&2
"$PYTHON" Benchmarks/summarize.py "$RESULTS"
