#!/usr/bin/env bash
# The parser benchmark of BENCHMARKS.md ("Line protocol and pipeline", issue 12's parser target), against a baseline:
#   1. builds tock in release mode (unless TOCK names a binary),
#   2. generates POINTS points over SERIES series (`cpu,host=serverNNNN value=V <ts>`, the pipeline workload),
#   3. runs `tock bench lineprotocol` RUNS times for each binary, interleaved run for run (the order alternates, so
#      neither always runs first) so that both see the same machine load, and checks that both parse the same
#      points (count and checksum of the values),
#   4. runs `tock bench pipeline` once with each on PIPELINE_POINTS points and checks the outputs are identical
#      (count and sum of the means),
#   5. prints medians (Benchmarks/summarize.py) and every run's MB per CPU-second.
# Environment: BASELINE (required: another tock binary, e.g. a release build of the commit before the change), TOCK
# (default: build .build/release/tock), POINTS (2000000), SERIES (1000), RUNS (5), PIPELINE_POINTS (1000000),
# WORK (/tmp/tock-parser-bench).
set -euo pipefail
cd "$(dirname "$0")/.."

POINTS=${POINTS:-2000000}
SERIES=${SERIES:-1000}
RUNS=${RUNS:-5}
PIPELINE_POINTS=${PIPELINE_POINTS:-1000000}
WORK=${WORK:-/tmp/tock-parser-bench}
PYTHON=${PYTHON:-python3}
BASELINE=${BASELINE:?BASELINE must name the baseline tock binary}
if [ -z "${TOCK:-}" ]; then
    swift build -c release --product tock
    TOCK=.build/release/tock
fi
mkdir -p "$WORK"

data() { # data N: the first N points of the workload, generated once
    local file="$WORK/workload-$1.lp"
    [ -s "$file" ] || "$TOCK" bench generate --points "$1" --series "$SERIES" -o "$file"
    echo "$file"
}
DATA=$(data "$POINTS")
RESULTS="$WORK/results.jsonl"
: > "$RESULTS"
echo "machine: $(nproc) cores; uptime: $(uptime)" >&2

run() { # run BINARY CASE SUFFIX FILE: one run, its JSON line renamed CASE-SUFFIX when SUFFIX is given
    if [ -n "$3" ]; then
        "$1" bench "$2" --input "$4" --json | sed -E "s/\"name\":\"([a-z]+)\"/\"name\":\"\\1-$3\"/"
    else
        "$1" bench "$2" --input "$4" --json
    fi | tee -a "$RESULTS"
}
for k in $(seq "$RUNS"); do
    if [ $((k % 2)) -eq 1 ]; then
        run "$BASELINE" lineprotocol baseline "$DATA"; run "$TOCK" lineprotocol "" "$DATA"
    else
        run "$TOCK" lineprotocol "" "$DATA"; run "$BASELINE" lineprotocol baseline "$DATA"
    fi
done
PDATA=$(data "$PIPELINE_POINTS")
run "$BASELINE" pipeline baseline "$PDATA"
run "$TOCK" pipeline "" "$PDATA"
echo "uptime after: $(uptime)" >&2

"$PYTHON" Benchmarks/summarize.py "$RESULTS"
"$PYTHON" - "$RESULTS" <<'EOF'
import json, sys
runs = [json.loads(l) for l in open(sys.argv[1]) if l.startswith("{")]
def of(name): return [r for r in runs if r["name"] == name]
for name in ["lineprotocol-baseline", "lineprotocol"]:
    rates = sorted(r["bytes"] / 1e6 / r["cpu_seconds"] for r in of(name))
    print(f"{name}: MB per CPU-second, each run (sorted): " + ", ".join(f"{x:.0f}" for x in rates))
ok = True
parsed = {(r["points"], r["checksum"], r["errors"]) for r in of("lineprotocol") + of("lineprotocol-baseline")}
if len(parsed) != 1:
    ok = False
    print(f"DIFFERENT parse results (points, checksum, errors): {sorted(parsed)}")
outputs = {(r["outputs"], r["output_sum"], r["errors"]) for r in of("pipeline") + of("pipeline-baseline")}
if len(outputs) != 1:
    ok = False
    print(f"DIFFERENT pipeline outputs (outputs, sum, errors): {sorted(outputs)}")
if ok:
    print(f"same results: parse {parsed.pop()}, pipeline {outputs.pop()} (points, checksum or sum, errors)")
sys.exit(0 if ok else 1)
EOF
