#!/usr/bin/env bash
# The printer day (SampleUDFs/printer_data.py --seed 42, 86,402 points) through the daemon, against the embedded runs.
# BENCHMARKS.md, "The printer day through the daemon". Cases, interleaved run for run:
#   daemon - tock serve --config SampleUDFs/printer/tock.conf (fresh data dir), tock define print_temps (the
#            tTest() UDF task, logs in a temp dir), tock enable, POST the day to /write?db=printer&rp=autogen&precision=s,
#            wait until the three failure logs hold as many alerts as `tock run` printed for the same day (and no more
#            arrive within 1 s). Wall time from starting tock serve; "after POST" from the start of the POST.
#   run    - tock run print_temps.tick --input day.lp --precision s --config SampleUDFs/printer/tock.conf (it also
#            gives the expected number of alerts)
#   demo   - tock demo printer (the embedded demo, seed 42 by default)
# Environment: RUNS (3), TOCK (.build/release/tock).
source "$(dirname "$0")/bench-lib.sh"
DAY=$WORK/day.lp
python3 SampleUDFs/printer_data.py --seed 42 > "$DAY"
N=$(wc -l < "$DAY")
mkdir -p "$WORK/logs"
sed "s#/tmp/tock_udf/#$WORK/logs/#" SampleUDFs/printer/print_temps.tick > "$WORK/print_temps.tick"
logged() { cat "$WORK"/logs/*.log 2>/dev/null | wc -l; }

echo "machine: $(nproc) cores, load average $(load) at the start; $N points"
: > "$WORK/results"
for r in $(seq "$RUNS"); do
  # run (and the expected alerts)
  /usr/bin/time -f "%e %U %S" -o "$WORK/time" "$TOCK" run "$WORK/print_temps.tick" --input "$DAY" --precision s \
    --config SampleUDFs/printer/tock.conf > "$WORK/run.out" 2>"$WORK/run.err"
  rm -f "$WORK"/logs/*.log
  EXPECTED=$(grep -c '"level"' "$WORK/run.out")
  read -r w u s < "$WORK/time"
  python3 -c "print('run', '$w', f'{$u + $s:.2f}', '$EXPECTED')" >> "$WORK/results"; tail -1 "$WORK/results"
  # demo
  /usr/bin/time -f "%e %U %S" -o "$WORK/time" "$TOCK" demo printer --log-dir "$WORK/demo-logs" > "$WORK/demo.out" 2>&1
  read -r w u s < "$WORK/time"
  python3 -c "print('demo', '$w', f'{$u + $s:.2f}', 0)" >> "$WORK/results"; tail -1 "$WORK/results"
  # daemon
  t0=$(now)
  start_tock "$WORK/tock" SampleUDFs/printer/tock.conf
  "$TOCK" define print_temps -url "$TURL" -type stream -dbrp printer.autogen -tick "$WORK/print_temps.tick" >/dev/null
  "$TOCK" enable print_temps -url "$TURL" >/dev/null
  tp=$(now)
  curl -sf -XPOST "$TURL/write?db=printer&rp=autogen&precision=s" --data-binary @"$DAY"
  for _ in $(seq 1 6000); do [[ $(logged) -ge "$EXPECTED" ]] && break; sleep 0.05; done
  t1=$(now); c1=$(cpu_s "$TOCK_PID"); got=$(logged); sleep 1
  [[ $(logged) == "$EXPECTED" ]] || echo "daemon: $(logged) alerts logged, tock run printed $EXPECTED" >&2
  python3 -c "print('daemon', f'{$t1 - $t0:.2f}', '$c1', '$got')" >> "$WORK/results"
  python3 -c "print('daemon-after-POST', f'{$t1 - $tp:.2f}', 0, '$got')" >> "$WORK/results"
  tail -2 "$WORK/results"
  stop_pid "$TOCK_PID"; rm -f "$WORK"/logs/*.log
  echo "  run $r done, load $(load)"
done
echo "alerts per log (last daemon run was cleared; from the last tock run): $(grep -o '"id":"[a-z]*"' "$WORK/run.out" | sort | uniq -c | tr '\n' ' ')"
echo "medians: case, wall s, CPU s (daemon: tock serve only, UDF children not included), alerts; load $(load) at the end"
median_table "$WORK/results"
