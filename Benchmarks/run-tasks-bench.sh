#!/usr/bin/env bash
# Many enabled tasks on one daemon (issue 12's executor figure). BENCHMARKS.md, "Many tasks on one daemon".
# For each binary (the baseline and the new one, interleaved run for run):
#   tock serve (fresh data dir); TASKS stream tasks defined enabled through the API, each
#     stream|from().measurement('cpu')|where(lambda: "value" > 100.0)|httpOut('hot')   (dbrp bench.autogen)
#   idle: 3 s after the last task is enabled, the daemon's Threads and VmRSS (/proc/PID/status);
#   burst: POINTS points (100 hosts, values 0..99: none passes the where) in one POST /write?db=bench, then one
#     sentinel point (value 1000, which every task passes to its httpOut);
#     drained once every task's httpOut shows the sentinel; threads sampled meanwhile (the most seen);
#   after: VmRSS 3 s after the drain, and the peak (VmHWM);
#   deliveries per CPU-second: POINTS x TASKS / the daemon's CPU (user + system, /proc/PID/stat) from the POST to the
#     drain (parsing and HTTP included; the polls of the httpOut endpoints too, a few hundred GETs).
# Environment: RUNS (3), TASKS (1000), POINTS (200000), CASES ("base new": which binaries, in this order), TOCK (.build-release/release/tock: the new binary),
#   BASE (/tmp/tock-base/.build-release/release/tock: main at 83d15f9, built with
#   `git archive 83d15f9 | tar -x -C /tmp/tock-base && swift build -c release --product tock --scratch-path /tmp/tock-base/.build-release`).
TOCK=${TOCK:-.build-release/release/tock}
source "$(dirname "$0")/bench-lib.sh"
NEW=$TOCK
BASE=${BASE:-/tmp/tock-base/.build-release/release/tock}
TASKS=${TASKS:-1000}
POINTS=${POINTS:-200000}
CASES=${CASES:-base new}
for c in $CASES; do
  b=$BASE; [[ $c == new ]] && b=$NEW
  [[ -x "$b" ]] || { echo "need $b (see the header)" >&2; exit 1; }
done

status() { awk -v k="$2:" '$1 == k {print $2}' "/proc/$1/status"; }
python3 - "$POINTS" > "$WORK/burst.lp" <<'PY'
import sys
n = int(sys.argv[1]); t0 = 1_700_000_000_000_000_000
sys.stdout.write("".join(f"cpu,host=h{i % 100} value={i % 100} {t0 + i * 1_000_000}\n" for i in range(n)))
PY
echo "cpu,host=sentinel value=1000 $((1700000000000000000 + POINTS * 1000000))" > "$WORK/sentinel.lp"

# define_tasks URL N: N enabled stream tasks t0..t(N-1) over one keep-alive connection.
define_tasks() {
  python3 - "$1" "$2" <<'PY'
import http.client, json, sys, urllib.parse
u = urllib.parse.urlparse(sys.argv[1]); c = http.client.HTTPConnection(u.hostname, u.port)
script = "stream|from().measurement('cpu')|where(lambda: \"value\" > 100.0)|httpOut('hot')"
for i in range(int(sys.argv[2])):
    body = json.dumps({"id": f"t{i}", "type": "stream", "dbrps": [{"db": "bench", "rp": "autogen"}],
                       "script": script, "status": "enabled"})
    c.request("POST", "/kapacitor/v1/tasks", body, {"Content-Type": "application/json"})
    r = c.getresponse(); r.read()
    if r.status != 200: sys.exit(f"task t{i}: HTTP {r.status}")
PY
}

# drained URL N: whether every task's httpOut shows the sentinel (checks t(N-1) first, then all).
drained() {
  python3 - "$1" "$2" <<'PY'
import http.client, sys, urllib.parse
u = urllib.parse.urlparse(sys.argv[1]); c = http.client.HTTPConnection(u.hostname, u.port)
def done(i):
    c.request("GET", f"/kapacitor/v1/tasks/t{i}/hot"); r = c.getresponse(); b = r.read()
    return r.status == 200 and b"1000" in b
n = int(sys.argv[2])
sys.exit(0 if done(n - 1) and all(done(i) for i in range(n)) else 1)
PY
}

echo "machine: $(nproc) cores, load average $(load) at the start; $TASKS tasks, $POINTS points"
echo "# case threads_idle threads_max rss_idle_MB rss_after_MB rss_peak_MB deliveries_per_cpu_s_M drain_s" > "$WORK/results"
for r in $(seq "$RUNS"); do
  for which in $CASES; do
    if [[ $which == base ]]; then TOCK=$BASE; else TOCK=$NEW; fi
    start_tock "$WORK/tock-$which"
    define_tasks "$TURL" "$TASKS"
    sleep 3
    th_idle=$(status "$TOCK_PID" Threads); rss_idle=$(status "$TOCK_PID" VmRSS)
    c0=$(cpu_s "$TOCK_PID"); t0=$(now)
    curl -sf -XPOST "$TURL/write?db=bench&rp=autogen" --data-binary @"$WORK/burst.lp"
    curl -sf -XPOST "$TURL/write?db=bench&rp=autogen" --data-binary @"$WORK/sentinel.lp"
    th_max=$th_idle
    for _ in $(seq 1 3000); do
      th=$(status "$TOCK_PID" Threads); (( th > th_max )) && th_max=$th
      drained "$TURL" "$TASKS" && break
      sleep 0.2
    done
    c1=$(cpu_s "$TOCK_PID"); t1=$(now)
    drained "$TURL" "$TASKS" || echo "$which: not drained after 10 minutes" >&2
    sleep 3
    rss_after=$(status "$TOCK_PID" VmRSS); rss_peak=$(status "$TOCK_PID" VmHWM)
    python3 -c "print('$which', $th_idle, $th_max, f'{$rss_idle/1024:.1f}', f'{$rss_after/1024:.1f}', f'{$rss_peak/1024:.1f}', f'{$POINTS * $TASKS / ($c1 - $c0) / 1e6:.2f}', f'{$t1 - $t0:.2f}')" >> "$WORK/results"
    tail -1 "$WORK/results"
    stop_pid "$TOCK_PID"
  done
  echo "  run $r done, load $(load)"
done
echo "medians: case, threads idle, threads max during the burst, RSS idle MB, RSS after the drain MB, peak RSS MB,"
echo "  M point-deliveries per CPU-second, drain s (POST to all drained); load $(load) at the end"
median_table "$WORK/results"
