#!/usr/bin/env python3
"""A collector plugin (Tock's plugin protocol, Python SDK) whose faults a test chooses by option:
fault = "none" | "crash" (exit at the 2nd gather) | "hang" (stop answering at the 2nd gather) | "garbage" (write bytes
that are no frame at the 2nd gather) | "error" (report every gather failed) | "flood" (stream 5000 points at once).
Each gather reports one point `faulty,plugin=<label> gather=<n>i`."""
import os
import sys
import time

sys.path.insert(0, os.environ.get("TOCK_PYTHON_SDK", ""))
from tock_plugin import Collector, Option  # noqa: E402


class Faulty(Collector):
    name = "faulty"
    version = "1.0"
    interval = 0.2
    options = [Option("fault", "string"), Option("label", "string", required=True)]

    def start(self, options):
        self.count = 0
        print("I! faulty collector up, fault=%s" % options.get("fault", "none"), file=sys.stderr, flush=True)
        if options.get("fault") == "flood":
            self.emit([{"name": "flood", "fields": {"n": i}} for i in range(5000)])

    def gather(self, time_ns, options):
        self.count += 1
        fault = options.get("fault", "none")
        if self.count == 2:
            if fault == "crash":
                print("E! crashing on purpose", file=sys.stderr, flush=True)
                os._exit(7)
            if fault == "hang":
                print("W! hanging on purpose", file=sys.stderr, flush=True)
                time.sleep(3600)
            if fault == "garbage":
                sys.stdout.buffer.write(b"\xff\xff\xff\xff\xff\xff garbage")
                sys.stdout.buffer.flush()
        if fault == "error":
            raise IOError("sensor unplugged")
        return [{"name": "faulty", "tags": {"plugin": options["label"]}, "fields": {"gather": self.count}}]


if __name__ == "__main__":
    Faulty().run()
