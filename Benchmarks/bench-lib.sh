# Shared helpers of run-replay-bench.sh, run-influxdbout-bench.sh and run-printer-daemon-bench.sh (sourced).
# Everything binds to 127.0.0.1 on free ports, lives in a temp dir and is killed on exit.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
TOCK=${TOCK:-.build/release/tock}
RUNS=${RUNS:-3}
WORK=$(mktemp -d /tmp/tock-bench.XXXXXX)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done; rm -rf "$WORK"; }
trap cleanup EXIT
trap 'exit 130' INT TERM

free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
wait_port() { for _ in $(seq 1 300); do curl -sf -o /dev/null "http://127.0.0.1:$1/ping" && return 0; sleep 0.1; done; echo "port $1 not up" >&2; exit 1; }
now() { date +%s.%N; }
load() { cut -d' ' -f1-3 /proc/loadavg; }
# cpu_s PID: user + system CPU seconds of a running process (and its reaped children), clock ticks of 1/100 s.
cpu_s() { awk '{printf "%.2f", ($14 + $15 + $16 + $17) / 100}' "/proc/$1/stat"; }
stop_pid() { kill -TERM "$1" 2>/dev/null || true; wait "$1" 2>/dev/null || true; }

# start_tock DIR [CONFIG]: tock serve on a free port with DIR as data dir; sets TOCK_PID and TURL.
start_tock() {
  local dir=$1 conf=${2:-}
  rm -rf "$dir"; mkdir -p "$dir"
  local port; port=$(free_port)
  if [[ -n "$conf" ]]; then
    "$TOCK" serve --bind "127.0.0.1:$port" --data-dir "$dir" --config "$conf" 2>"$dir.log" &
  else
    "$TOCK" serve --bind "127.0.0.1:$port" --data-dir "$dir" 2>"$dir.log" &
  fi
  TOCK_PID=$!; pids+=("$TOCK_PID"); TURL="http://127.0.0.1:$port"
  wait_port "$port"
  kill -0 "$TOCK_PID" 2>/dev/null || { echo "tock serve exited: $(tail -3 "$dir.log")" >&2; exit 1; }
}

# start_influx: Debian's influxd (1.x) with a minimal loopback config in a temp dir; sets INFLUX_PID and IURL.
start_influx() {
  local dir=$WORK/influx port bport
  rm -rf "$dir"; mkdir -p "$dir"
  port=$(free_port); bport=$(free_port)
  cat > "$dir.conf" <<CONF
reporting-disabled = true
bind-address = "127.0.0.1:$bport"
[meta]
  dir = "$dir/meta"
[data]
  dir = "$dir/data"
  wal-dir = "$dir/wal"
  query-log-enabled = false
[http]
  bind-address = "127.0.0.1:$port"
  log-enabled = false
[monitor]
  store-enabled = false
[continuous_queries]
  enabled = false
CONF
  /usr/bin/influxd -config "$dir.conf" >"$dir.log" 2>&1 &
  INFLUX_PID=$!; pids+=("$INFLUX_PID"); IURL="http://127.0.0.1:$port"
  wait_port "$port"
  kill -0 "$INFLUX_PID" 2>/dev/null || { echo "influxd exited: $(tail -3 "$dir.log")" >&2; exit 1; }
}

# median_table FILE: rows "CASE VALUE..." -> the median of each column per case.
median_table() {
  python3 - "$1" <<'PY'
import statistics, sys
rows = [l.split() for l in open(sys.argv[1]) if l.strip() and not l.startswith("#")]
for name in dict.fromkeys(r[0] for r in rows):
    mine = [r for r in rows if r[0] == name]
    cols = [statistics.median(float(r[i]) for r in mine) for i in range(1, len(mine[0]))]
    print(f"  {name:22} " + "  ".join(f"{c:12,.2f}" for c in cols) + f"   ({len(mine)} runs)")
PY
}
