#!/usr/bin/env bash
# Builds the fuzz targets with libFuzzer and AddressSanitizer and runs each for SECONDS seconds
# (default 15) from the committed seeds in Tests/Fuzz/Corpus/<target>/.
#
#   Tests/Fuzz/run.sh [SECONDS] [TARGET...]     targets: line-protocol tickscript udf (default: all)
#
# A crash, a hang (-timeout), an out-of-memory or a broken property (the targets turn a
# PropertyViolation into a crash) stops that target; libFuzzer saves the input to
# Tests/Fuzz/Crashers/<target>/crash-<sha1> (or timeout-/oom-/leak-) and the script exits 1 after
# running the other targets. Reproduce with `.build-fuzz/debug/fuzz-<target> <file>`, or without the
# sanitizer with `.build/debug/fuzz-<target> <file>`; record it in Tests/Fuzz/Crashers.md.
#
# New inputs libFuzzer finds go to .build-fuzz/corpus/<target>/ (kept between runs, never committed).
# The build uses its own scratch path, .build-fuzz, so it never disturbs the normal .build.
# FUZZ_SEED fixes libFuzzer's random seed (CI uses 1, so a run explores the same inputs each time);
# 0, the default, picks a new seed per run.
set -uo pipefail

seconds=${1:-15}
shift || true
targets=("$@")
[ ${#targets[@]} -eq 0 ] && targets=(line-protocol tickscript udf)

root=$(cd "$(dirname "$0")/../.." && pwd)
scratch="$root/.build-fuzz"
swift=${SWIFT:-swift}
flags=(--scratch-path "$scratch" -c debug
       -Xswiftc -sanitize=fuzzer,address -Xswiftc -parse-as-library -Xswiftc -DTOCK_LIBFUZZER)

cd "$root"
mkdir -p "$scratch"
for target in "${targets[@]}"; do
    # ld.gold warns about every ASan helper symbol; the log keeps them out of sight.
    if ! "$swift" build "${flags[@]}" --product "fuzz-$target" >"$scratch/build-$target.log" 2>&1; then
        grep -v "Cannot export local symbol" "$scratch/build-$target.log" >&2
        echo "fuzz: building fuzz-$target failed" >&2
        exit 2
    fi
done
bin=$("$swift" build "${flags[@]}" --show-bin-path)

status=0
for target in "${targets[@]}"; do
    work="$scratch/corpus/$target"
    crashers="$root/Tests/Fuzz/Crashers/$target"
    mkdir -p "$work" "$crashers"
    log="$scratch/fuzz-$target.log"
    echo "fuzz: $target for ${seconds}s (log: $log)"
    # -detect_leaks=0: the Swift runtime keeps metadata and caches until exit, which LeakSanitizer
    # reports as leaks. -max_len keeps inputs at 4 KiB: deep nesting is a known, separately tested limit and should not
    # be all the fuzzer finds. -timeout makes a hang a failure; -rss_limit_mb an unbounded allocation.
    # Swift's backtracer reads the crashed process's stack, which ASan reports as a second error.
    SWIFT_BACKTRACE=enable=no ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=0} "$bin/fuzz-$target" "$work" "$root/Tests/Fuzz/Corpus/$target" \
        -max_total_time="$seconds" -max_len=4096 -timeout=10 -rss_limit_mb=2048 -detect_leaks=0 -seed="${FUZZ_SEED:-0}" \
        -artifact_prefix="$crashers/" -print_final_stats=1 >"$log" 2>&1
    rc=$?
    runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' || true)
    if [ $rc -ne 0 ]; then
        status=1
        echo "fuzz: $target FAILED after ${runs:-?} runs; crasher: $(grep -o "Test unit written to .*" "$log" | sed 's/Test unit written to //')"
        grep -m1 -B2 -A12 "ERROR: \|Fatal error\|==ERROR\|deadly signal" "$log" | head -30
    else
        echo "fuzz: $target ok, ${runs:-?} runs in ${seconds}s"
    fi
done
exit $status
