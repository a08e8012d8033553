#!/usr/bin/env bash
# /write → alert → `post` latency through the daemon (issue 12): the time from a point's sending on /write to its
# alert's arrival at a loopback HTTP receiver, at RATE points a second into TASKS stream tasks.
#
#   Benchmarks/run-latency-bench.sh     # RATES="100000 10000" TASKS=100 MARKS=100 DURATION=60 WARMUP=10 RUNS=3
#
# Each run: a fresh `tock serve` (temp data dir, 127.0.0.1, a free port) and a fresh receiver
# (Benchmarks/latency_bench.py receive: asyncio, keep-alive, stamps each POST once its body is read, answers 200);
# TASKS tasks defined and enabled with the CLI, task NNN being
#   stream|from().measurement('latNNN')|alert().id('lat-{{ .TaskName }}').crit(lambda: "m" == 1).post('http://127.0.0.1:RPORT/')
# then the writer (latency_bench.py write) POSTs 5,000-line bodies without timestamps on one keep-alive connection,
# paced to RATE points a second for DURATION seconds; line j is for task j mod TASKS, so every task reads RATE/TASKS
# points a second (and every task's from() sees all RATE of them: the daemon routes by database and retention
# policy). MARKS points a second, at random lines, are marked (m=1, with a seq and the writer's time.time_ns() taken
# just before the body is built): each gives its task one CRITICAL event, and the task's next point an OK recovery,
# both POSTed (Kapacitor delivers every non-OK event, and a recovery). Latency = receiver's stamp − writer's stamp;
# The writer stops after DURATION seconds of wall time even when the server has not kept up (the rate reached is
# printed). Also, receiver's stamp − the event's time (the server's own stamp, taken when it has read the body). Marked points
# of the first WARMUP seconds are left out; lost = marked points after the warm-up with no CRITICAL POST.
# Prints per run p50/p99/max/count/lost, the daemon's CPU and the load average, then the medians per rate.
source "$(dirname "$0")/bench-lib.sh"
DATADIR=${DATADIR:-}  # where the daemon's data dir goes: $WORK (under /tmp) unless set (e.g. /dev/shm, a tmpfs)
CONFIG=${CONFIG:-}    # a configuration file for tock serve (e.g. one with [hosts] enabled = false)
datadirs=()
trap 'cleanup; for d in "${datadirs[@]}"; do rm -rf "$d" "$d.log"; done' EXIT
KEEP=${KEEP:-}        # a directory to keep each run's summary, debug/vars and log in
RATES=${RATES:-100000 10000}; TASKS=${TASKS:-100}; MARKS=${MARKS:-100}; DURATION=${DURATION:-60}; WARMUP=${WARMUP:-10}
[ -x "$TOCK" ] || { echo "no $TOCK: build it first (swift build -c release --product tock)" >&2; exit 1; }
HELPER=Benchmarks/latency_bench.py
echo "machine: $(nproc) cores, load average $(load); $TASKS tasks, $MARKS marked points/s, ${DURATION}s per run (${WARMUP}s warm-up), $RUNS runs"

one_run() {  # one_run RATE RUN
  local rate=$1 run=$2 dir=$WORK/r$1-$2 rport
  mkdir -p "$dir"
  local data=$dir/tock
  [[ -n "$DATADIR" ]] && { data=$(mktemp -d "$DATADIR/tock-lat.XXXXXX"); datadirs+=("$data"); }
  start_tock "$data" "$CONFIG"
  rport=$(free_port)
  python3 "$HELPER" receive "$rport" "$dir/received" &
  local recv=$!; pids+=("$recv")
  for i in $(seq 0 $((TASKS - 1))); do
    printf -v n '%03d' "$i"
    cat > "$dir/t$n.tick" <<TICK
stream
    |from()
        .measurement('lat$n')
    |alert()
        .id('lat-{{ .TaskName }}')
        .crit(lambda: "m" == 1)
        .post('http://127.0.0.1:$rport/')
TICK
    echo "$n"
  done | xargs -P 4 -I{} sh -c "'$TOCK' define lat{} -url '$TURL' -type stream -tick '$dir/t{}.tick' -dbrp bench.autogen >/dev/null &&
                                '$TOCK' enable lat{} -url '$TURL' >/dev/null"
  sleep 2
  local load0 cpu0 cpu1 t0 t1
  load0=$(load); cpu0=$(cpu_s "$TOCK_PID"); t0=$(now)
  python3 "$HELPER" write "${TURL##*:}" "$rate" "$DURATION" "$TASKS" "$MARKS" "$dir/writer"
  sleep 3   # the last alerts are delivered
  cpu1=$(cpu_s "$TOCK_PID"); t1=$(now)
  kill -0 "$TOCK_PID" 2>/dev/null || { echo "tock serve exited: $(tail -3 "$data.log")" >&2; exit 1; }
  curl -sf "$TURL/kapacitor/v1/debug/vars" > "$dir/vars.json" || true
  python3 - "$dir/vars.json" <<'PY' || true
import json, sys
d = json.load(open(sys.argv[1]))["kapacitor"]
def mean(node, key):
    v = [x["values"][key] for k, x in d.items() if k.startswith("nodes:") and k.endswith(":" + node)]
    return sum(v) / len(v) if v else float("nan")
h = [x["values"] for x in d.values() if x["name"] == "alert_handler"]
print(f"  debug/vars: mean avg_exec_time_ns from1 {mean('from1', 'avg_exec_time_ns'):.0f}, alert2 {mean('alert2', 'avg_exec_time_ns'):.0f};"
      f" handlers sent {sum(x['sent'] for x in h)}, dropped {sum(x['dropped'] for x in h)}, failed {sum(x['failed'] for x in h)}")
PY
  kill -TERM "$recv"; wait "$recv" || true
  stop_pid "$TOCK_PID"
  [[ -n "$DATADIR" ]] && rm -rf "$data" "$data.log"
  echo "rate $rate run $run: load before $load0, after $(load); daemon CPU $(python3 -c "print(f'{($cpu1 - $cpu0) / ($t1 - $t0):.2f}')") s/s"
  python3 "$HELPER" summarize "$dir/writer" "$dir/received" "$WARMUP" | tee "$dir/summary" | grep -v '^ROW'
  [[ -n "$KEEP" ]] && { mkdir -p "$KEEP/r$rate-$run"; cp "$dir/summary" "$dir/vars.json" "$KEEP/r$rate-$run/" 2>/dev/null || true; }
  echo "rate$rate $(grep '^ROW' "$dir/summary" | cut -d' ' -f2-)" >> "$WORK/rows"
}

for run in $(seq 1 "$RUNS"); do
  for rate in $RATES; do one_run "$rate" "$run"; done
done
echo "medians per rate: send→delivery p50, p99, max (ms), alerts counted, lost; server stamp→delivery p50, p99 (ms)"
median_table "$WORK/rows"
