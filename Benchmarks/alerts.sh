#!/usr/bin/env bash
# Alert throughput and latency (BENCHMARKS.md, "Alerts"): `tock bench alerts`, a stream task whose every point is a
# critical alert, delivered
#   log       with .log('/dev/null')                        (the engine and the delivery queue, no network)
#   post      with .post(URL) to a loopback HTTP receiver in the bench process
#   notifier  with .notify('webhook') through Plugins/notifiers/webhook/webhook.py (Python) to the same receiver
#   python    baseline: Benchmarks/alerts_client.py, plain Python urllib posting the same bodies to the same receiver
# and prints alerts/s, CPU, and the arrival→delivery latency (p50, p99) at a steady RATE; medians of RUNS runs.
# Environment: POINTS (20000), LATENCY_POINTS (1000), RATE (200/s), RUNS (3), TOCK (.build/release/tock).
set -euo pipefail
cd "$(dirname "$0")/.."
TOCK=${TOCK:-.build/release/tock}
[ -x "$TOCK" ] || { echo "no $TOCK: build it first (swift build -c release --product tock)" >&2; exit 1; }
echo "machine: $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg), $(uname -r)"
exec "$TOCK" bench alerts --points "${POINTS:-20000}" --latency-points "${LATENCY_POINTS:-1000}" \
    --rate "${RATE:-200}" --runs "${RUNS:-3}"
