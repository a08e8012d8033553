"""A notifier whose behaviour the test picks per event with the `mode` option:
deliver (appends the event's JSON line to $NOTIFIER_OUT), permanent, retry-once (a retryable failure
on the first attempt, delivered on the next), hang (never answers), crash (exits 3 after writing to
stderr), garbage (writes bytes that are not a frame)."""
import os
import sys

from tock_plugin import Notifier, Option, Delivered, Retry, Fail


class Scripted(Notifier):
    name = "scripted"
    version = "1.2"
    options = [Option("mode", "string", required=True), Option("tag", "string"), Option("count", "int")]
    max_in_flight = 4

    def notify(self, event, options):
        mode = options["mode"]
        if mode == "deliver":
            with open(os.environ["NOTIFIER_OUT"], "a") as f:
                f.write(event["json"] + "\n")
            return Delivered()
        if mode == "permanent":
            return Fail("no such pager: %s" % options.get("tag", "?"))
        if mode == "retry-once":
            marker = os.environ["NOTIFIER_OUT"] + ".seen." + event["id"].replace("/", "_")
            if not os.path.exists(marker):
                open(marker, "w").close()
                return Retry("pager busy", after_seconds=0.2)
            with open(os.environ["NOTIFIER_OUT"], "a") as f:
                f.write(event["json"] + "\n")
            return Delivered()
        if mode == "hang":
            import time
            time.sleep(3600)
        if mode == "crash":
            sys.stderr.write("E! scripted: crashing on purpose\n")
            sys.stderr.flush()
            os._exit(3)
        if mode == "garbage":
            sys.stdout.buffer.write(b"\xff\xff\xff\xff\xff\xff")
            sys.stdout.buffer.flush()
            import time
            time.sleep(5)
        return Fail("unknown mode %s" % mode)


if __name__ == "__main__":
    Scripted().run()
