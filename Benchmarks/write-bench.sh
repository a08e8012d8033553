#!/usr/bin/env bash
# Write throughput of `tock serve` /write into one enabled stream task (from|window|mean), and of InfluxDB 1.x
# /write on the same machine, driven by wrk with 5,000-line request bodies. Loopback only; temp dirs.
#
#   Benchmarks/write-bench.sh [duration=20s] [connections=8] [threads=2]
#
# Needs: a release build (swift build -c release --product tock), wrk, influxd (apt-get install wrk influxdb).
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION=${1:-20s}; CONNECTIONS=${2:-8}; THREADS=${3:-2}
TOCK=${TOCK:-.build/release/tock}
TOCK_PORT=${TOCK_PORT:-19092}; INFLUX_PORT=${INFLUX_PORT:-18086}
WORK=$(mktemp -d /tmp/tock-write-bench.XXXXXX)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done; rm -rf "$WORK"; }
trap cleanup EXIT

# The request body: 5,000 points of 10 series, second precision, one timestamp per 10 lines.
python3 - "$WORK/body.lp" <<'PY'
import sys
with open(sys.argv[1], "w") as f:
    for i in range(5000):
        f.write(f"cpu,host=server{i % 10},region=eu usage_user={i % 97}.5,usage_system={i % 13}i {1700000000 + i // 10}\n")
PY
cat > "$WORK/post.lua" <<LUA
local f = io.open("$WORK/body.lp", "rb")
wrk.method = "POST"
wrk.body = f:read("*a")
f:close()
wrk.headers["Content-Type"] = "text/plain"
done = function(summary, latency, requests)
  local errors = summary.errors.status + summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout
  io.write(string.format("RESULT requests=%d seconds=%.3f errors=%d\n", summary.requests, summary.duration / 1e6, errors))
end
LUA

run_wrk() { # url label
  wrk -t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" -s "$WORK/post.lua" "$1" | tee "$WORK/$2.out" >&2
  local line; line=$(grep RESULT "$WORK/$2.out")
  local req sec err
  req=$(sed -E 's/.*requests=([0-9]+).*/\1/' <<<"$line"); sec=$(sed -E 's/.*seconds=([0-9.]+).*/\1/' <<<"$line")
  err=$(sed -E 's/.*errors=([0-9]+).*/\1/' <<<"$line")
  python3 -c "print(int($req * 5000 / $sec), $err)"
}

wait_port() { for _ in $(seq 1 100); do curl -sf -o /dev/null "http://127.0.0.1:$1/ping" && return 0; sleep 0.2; done; echo "port $1 not up" >&2; exit 1; }

# --- Tock
"$TOCK" serve --bind "127.0.0.1:$TOCK_PORT" --data-dir "$WORK/tock" 2>"$WORK/tock.log" &
TOCK_PID=$!; pids+=("$TOCK_PID")
wait_port "$TOCK_PORT"
curl -sf -o /dev/null -X POST "http://127.0.0.1:$TOCK_PORT/kapacitor/v1/tasks" -d '{"id":"bench","type":"stream","dbrps":[{"db":"bench","rp":"autogen"}],"status":"enabled","script":"stream\n    |from()\n        .measurement('"'"'cpu'"'"')\n    |window()\n        .period(10s)\n        .every(10s)\n    |mean('"'"'usage_user'"'"')\n"}'
read -r TOCK_PPS TOCK_ERR < <(run_wrk "http://127.0.0.1:$TOCK_PORT/write?db=bench&rp=autogen&precision=s" tock)
TOCK_RSS_KB=$(awk '/VmHWM/ {print $2}' "/proc/$TOCK_PID/status")
STATS=$(curl -sf "http://127.0.0.1:$TOCK_PORT/kapacitor/v1/tasks/bench" | python3 -c 'import json,sys; t=json.load(sys.stdin); print(t["stats"]["node-stats"]["stream0"]["emitted"])')
kill -TERM "$TOCK_PID"; wait "$TOCK_PID" || true

# --- InfluxDB 1.x
INFLUX_PPS=n/a; INFLUX_ERR=n/a
if command -v influxd >/dev/null; then
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
CONF
  influxd -config "$WORK/influxdb.conf" >"$WORK/influx.log" 2>&1 &
  pids+=("$!")
  wait_port "$INFLUX_PORT"
  curl -sf -o /dev/null -X POST "http://127.0.0.1:$INFLUX_PORT/query" --data-urlencode "q=CREATE DATABASE bench"
  read -r INFLUX_PPS INFLUX_ERR < <(run_wrk "http://127.0.0.1:$INFLUX_PORT/write?db=bench&precision=s" influx)
fi

echo "tock:     $TOCK_PPS points/s (errors $TOCK_ERR), peak RSS $((TOCK_RSS_KB / 1024)) MiB, task saw $STATS points"
echo "influxdb: $INFLUX_PPS points/s (errors $INFLUX_ERR)"
if [[ "$INFLUX_PPS" != n/a ]]; then python3 -c "print(f'ratio:    {$TOCK_PPS / $INFLUX_PPS:.1f}x')"; fi
