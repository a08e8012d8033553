#!/usr/bin/env python3
"""Helper of run-latency-bench.sh: the paced /write writer, the loopback alert receiver and the summary.

    latency_bench.py receive PORT OUT            # until SIGTERM; then one line per POST into OUT
    latency_bench.py write PORT RATE SECONDS TASKS MARKS OUT
    latency_bench.py summarize WRITER_OUT RECEIVER_OUT WARMUP

Python standard library only. Everything is on 127.0.0.1.

The writer POSTs 5,000-line bodies without timestamps (the server stamps them when it has read the body) on one
keep-alive connection, paced to RATE points a second on a fixed schedule (a late request is caught up, never
skipped; the writer stops at SECONDS of wall time even when behind). Line j of a body is `latNNN,host=hHH v=…,m=0i` for task NNN = j mod TASKS, so each task reads RATE/TASKS
points a second. MARKS points a second (spread over the bodies, each at a random line, for a random task) are
marked instead: `m=1i,seq=Si,sent=Ti`, where T is time.time_ns() taken just before the body is assembled and sent.
The writer logs each marked point (`mark SEQ TASK SENT_NS`) and, at the end, a `writer` summary line.

The receiver is an asyncio HTTP/1.1 server that keeps connections open (every `post` handler holds one), stamps
each request with time.time_ns() once its whole body is read, answers an empty 200 at once, and parses the
bodies (Kapacitor's alert JSON) only when it is stopped.
"""
import asyncio
import json
import random
import signal
import statistics
import sys
import time
import http.client

LINES = 5000


def receive(port, out):
    got = []

    async def handle(reader, writer):
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                length = 0
                for line in head.split(b"\r\n"):
                    if line[:15].lower() == b"content-length:":
                        length = int(line[15:])
                body = await reader.readexactly(length) if length else b""
                got.append((time.time_ns(), body))
                writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")
        except (asyncio.IncompleteReadError, ConnectionError, asyncio.LimitOverrunError, asyncio.CancelledError):
            pass
        finally:
            writer.close()

    async def main():
        server = await asyncio.start_server(handle, "127.0.0.1", port, limit=1 << 20)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        loop.add_signal_handler(signal.SIGTERM, stop.set)
        loop.add_signal_handler(signal.SIGINT, stop.set)
        async with server:
            await stop.wait()

    asyncio.run(main())
    with open(out, "w") as f:
        for t, body in got:
            try:
                e = json.loads(body)
            except ValueError:
                f.write(f"{t} bad - - - -\n")
                continue
            seq = sent = "-"
            for s in (e.get("data") or {}).get("series") or []:
                cols = s.get("columns") or []
                for row in s.get("values") or []:
                    r = dict(zip(cols, row))
                    if r.get("seq") is not None:
                        seq, sent = r["seq"], r["sent"]
            f.write(f"{t} {e.get('level')} {seq} {sent} {rfc3339_ns(e.get('time', ''))} {e.get('id')}\n")


def rfc3339_ns(text):
    """'2026-12-03T15:04:05.123456789Z' -> ns since the epoch ('-' if not that shape)."""
    import calendar
    try:
        date, _, rest = text.partition("T")
        clock = rest.rstrip("Z")
        hms, _, frac = clock.partition(".")
        y, mo, d = (int(x) for x in date.split("-"))
        h, mi, s = (int(x) for x in hms.split(":"))
        secs = calendar.timegm((y, mo, d, h, mi, s, 0, 0, 0))
        return secs * 1_000_000_000 + int((frac + "000000000")[:9])
    except ValueError:
        return "-"


