#!/usr/bin/env python3
"""A Telegraf execd input plugin, as such plugins are written: waits for a newline on stdin (signal = "STDIN"),
then prints one line of line protocol and flushes. Logs with Telegraf's level prefixes on stderr.

Options (argv): --crash-after N   exit with status 3 after N lines
                --garbage         print a malformed line before each good one
                --ignore-term     ignore SIGTERM (the host must SIGKILL it)
"""
import os
import signal
import sys

args = sys.argv[1:]
crash_after = int(args[args.index("--crash-after") + 1]) if "--crash-after" in args else None
garbage = "--garbage" in args
if "--ignore-term" in args:
    signal.signal(signal.SIGTERM, signal.SIG_IGN)

source = os.environ.get("SOURCE", "execd")
print(f"I! counter plugin started for {source}", file=sys.stderr, flush=True)
count = 0
for _ in sys.stdin:
    count += 1
    if garbage:
        print("this is not line protocol", flush=True)
    print(f"counter,source={source} value={count}i", flush=True)
    print(f"D! wrote line {count}", file=sys.stderr, flush=True)
    if crash_after is not None and count >= crash_after:
        print("E! giving up on purpose", file=sys.stderr, flush=True)
        sys.exit(3)
print("W! stdin closed, exiting", file=sys.stderr, flush=True)
