#!/usr/bin/env bash
# What printing costs `tock run` (BENCHMARKS.md, "`tock run` output", issue 12 item 3): POINTS points over SERIES series
# (1 s apart per series) through
#   stream|from().measurement('cpu').groupBy('host')|window().period(10s).every(10s)|mean('value')|LEAF
# for LEAF in: none (the mean node is the leaf), httpOut('out'), alert().id('{{ .Group }}').crit(lambda: TRUE).
# Each script runs with the default output and with --output none (no output: the engine alone, the denominator of
# the ratio), RUNS times each, interleaved run for run with BASELINE (another tock binary) when it is set, so that all
# see the same machine load. Reports medians of the CPU time (user + system of the tock process) and stdout bytes,
# and checks that both binaries print the same bytes (checksums).
# Environment: POINTS (1000000), SERIES (1000), RUNS (3), TOCK (.build/release/tock), BASELINE (optional),
# WORK (/tmp/tock-output-bench), LEAVES ("mean httpout alert").
set -euo pipefail
cd "$(dirname "$0")/.."

POINTS=${POINTS:-1000000}
SERIES=${SERIES:-1000}
RUNS=${RUNS:-3}
TOCK=${TOCK:-.build/release/tock}
WORK=${WORK:-/tmp/tock-output-bench}
LEAVES=${LEAVES:-mean httpout alert}
mkdir -p "$WORK"
DATA="$WORK/workload-$POINTS-$SERIES.lp"
[ -s "$DATA" ] || "$TOCK" bench generate --points "$POINTS" --series "$SERIES" -o "$DATA"
HEAD="stream
  |from().measurement('cpu').groupBy('host')
  |window().period(10s).every(10s)
  |mean('value')"
echo "$HEAD" > "$WORK/mean.tick"
printf "%s\n  |httpOut('out')\n" "$HEAD" > "$WORK/httpout.tick"
printf "%s\n  |alert().id('{{ .Group }}').crit(lambda: TRUE)\n" "$HEAD" > "$WORK/alert.tick"
RESULTS="$WORK/results.txt"
: > "$RESULTS"
echo "machine: $(nproc) cores; uptime: $(uptime)" >&2

measure() { # measure LABEL BINARY LEAF [ARGS...]: appends "LABEL LEAF cpu-seconds stdout-bytes checksum"
    local label=$1 binary=$2 leaf=$3
    shift 3
    local times="$WORK/time.txt" out="$WORK/out.txt"
    /usr/bin/time -f "%U %S" -o "$times" "$binary" run "$WORK/$leaf.tick" --input "$DATA" --quiet "$@" \
        | tee >(wc -c > "$out.size") | md5sum | cut -c1-12 > "$out.sum"
    sleep 0.2   # the size is written by a process substitution
    echo "$label $leaf $(tail -1 "$times" | awk '{ printf "%.2f", $1 + $2 }') $(cat "$out.size") $(cat "$out.sum")" \
        | tee -a "$RESULTS"
}
for _ in $(seq "$RUNS"); do
    for leaf in $LEAVES; do
        if [ -n "${BASELINE:-}" ]; then
            measure baseline "$BASELINE" "$leaf"
            measure baseline-none "$BASELINE" "$leaf" --output none
        fi
        measure printed "$TOCK" "$leaf"
        measure none "$TOCK" "$leaf" --output none
    done
done
echo "uptime after: $(uptime)" >&2

python3 - "$RESULTS" <<'PY'
import statistics, sys
rows = [l.split() for l in open(sys.argv[1]) if l.strip()]
def runs(label, leaf): return [r for r in rows if r[0] == label and r[1] == leaf]
for leaf in dict.fromkeys(r[1] for r in rows):
    print(f"leaf {leaf}:")
    for prefix in ["baseline", "this"]:
        printed = runs("printed" if prefix == "this" else "baseline", leaf)
        none = runs("none" if prefix == "this" else "baseline-none", leaf)
        if not printed:
            continue
        cpu = statistics.median(float(r[2]) for r in printed)
        engine = statistics.median(float(r[2]) for r in none)
        size = statistics.median(int(r[3]) for r in printed)
        print(f"  {prefix:8} printed CPU {cpu:6.2f} s ({', '.join(r[2] for r in printed)}), --output none {engine:6.2f} s "
              f"({', '.join(r[2] for r in none)}): {cpu / engine:.2f}x the engine; stdout {size / 1e6:.1f} MB")
    sums = {r[4] for r in rows if r[1] == leaf and r[0] in ("printed", "baseline")}
    print(f"  output checksums: {'identical' if len(sums) == 1 else 'DIFFER: ' + ' '.join(sorted(sums))}")
PY