def write(port, rate, duration, tasks, marks, out):
    lines = [f"lat{j % tasks:03d},host=h{j // tasks:02d} v={j % 97}.5,m=0i\n".encode() for j in range(LINES)]
    interval = LINES / rate
    per_body = marks * interval  # marked points per body, on average
    rng = random.Random(12)
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    log = open(out, "w")
    sent = failed = seq = late = 0
    statuses = {}
    start = time.monotonic()
    carry = 0.0
    k = 0
    while True:
        due = start + k * interval
        now = time.monotonic()
        if due - start >= duration or now - start >= duration:
            break  # the schedule's end, or its time (a server that cannot keep up: the rate reached says so)
        if due > now:
            time.sleep(due - now)
        elif now - due > interval:
            late += 1
        carry += per_body
        n = int(carry)
        carry -= n
        positions = sorted(rng.sample(range(LINES), n))
        t0 = time.time_ns()
        parts = []
        prev = 0
        for p in positions:
            task = p % tasks
            parts += lines[prev:p]
            parts.append(f"lat{task:03d},host=h{p // tasks:02d} v=1.5,m=1i,seq={seq}i,sent={t0}i\n".encode())
            log.write(f"mark {seq} {task} {t0}\n")
            seq += 1
            prev = p + 1
        parts += lines[prev:]
        body = b"".join(parts)
        try:
            conn.request("POST", "/write?db=bench&rp=autogen", body, {"Content-Type": "text/plain"})
            r = conn.getresponse()
            r.read()
            statuses[r.status] = statuses.get(r.status, 0) + 1
            if r.status == 204:
                sent += LINES
            else:
                failed += 1
        except Exception as e:  # counted, and a new connection
            failed += 1
            statuses[type(e).__name__] = statuses.get(type(e).__name__, 0) + 1
            conn.close()
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        k += 1
    elapsed = time.monotonic() - start
    log.write(f"writer sent {sent} failed {failed} seconds {elapsed:.1f} rate {sent / elapsed:.0f} "
              f"marks {seq} late {late} statuses {statuses}\n")
    log.close()


def pct(sorted_values, q):
    if not sorted_values:
        return float("nan")
    i = min(len(sorted_values) - 1, max(0, int(round(q * (len(sorted_values) - 1)))))
    return sorted_values[i]


def summarize(writer_out, receiver_out, warmup):
    marks = {}
    start = None
    summary = ""
    for line in open(writer_out):
        f = line.split()
        if f[0] == "mark":
            marks[int(f[1])] = (int(f[2]), int(f[3]))
            start = int(f[3]) if start is None else start
        elif f[0] == "writer":
            summary = line.strip()
    cutoff = (start or 0) + int(warmup * 1e9)
    e2e, server, dups = [], [], 0
    seen = set()
    levels = {}
    for line in open(receiver_out):
        t, level, seq, sent, etime, _ = line.split(maxsplit=5)
        levels[level] = levels.get(level, 0) + 1
        if seq == "-":
            continue
        seq, t = int(seq), int(t)
        if seq in seen:
            dups += 1
            continue
        seen.add(seq)
        sent_ns = marks[seq][1] if seq in marks else int(sent)
        if sent_ns < cutoff:
            continue
        e2e.append((t - sent_ns) / 1e6)
        if etime != "-":
            server.append((t - int(etime)) / 1e6)
    counted = [s for s, (_, t) in marks.items() if t >= cutoff]
    lost = sum(1 for s in counted if s not in seen)
    e2e.sort()
    server.sort()
    print(f"  {summary}")
    print(f"  POSTs received by level: {levels}; marked points {len(marks)}, after warm-up {len(counted)}, "
          f"lost {lost}, duplicates {dups}")
    print(f"  send->delivery  ms: p50 {pct(e2e, .5):.2f}  p99 {pct(e2e, .99):.2f}  max {max(e2e, default=float('nan')):.2f}"
          f"  (n={len(e2e)})")
    print(f"  server stamp->delivery ms: p50 {pct(server, .5):.2f}  p99 {pct(server, .99):.2f}"
          f"  max {max(server, default=float('nan')):.2f}")
    # One machine-readable row: p50 p99 max count lost server-p50 server-p99
    print(f"ROW {pct(e2e, .5):.3f} {pct(e2e, .99):.3f} {max(e2e, default=float('nan')):.3f} {len(e2e)} {lost} "
          f"{pct(server, .5):.3f} {pct(server, .99):.3f}")


if __name__ == "__main__":
    cmd, args = sys.argv[1], sys.argv[2:]
    if cmd == "receive":
        receive(int(args[0]), args[1])
    elif cmd == "write":
        write(int(args[0]), int(args[1]), float(args[2]), int(args[3]), float(args[4]), args[5])
    elif cmd == "summarize":
        summarize(args[0], args[1], float(args[2]))
    else:
        sys.exit(__doc__)
