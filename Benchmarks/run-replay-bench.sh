#!/usr/bin/env bash
# Replay throughput of the printer day (SampleUDFs/printer_data.py --seed 42: 86,402 points, precision s), with the
# three tTest() Python UDFs of SampleUDFs/printer/print_temps.tick and, as the baseline, the same 5-minute windows
# with a native mean() per field instead of the UDF (same alerts, never firing). BENCHMARKS.md, "Replay throughput".
#   run-udf / run-native       - tock run TICK --input day.lp --precision s --output none (wall and CPU of tock run,
#                                Python UDF children included)
#   replay-udf / replay-native - tock serve --config SampleUDFs/printer/tock.conf; the day as a stream recording;
#                                tock replay -task T -recording ID -rec-time, timed until GET /replays/ID is finished
#                                (wall, and the daemon's CPU during the replay, UDF children not included)
# Cases are interleaved run for run. Points/s = 86,402 / wall seconds. Environment: RUNS (3), TOCK (.build/release/tock).
source "$(dirname "$0")/bench-lib.sh"
DAY=$WORK/day.lp
python3 SampleUDFs/printer_data.py --seed 42 > "$DAY"
N=$(wc -l < "$DAY")
mkdir -p "$WORK/logs"
sed "s#/tmp/tock_udf/#$WORK/logs/#" SampleUDFs/printer/print_temps.tick > "$WORK/udf.tick"
python3 - "$WORK/logs/" > "$WORK/native.tick" <<'PY'
import sys
print('dbrp "printer"."autogen"\n\nvar data = stream\n    |from()\n        .measurement(\'temperatures\')\n'
      '    |window()\n        .period(5m)\n        .every(5m)\n')
for f in ("hotend", "bed", "air"):
    print(f"data\n    |mean('{f}')\n    |alert()\n        .id('{f}')\n        .crit(lambda: \"mean\" > 1000.0)\n"
          f"        .log('{sys.argv[1]}{f}_native.log')\n")
PY
# The recording: Kapacitor's .srpl (gzip; database, retention policy, line protocol with ns times per point), written
# straight into the replay dir, which the README documents as listed and replayable.
write_srpl() {
  python3 - "$DAY" "$1" <<'PY'
import gzip, sys
with open(sys.argv[1]) as src, gzip.open(sys.argv[2], "wt") as out:
    for line in src:
        head, ts = line.rsplit(" ", 1)
        out.write(f"printer\nautogen\n{head} {int(ts) * 1000000000}\n")
PY
}

echo "machine: $(nproc) cores, load average $(load) at the start; $N points"
: > "$WORK/results"
start_tock "$WORK/tock" SampleUDFs/printer/tock.conf
for t in udf native; do
  "$TOCK" define "print_$t" -url "$TURL" -type stream -dbrp printer.autogen -tick "$WORK/$t.tick" >/dev/null
done
# The documented way, once, to report what it does: record -duration 24h ends at the first point past 24 h of data.
"$TOCK" record stream -url "$TURL" -task print_udf -duration 24h -recording-id rec24h -no-wait >/dev/null
curl -sf -XPOST "$TURL/write?db=printer&rp=autogen&precision=s" --data-binary @"$DAY"
for _ in $(seq 1 100); do
  st=$(curl -sf "$TURL/kapacitor/v1/recordings/rec24h" | python3 -c 'import json,sys; print(json.load(sys.stdin).get("status"))')
  [[ "$st" == running ]] || break; sleep 0.2
done
echo "record stream -duration 24h: $(curl -sf "$TURL/kapacitor/v1/recordings/rec24h")"
mkdir -p "$WORK/tock/replay"
write_srpl "$WORK/tock/replay/day.srpl"
echo "recordings: $(curl -sf "$TURL/kapacitor/v1/recordings" | head -c 600)"

replay() { # TASK NAME RUN
  local t0 t1 c0 c1 st id="r-$2-$3"
  c0=$(cpu_s "$TOCK_PID"); t0=$(now)
  "$TOCK" replay -url "$TURL" -task "$1" -recording day -rec-time -replay-id "$id" -no-wait >/dev/null
  while :; do
    st=$(curl -sf "$TURL/kapacitor/v1/replays/$id" | python3 -c 'import json,sys; print(json.load(sys.stdin).get("status"))')
    [[ "$st" == running ]] || break; sleep 0.05
  done
  t1=$(now); c1=$(cpu_s "$TOCK_PID")
  [[ "$st" == finished ]] || { echo "replay $id: $(curl -sf "$TURL/kapacitor/v1/replays/$id" | head -c 400)" >&2; }
  python3 -c "w = $t1 - $t0; print('$2', f'{$N / w:.0f}', f'{w:.2f}', f'{$c1 - $c0:.2f}')" >> "$WORK/results"
  tail -1 "$WORK/results"
}
run() { # TICK NAME
  /usr/bin/time -f "%e %U %S" -o "$WORK/time" "$TOCK" run "$WORK/$1.tick" --input "$DAY" --precision s --output none \
    --config SampleUDFs/printer/tock.conf 2>"$WORK/run.err"
  echo "    summary: $(grep -i 'points' "$WORK/run.err" | head -3 | tr '\n' ' ')"
  read -r w u s < "$WORK/time"
  python3 -c "print('$2', f'{$N / $w:.0f}', '$w', f'{$u + $s:.2f}')" >> "$WORK/results"
  tail -1 "$WORK/results"
}
for r in $(seq "$RUNS"); do
  run udf run-udf; run native run-native
  replay print_udf replay-udf "$r"; replay print_native replay-native "$r"
  echo "  run $r done, load $(load)"
done
echo "replay-udf's alerts (last run): $(curl -sf "$TURL/kapacitor/v1/replays/r-replay-udf-$RUNS" | python3 -c '
import json, sys; r = json.load(sys.stdin); print(json.dumps(r.get("stats"))[:300])')"
echo "medians: case, points/s, wall s, CPU s; load $(load) at the end"
median_table "$WORK/results"
