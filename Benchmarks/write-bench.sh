#!/usr/bin/env bash
# Write throughput of `tock serve` /write into one enabled stream task (from|window|mean), and of InfluxDB 1.x
# /write on the same machine, both driven by wrk with the same 5,000-line request bodies. Loopback only; temp dirs.
#
#   Benchmarks/write-bench.sh                  # RUNS=3 DURATION=20s CONNECTIONS=8 THREADS=2 SUSTAIN=60s
#   BASELINE=/path/to/older/tock Benchmarks/write-bench.sh   # also measures that binary, run for run (same load)
#
# Each run measures Tock, then InfluxDB (fresh server, fresh data dir each time). After the runs, one sustained
# Tock run of SUSTAIN samples its RSS every 5 s to show whether memory stays bounded.
# The body: 5,000 lines of 5,000 series (`cpu,host=hostNNNN,region=eu usage_user=F,usage_system=Ii`) without
# timestamps, so each server stamps a request's points with its arrival time, as for a Telegraf flush; event time
# then advances with the wall clock and the task's windows close (bodies with fixed timestamps, sent again and
# again, would go back in time at every request and never close a window).
# Needs: a release build (swift build -c release --product tock), wrk, influxd (apt-get install wrk influxdb).
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${RUNS:-3}; DURATION=${DURATION:-20s}; CONNECTIONS=${CONNECTIONS:-8}; THREADS=${THREADS:-2}; SUSTAIN=${SUSTAIN:-60s}
TOCK=${TOCK:-.build/release/tock}
TOCK_PORT=${TOCK_PORT:-29711}; INFLUX_PORT=${INFLUX_PORT:-29786}
WORK=$(mktemp -d /tmp/tock-write-bench.XXXXXX)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done; rm -rf "$WORK"; }
trap cleanup EXIT
for tool in wrk influxd curl; do command -v "$tool" >/dev/null || { echo "missing $tool (apt-get install wrk influxdb curl)" >&2; exit 1; }; done

python3 - "$WORK/body.lp" <<'PY'
import sys
with open(sys.argv[1], "w") as f:
    for i in range(5000):
        f.write(f"cpu,host=host{i:04d},region=eu usage_user={i % 97}.5,usage_system={i % 13}i\n")
PY
cat > "$WORK/post.lua" <<LUA
local f = io.open("$WORK/body.lp", "rb")
wrk.method = "POST"
wrk.body = f:read("*a")
f:close()
wrk.headers["Content-Type"] = "text/plain"
done = function(summary, latency, requests)
  local errors = summary.errors.status + summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout
  io.write(string.format("RESULT requests=%d seconds=%.3f errors=%d p50ms=%.1f p99ms=%.1f\n", summary.requests,
    summary.duration / 1e6, errors, latency:percentile(50) / 1e3, latency:percentile(99) / 1e3))
end
LUA
cat > "$WORK/task.tick" <<'TICK'
stream
    |from()
        .measurement('cpu')
    |window()
        .period(1s)
        .every(1s)
    |mean('usage_user')
TICK

# run_wrk URL LABEL DURATION -> "points/s errors p50 p99 points"
run_wrk() {
  wrk -t"$THREADS" -c"$CONNECTIONS" -d"$3" --timeout 10s -s "$WORK/post.lua" "$1" > "$WORK/$2.out"
  python3 - "$WORK/$2.out" <<'PY'
import re, sys
m = re.search(r"RESULT requests=(\d+) seconds=([\d.]+) errors=(\d+) p50ms=([\d.]+) p99ms=([\d.]+)", open(sys.argv[1]).read())
print(int(int(m[1]) * 5000 / float(m[2])), m[3], m[4], m[5], int(m[1]) * 5000)
PY
}
# Refuses to run against a server that is already there (another session's): the writes and the task would land in it.
port_free() { for port in "$@"; do if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then echo "port $port is in use; set TOCK_PORT/INFLUX_PORT" >&2; exit 1; fi; done; }
port_free "$TOCK_PORT" "$INFLUX_PORT" "$((INFLUX_PORT + 2))"
wait_port() { for _ in $(seq 1 150); do curl -sf -o /dev/null "http://127.0.0.1:$1/ping" && return 0; sleep 0.2; done; echo "port $1 not up" >&2; exit 1; }
rss_mib() { awk -v k="$2:" '$1 == k {printf "%d", $2 / 1024}' "/proc/$1/status"; }
cpu_s() { awk '{printf "%.1f", ($14 + $15) / 100}' "/proc/$1/stat"; }   # utime+stime, clock ticks of 1/100 s
per_cpu() { python3 -c "print(f'{$1 / max($(cpu_s "$2"), 0.01) / 1e6:.2f} M points per CPU-second')"; }   # POINTS PID

start_tock() { # [binary]
  rm -rf "$WORK/tock"
  "${1:-$TOCK}" serve --bind "127.0.0.1:$TOCK_PORT" --data-dir "$WORK/tock" 2>"$WORK/tock.log" &
  TOCK_PID=$!; pids+=("$TOCK_PID")
  wait_port "$TOCK_PORT"
  kill -0 "$TOCK_PID" 2>/dev/null || { echo "tock serve exited: $(tail -3 "$WORK/tock.log")" >&2; exit 1; }
  "$TOCK" define bench -url "http://127.0.0.1:$TOCK_PORT" -type stream -tick "$WORK/task.tick" -dbrp bench.autogen >/dev/null
  "$TOCK" enable bench -url "http://127.0.0.1:$TOCK_PORT" >/dev/null
}
stop_pid() { kill -TERM "$1"; wait "$1" 2>/dev/null || true; }
task_emitted() { # the task's counters: points the stream source passed, means the mean node emitted
  curl -sf "http://127.0.0.1:$TOCK_PORT/kapacitor/v1/tasks/bench" | python3 -c '
import json, sys
s = json.load(sys.stdin)["stats"]["node-stats"]
print(s["stream0"]["emitted"], s["mean3"]["emitted"])'
}

