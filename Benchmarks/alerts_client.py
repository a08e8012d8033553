"""The baseline of `tock bench alerts`: a plain Python HTTP client posting the bodies Tock's `post` handler sent to the
same loopback receiver, one at a time, with urllib as the sample webhook notifier does (a connection per request).

    python3 Benchmarks/alerts_client.py URL BODY_FILE COUNT RATE

BODY_FILE holds one alert body with `%SEQ%` where its sequence number goes (the digits of "message"). RATE is
requests per second, 0 for as fast as possible. Prints one JSON object: the Unix ns at which each request was
started, by sequence number.
"""
import json
import sys
import time
import urllib.request


def main():
    url, body_file, count, rate = sys.argv[1], sys.argv[2], int(sys.argv[3]), float(sys.argv[4])
    template = open(body_file, encoding="utf-8").read()
    head, tail = template.split("%SEQ%", 1)
    sent = [0] * count
    start = time.monotonic()
    for seq in range(count):
        if rate > 0:
            delay = start + seq / rate - time.monotonic()
            if delay > 0:
                time.sleep(delay)
        body = (head + str(seq) + tail).encode()
        request = urllib.request.Request(url, data=body, method="POST")
        request.add_header("Content-Type", "application/json")
        sent[seq] = time.time_ns()
        with urllib.request.urlopen(request, timeout=10) as response:
            response.read()
    json.dump({"sent": sent}, sys.stdout)


if __name__ == "__main__":
    main()
