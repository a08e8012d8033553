"""A notifier that misbehaves by event, for the dead-letter fault test. The event's ID says what it does:

  ok-*      delivered at once
  crash-*   the plugin exits on the first attempt (a retryable failure), delivered on a later one
  hang-*    the first attempt never answers (cut by the attempt timeout), delivered on a later one
  flaky-*   a retryable failure on the first attempt, delivered on the next
  refuse-*  refused every time (a permanent failure)
  down-*    a retryable failure every time
  late-*    a retryable failure until the file $NOTIFIER_OUT.up exists, then delivered

A delivered event appends its Kapacitor alert JSON as one line to $NOTIFIER_OUT; nothing else writes there, so each
line is one delivery. First attempts are remembered in marker files next to it (they survive the plugin's restarts).
"""
import os
import sys
import time

from tock_plugin import Notifier, Delivered, Retry, Fail


def first_time(event_id):
    marker = os.environ["NOTIFIER_OUT"] + ".seen." + event_id.replace("/", "_")
    if os.path.exists(marker):
        return False
    open(marker, "w").close()
    return True


class Faulty(Notifier):
    name = "faulty"
    version = "1.0"
    options = []
    max_in_flight = 4

    def deliver(self, event):
        with open(os.environ["NOTIFIER_OUT"], "a") as f:
            f.write(event["json"] + "\n")
        return Delivered()

    def notify(self, event, options):
        kind = event["id"].split("-")[0]
        if kind == "ok":
            return self.deliver(event)
        if kind == "crash":
            if first_time(event["id"]):
                sys.stderr.write("E! faulty: crashing on %s\n" % event["id"])
                sys.stderr.flush()
                os._exit(3)
            return self.deliver(event)
        if kind == "hang":
            if first_time(event["id"]):
                time.sleep(3600)
            return self.deliver(event)
        if kind == "flaky":
            if first_time(event["id"]):
                return Retry("receiver busy")
            return self.deliver(event)
        if kind == "refuse":
            return Fail("no such pager for %s" % event["id"])
        if kind == "down":
            return Retry("receiver down")
        if kind == "late":
            if not os.path.exists(os.environ["NOTIFIER_OUT"] + ".up"):
                return Retry("receiver not up yet")
            return self.deliver(event)
        return Fail("unknown event kind %s" % kind)


if __name__ == "__main__":
    Faulty().run()