start_influx() {
  rm -rf "$WORK/influx"
  cat > "$WORK/influxdb.conf" <<CONF
reporting-disabled = true
bind-address = "127.0.0.1:$((INFLUX_PORT + 2))"
[meta]
  dir = "$WORK/influx/meta"
[data]
  dir = "$WORK/influx/data"
  wal-dir = "$WORK/influx/wal"
  query-log-enabled = false
[http]
  bind-address = "127.0.0.1:$INFLUX_PORT"
  log-enabled = false
[monitor]
  store-enabled = false
[continuous_queries]
  enabled = false
CONF
  influxd -config "$WORK/influxdb.conf" >"$WORK/influx.log" 2>&1 &
  INFLUX_PID=$!; pids+=("$INFLUX_PID")
  wait_port "$INFLUX_PORT"
  kill -0 "$INFLUX_PID" 2>/dev/null || { echo "influxd exited: $(tail -3 "$WORK/influx.log")" >&2; exit 1; }
  curl -sf -o /dev/null -X POST "http://127.0.0.1:$INFLUX_PORT/query" --data-urlencode "q=CREATE DATABASE bench"
}

echo "machine: $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg); wrk -t$THREADS -c$CONNECTIONS -d$DURATION, 5,000-line bodies"
for run in $(seq "$RUNS"); do
  if [[ -n "${BASELINE:-}" ]]; then
    start_tock "$BASELINE"
    read -r pps err p50 p99 total < <(run_wrk "http://127.0.0.1:$TOCK_PORT/write?db=bench&rp=autogen" "base$run" "$DURATION")
    echo "run $run baseline: $pps points/s, errors $err, latency p50 $p50 ms p99 $p99 ms, peak RSS $(rss_mib "$TOCK_PID" VmHWM) MiB, CPU $(cpu_s "$TOCK_PID") s ($(per_cpu "$total" "$TOCK_PID")), load $(cut -d' ' -f1 /proc/loadavg)"
    echo "baseline $pps" >> "$WORK/results"
    stop_pid "$TOCK_PID"
  fi
  start_tock
  read -r pps err p50 p99 total < <(run_wrk "http://127.0.0.1:$TOCK_PORT/write?db=bench&rp=autogen" "tock$run" "$DURATION")
  read -r seen means < <(task_emitted)
  echo "run $run tock:     $pps points/s, errors $err, latency p50 $p50 ms p99 $p99 ms, peak RSS $(rss_mib "$TOCK_PID" VmHWM) MiB, CPU $(cpu_s "$TOCK_PID") s ($(per_cpu "$total" "$TOCK_PID")), task saw $seen points, emitted $means means, load $(cut -d' ' -f1 /proc/loadavg)"
  echo "tock $pps" >> "$WORK/results"
  stop_pid "$TOCK_PID"
  start_influx
  read -r pps err p50 p99 total < <(run_wrk "http://127.0.0.1:$INFLUX_PORT/write?db=bench" "influx$run" "$DURATION")
  echo "run $run influxdb: $pps points/s, errors $err, latency p50 $p50 ms p99 $p99 ms, peak RSS $(rss_mib "$INFLUX_PID" VmHWM) MiB, CPU $(cpu_s "$INFLUX_PID") s ($(per_cpu "$total" "$INFLUX_PID")), load $(cut -d' ' -f1 /proc/loadavg)"
  echo "influx $pps" >> "$WORK/results"
  stop_pid "$INFLUX_PID"
done
python3 - "$WORK/results" <<'PY'
import statistics, sys
r = {}
for line in open(sys.argv[1]):
    k, v = line.split(); r.setdefault(k, []).append(int(v))
t, i = statistics.median(r["tock"]), statistics.median(r["influx"])
print(f"median tock {t:,.0f} points/s, influxdb {i:,.0f} points/s, ratio {t / i:.1f}x ({len(r['tock'])} runs each)")
if "baseline" in r:
    b = statistics.median(r["baseline"])
    print(f"median baseline tock {b:,.0f} points/s (ratio to influxdb {b / i:.1f}x); tock / baseline {t / b:.2f}x")
PY

if [[ "$SUSTAIN" != 0 ]]; then
  start_tock
  run_wrk "http://127.0.0.1:$TOCK_PORT/write?db=bench&rp=autogen" sustain "$SUSTAIN" > "$WORK/sustain.result" &
  WRK_PID=$!
  samples=""
  while kill -0 "$WRK_PID" 2>/dev/null; do samples+=" $(rss_mib "$TOCK_PID" VmRSS)"; sleep 5; done
  wait "$WRK_PID"
  read -r pps err p50 p99 total < "$WORK/sustain.result"
  read -r seen means < <(task_emitted)
  echo "sustained $SUSTAIN tock: $pps points/s, errors $err, RSS MiB every 5 s:$samples; peak $(rss_mib "$TOCK_PID" VmHWM) MiB; task saw $seen points, emitted $means means"
  stop_pid "$TOCK_PID"
fi
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
