#!/usr/bin/env bash
# `tock agent` collecting every host built-in every INTERVAL and shipping to a local receiver, next to Debian's
# prometheus-node-exporter scraped at the same interval, in the same run (BENCHMARKS.md, "Agent mode").
#   agent:         tock agent with cpu, mem, swap, system, kernel, processes, disk, diskio, net, netstat, procstat,
#                  host_facts and exceptions, every INTERVAL, gzip batches posted to a receiver on loopback
#   node-exporter: prometheus-node-exporter (its default collectors), GET /metrics every INTERVAL
# Both run side by side for DURATION after one warm-up interval; the script prints, per run and as medians, the CPU
# seconds (user + system, from /proc/PID/stat) each used over DURATION, their RSS at the end and peak (VmHWM), and
# the anonymous part of the RSS (/proc/PID/smaps_rollup; the rest is file-backed: executables and libraries).
# `tock agent` runs the small tock-agent executable when it lies beside tock (same process: it execs it); the
# script names the executable that collected.
# The receiver (Python, discards bodies) and the scraper (curl) are not measured.
# Environment: DURATION (120 s), INTERVAL (10 s), RUNS (3), TOCK (.build/release/tock), AGENT (run this tock-agent
# directly instead of `$TOCK agent`, which execs the tock-agent beside it: the same process either way),
# NODE_EXPORTER (/usr/bin/prometheus-node-exporter).
source "$(dirname "$0")/bench-lib.sh"
DURATION=${DURATION:-120}
INTERVAL=${INTERVAL:-10}
NODE_EXPORTER=${NODE_EXPORTER:-/usr/bin/prometheus-node-exporter}
AGENT=${AGENT:-}
if [ -n "$AGENT" ]; then
  [ -x "$AGENT" ] || { echo "no $AGENT: swift build -c release --product tock-agent" >&2; exit 1; }
  agent_cmd=("$AGENT")
else
  [ -x "$TOCK" ] || { echo "no $TOCK: swift build -c release --product tock" >&2; exit 1; }
  agent_cmd=("$TOCK" agent)
fi
[ -x "$NODE_EXPORTER" ] || { echo "no $NODE_EXPORTER: apt-get install prometheus-node-exporter" >&2; exit 1; }

rss_kb() { awk '/^VmRSS/ {print $2}' "/proc/$1/status"; }
hwm_kb() { awk '/^VmHWM/ {print $2}' "/proc/$1/status"; }
anon_kb() { awk '/^Anonymous/ {print $2}' "/proc/$1/smaps_rollup"; }

RPORT=$(free_port)
python3 - "$RPORT" <<'PY' &
import http.server, sys
class Sink(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"   # keeps the connection open, as InfluxDB and Tock do
    def do_POST(self):
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        self.send_response(204); self.end_headers()
    def log_message(self, *a): pass
http.server.ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), Sink).serve_forever()
PY
pids+=($!)
sleep 0.5

cat > "$WORK/agent.conf" <<CONF
[agent]
  urls = ["http://127.0.0.1:$RPORT"]
  buffer-dir = "$WORK/buffer"
  heartbeat-interval = "${INTERVAL}s"
  flush-interval = "${INTERVAL}s"
CONF
for c in cpu mem swap system kernel processes disk diskio net netstat host_facts exceptions; do
  printf '[[collectors.%s]]\n  interval = "%ss"\n' "$c" "$INTERVAL" >> "$WORK/agent.conf"
done
printf '[[collectors.procstat]]\n  interval = "%ss"\n  pattern = "tock"\n' "$INTERVAL" >> "$WORK/agent.conf"

results=()
echo "load before: $(load)"
for run in $(seq 1 "$RUNS"); do
  "${agent_cmd[@]}" --config "$WORK/agent.conf" 2>"$WORK/agent-$run.log" &
  APID=$!; pids+=("$APID")
  NPORT=$(free_port)
  "$NODE_EXPORTER" --web.listen-address="127.0.0.1:$NPORT" >"$WORK/ne-$run.log" 2>&1 &
  NPID=$!; pids+=("$NPID")
  ( while sleep "$INTERVAL"; do curl -s -o /dev/null "http://127.0.0.1:$NPORT/metrics"; done ) &
  SPID=$!; pids+=("$SPID")
  curl -s -o /dev/null --retry 20 --retry-connrefused --retry-delay 0 "http://127.0.0.1:$NPORT/metrics"
  sleep "$INTERVAL"   # warm-up: both have started and gathered once
  echo "run $run: the agent is $(readlink "/proc/$APID/exe")"
  a0=$(cpu_s "$APID"); n0=$(cpu_s "$NPID")
  sleep "$DURATION"
  a1=$(cpu_s "$APID"); n1=$(cpu_s "$NPID")
  line=$(printf 'run %s agent_cpu_s %.2f agent_rss_mb %.1f agent_hwm_mb %.1f agent_anon_mb %.1f ne_cpu_s %.2f ne_rss_mb %.1f ne_hwm_mb %.1f ne_anon_mb %.1f' "$run" \
    "$(echo "$a1 - $a0" | bc)" "$(echo "$(rss_kb "$APID") / 1024" | bc -l)" "$(echo "$(hwm_kb "$APID") / 1024" | bc -l)" \
    "$(echo "$(anon_kb "$APID") / 1024" | bc -l)" \
    "$(echo "$n1 - $n0" | bc)" "$(echo "$(rss_kb "$NPID") / 1024" | bc -l)" "$(echo "$(hwm_kb "$NPID") / 1024" | bc -l)" \
    "$(echo "$(anon_kb "$NPID") / 1024" | bc -l)")
  echo "$line"
  results+=("$line")
  kill "$SPID" 2>/dev/null || true
  stop_pid "$NPID"; stop_pid "$APID"
  grep -q "E! " "$WORK/agent-$run.log" && { echo "agent errors:"; grep "E! " "$WORK/agent-$run.log" | head -5; }
done
echo "load after: $(load)"
printf '%s\n' "${results[@]}" | python3 -c '
import sys, statistics
rows = [dict(zip(l.split()[0::2], l.split()[1::2])) for l in sys.stdin if l.strip()]
keys = ["agent_cpu_s", "ne_cpu_s", "agent_rss_mb", "ne_rss_mb", "agent_hwm_mb", "ne_hwm_mb", "agent_anon_mb", "ne_anon_mb"]
med = {k: statistics.median(float(r[k]) for r in rows) for k in keys}
print("median over %d runs of %ss:" % (len(rows), sys.argv[1]), " ".join("%s %.2f" % (k, med[k]) for k in keys))
ratios = [float(r["agent_cpu_s"]) / float(r["ne_cpu_s"]) for r in rows if float(r["ne_cpu_s"]) > 0]
if ratios:
    print("agent CPU / node-exporter CPU per run:", " ".join("%.2f" % x for x in ratios), "median %.2f" % statistics.median(ratios))
' "$DURATION"
