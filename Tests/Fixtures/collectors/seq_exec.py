#!/usr/bin/env python3
"""An `exec` collector for the agent's end-to-end test: each run prints the next number of a sequence as line
protocol (`agent_seq n=<i>i`) and appends it to a ledger, so the test can check that every number printed reached
the server. The sequence continues across agent restarts (its state is a file)."""
import os
import sys

state, ledger = sys.argv[1], sys.argv[2]
try:
    with open(state) as f:
        n = int(f.read().strip() or 0)
except FileNotFoundError:
    n = 0
n += 1
with open(state + ".tmp", "w") as f:
    f.write(str(n))
os.replace(state + ".tmp", state)
print(f"agent_seq n={n}i", flush=True)
with open(ledger, "a") as f:
    f.write(f"{n}\n")
