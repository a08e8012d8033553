#!/usr/bin/env bash
# influxDBOut into a real InfluxDB (Debian's /usr/bin/influxd, 1.x) against a plain client writing the same batches.
# BENCHMARKS.md, "influxDBOut into InfluxDB". `tock run` cannot be used: its influxDBOut only prints the writes
# (CapturedInfluxDB, Host/tock/Run.swift), so Tock runs as the daemon:
#   tock   - tock serve --config (an [[influxdb]] section, disable-subscriptions = true) with the enabled task
#            stream|from().measurement('cpu')|influxDBOut().database('bench').buffer(5000).flushInterval(1s);
#            a client POSTs the points to Tock's /write in bodies of 5,000 lines; timed from the first POST until
#            SELECT count(value) in InfluxDB reaches N. Tock's CPU is the daemon's over that time.
#   plain  - the same client POSTs the same bodies straight to InfluxDB's /write?db=bench; timed the same way.
# Each run gets a fresh influxd (and a fresh tock); cases interleaved run for run. Points/s on wall time (InfluxDB's
# time dominates). Environment: POINTS (200000), SERIES (100), RUNS (3), TOCK (.build/release/tock).
source "$(dirname "$0")/bench-lib.sh"
POINTS=${POINTS:-200000}; SERIES=${SERIES:-100}
"$TOCK" bench generate --points "$POINTS" --series "$SERIES" -o "$WORK/points.lp"
cat > "$WORK/task.tick" <<'TICK'
stream
    |from()
        .measurement('cpu')
    |influxDBOut()
        .database('bench')
        .buffer(5000)
        .flushInterval(1s)
TICK

# post URL: the file in 5,000-line bodies, one after the other, from one Python client (urllib, keep-alive-free).
post() {
  python3 - "$WORK/points.lp" "$1" <<'PY'
import sys, urllib.request
lines = open(sys.argv[1], "rb").read().splitlines(keepends=True)
for i in range(0, len(lines), 5000):
    req = urllib.request.Request(sys.argv[2], data=b"".join(lines[i:i + 5000]), method="POST")
    with urllib.request.urlopen(req) as r:
        if r.status // 100 != 2: sys.exit(f"write failed: {r.status}")
PY
}
count() { curl -sf -G "$IURL/query" --data-urlencode "q=SELECT count(value) FROM bench.autogen.cpu" |
  python3 -c 'import json,sys; r = json.load(sys.stdin)["results"][0]; print(r["series"][0]["values"][0][1] if "series" in r else 0)'; }
wait_count() { # until InfluxDB holds POINTS points (600 s at most)
  local c=0
  for _ in $(seq 1 6000); do c=$(count); [[ "$c" -ge "$POINTS" ]] && return 0; sleep 0.1; done
  echo "InfluxDB holds only $c of $POINTS points" >&2; return 1
}

echo "machine: $(nproc) cores, load average $(load) at the start; $POINTS points in $SERIES series, bodies of 5,000 lines"
: > "$WORK/results"
for r in $(seq "$RUNS"); do
  # plain client
  start_influx
  curl -sf -o /dev/null -XPOST "$IURL/query" --data-urlencode "q=CREATE DATABASE bench"
  ic0=$(cpu_s "$INFLUX_PID"); t0=$(now)
  post "$IURL/write?db=bench"; wait_count; t1=$(now); ic1=$(cpu_s "$INFLUX_PID")
  python3 -c "w = $t1 - $t0; print('plain', f'{$POINTS / w:.0f}', f'{w:.2f}', 0, f'{$ic1 - $ic0:.2f}')" >> "$WORK/results"
  tail -1 "$WORK/results"; stop_pid "$INFLUX_PID"
  # tock
  start_influx
  curl -sf -o /dev/null -XPOST "$IURL/query" --data-urlencode "q=CREATE DATABASE bench"
  cat > "$WORK/tock.conf" <<CONF
[[influxdb]]
  enabled = true
  name = "bench"
  default = true
  urls = ["$IURL"]
  disable-subscriptions = true
CONF
  start_tock "$WORK/tock" "$WORK/tock.conf"
  "$TOCK" define out -url "$TURL" -type stream -dbrp bench.autogen -tick "$WORK/task.tick" >/dev/null
  "$TOCK" enable out -url "$TURL" >/dev/null
  ic0=$(cpu_s "$INFLUX_PID"); c0=$(cpu_s "$TOCK_PID"); t0=$(now)
  post "$TURL/write?db=bench&rp=autogen"; t_post=$(now); wait_count; t1=$(now)
  c1=$(cpu_s "$TOCK_PID"); ic1=$(cpu_s "$INFLUX_PID")
  python3 -c "w = $t1 - $t0; print('tock', f'{$POINTS / w:.0f}', f'{w:.2f}', f'{$c1 - $c0:.2f}', f'{$ic1 - $ic0:.2f}')" >> "$WORK/results"
  echo "$(tail -1 "$WORK/results")   (POSTs to Tock took $(python3 -c "print(f'{$t_post - $t0:.2f}')") s)"
  stop_pid "$TOCK_PID"; stop_pid "$INFLUX_PID"
  echo "  run $r done, load $(load)"
done
echo "medians: case, points/s (wall), wall s, Tock CPU s, influxd CPU s; load $(load) at the end"
median_table "$WORK/results"
