#!/usr/bin/env bash
# Sustained /write into several stream tasks at a fixed rate (issue 12): is RSS flat, is every point delivered to every
# task, does any request fail? Loopback only; a temp data dir.
#
#   Benchmarks/run-sustained-bench.sh            # TASKS=10 RATE=200000 DURATION=600 SAMPLE=10 TOCK=.build/release/tock
#
# A Python writer POSTs 5,000-line bodies (5,000 series `cpu,host=hostNNNN,region=eu usage_user=F,usage_system=Ii`,
# no timestamps: the server stamps each request with its arrival time, so windows close as the wall clock runs) on one
# keep-alive connection, paced to RATE points a second (a request every 5,000/RATE s, on a fixed schedule: a slow
# answer is caught up, never skipped, but the writer stops after DURATION seconds of wall time even when behind). TASKS tasks `from().measurement('cpu')|window().period(1s).every(1s)|mean('usage_user')`
# are defined and enabled with the CLI. Every SAMPLE seconds the server's RSS and CPU are printed; at the end, the
# points sent, each task's stream count (all must equal the points sent), the non-2xx answers and the rate reached.
set -euo pipefail
cd "$(dirname "$0")/.."
TASKS=${TASKS:-10}; RATE=${RATE:-200000}; DURATION=${DURATION:-600}; SAMPLE=${SAMPLE:-10}
TOCK=${TOCK:-.build/release/tock}; PORT=${PORT:-29721}
WORK=$(mktemp -d /tmp/tock-sustained-bench.XXXXXX)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done; rm -rf "$WORK"; }
trap cleanup EXIT
if (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null; then echo "port $PORT is in use; set PORT" >&2; exit 1; fi

"$TOCK" serve --bind "127.0.0.1:$PORT" --data-dir "$WORK/tock" 2>"$WORK/tock.log" &
TOCK_PID=$!; pids+=("$TOCK_PID")
for _ in $(seq 1 150); do curl -sf -o /dev/null "http://127.0.0.1:$PORT/ping" && break; sleep 0.2; done
kill -0 "$TOCK_PID" 2>/dev/null || { echo "tock serve exited: $(tail -3 "$WORK/tock.log")" >&2; exit 1; }
cat > "$WORK/task.tick" <<'TICK'
stream
    |from()
        .measurement('cpu')
    |window()
        .period(1s)
        .every(1s)
    |mean('usage_user')
TICK
for i in $(seq 1 "$TASKS"); do
  "$TOCK" define "t$i" -url "http://127.0.0.1:$PORT" -type stream -tick "$WORK/task.tick" -dbrp bench.autogen >/dev/null
  "$TOCK" enable "t$i" -url "http://127.0.0.1:$PORT" >/dev/null
done

rss_mib() { awk '$1 == "VmRSS:" {printf "%d", $2 / 1024}' "/proc/$1/status"; }
cpu_s() { awk '{printf "%.1f", ($14 + $15) / 100}' "/proc/$1/stat"; }
echo "machine: $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg); $TASKS tasks, $RATE points/s for ${DURATION}s"
echo "idle: RSS $(rss_mib "$TOCK_PID") MiB, CPU $(cpu_s "$TOCK_PID") s"
cpu0=$(cpu_s "$TOCK_PID"); t0=$(date +%s.%N)

python3 - "$PORT" "$RATE" "$DURATION" "$WORK/writer.out" <<'PY' &
import http.client, sys, time
port, rate, duration, out = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3]), sys.argv[4]
body = "".join(f"cpu,host=host{i:04d},region=eu usage_user={i % 97}.5,usage_system={i % 13}i\n" for i in range(5000)).encode()
interval = 5000 / rate
conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
sent = failed = 0
statuses = {}
start = time.monotonic()
k = 0
while True:
    due = start + k * interval
    now = time.monotonic()
    if due - start >= duration or now - start >= duration:
        break  # the schedule's end, or its time: a server that cannot keep up must not stretch the run (the rate says so)
    if due > now:
        time.sleep(due - now)
    try:
        conn.request("POST", "/write?db=bench&rp=autogen", body, {"Content-Type": "text/plain"})
        r = conn.getresponse()
        r.read()
        statuses[r.status] = statuses.get(r.status, 0) + 1
        if r.status == 204:
            sent += 5000
        else:
            failed += 1
    except Exception as e:
        failed += 1
        statuses[type(e).__name__] = statuses.get(type(e).__name__, 0) + 1
        conn.close()
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    k += 1
elapsed = time.monotonic() - start
with open(out, "w") as f:
    f.write(f"sent {sent} failed {failed} seconds {elapsed:.1f} rate {sent / elapsed:.0f} statuses {statuses}\n")
PY
WRITER=$!; pids+=("$WRITER")
samples=()
while kill -0 "$WRITER" 2>/dev/null; do
  sleep "$SAMPLE"
  kill -0 "$TOCK_PID" 2>/dev/null || { echo "tock serve exited: $(tail -3 "$WORK/tock.log")" >&2; exit 1; }
  samples+=("$(rss_mib "$TOCK_PID")")
  echo "t=$(( ${#samples[@]} * SAMPLE ))s RSS $(rss_mib "$TOCK_PID") MiB, CPU $(cpu_s "$TOCK_PID") s, load $(cut -d' ' -f1 /proc/loadavg)"
done
wait "$WRITER" || true
cat "$WORK/writer.out"
read -r _ sent _ failed _ _ _ rate _ < "$WORK/writer.out"
cpu1=$(cpu_s "$TOCK_PID"); t1=$(date +%s.%N)
seen_by_task() {
  for i in $(seq 1 "$TASKS"); do
    curl -sf "http://127.0.0.1:$PORT/kapacitor/v1/tasks/t$i" | python3 -c '
import json, sys
print(json.load(sys.stdin)["stats"]["node-stats"]["stream0"]["emitted"])'
  done
}
# The tasks drain what was queued (up to the queue budget): wait until every count is the points sent, or stops moving.
prev=""
for _ in $(seq 1 60); do
  counts=$(seen_by_task | tr '\n' ' ')
  [[ "$counts" == "$prev" ]] && break
  all=1; for c in $counts; do [[ "$c" == "$sent" ]] || all=0; done
  [[ $all == 1 ]] && break
  prev=$counts; sleep 1
done
lost=0; i=0
for c in $counts; do
  i=$((i + 1))
  [[ "$c" == "$sent" ]] || { echo "task t$i saw $c of $sent points"; lost=1; }
done
[[ $i == "$TASKS" ]] || { echo "only $i of $TASKS tasks answered"; lost=1; }
echo "result: $TASKS tasks, $rate points/s reached (target $RATE), $sent points sent, non-2xx or failed requests $failed," \
     "every task saw every point: $([[ $lost == 0 ]] && echo yes || echo NO), RSS every ${SAMPLE}s: ${samples[*]} MiB," \
     "daemon CPU during the write $(python3 -c "print(f'{($cpu1 - $cpu0) / ($t1 - $t0):.2f}')") s/s, load $(cut -d' ' -f1-3 /proc/loadavg)"
