"""Tock's plugin SDK for Python: write a notifier or a collector that Tock runs as a child process.

A notifier receives alert events on stdin and answers each one on stdout, framed as Tock's
``Protocol/plugin.proto`` says (a varint length, then a protobuf message). Subclass ``Notifier``,
declare the options its handlers may set, implement ``notify``, and call ``run()``::

    from tock_plugin import Notifier, Option, Delivered, Retry, Fail

    class Pager(Notifier):
        name = "pager"
        version = "1.0"
        options = [Option("url", "string", required=True)]

        def notify(self, event, options):
            ...  # deliver event (a dict) to options["url"]
            return Delivered()

    if __name__ == "__main__":
        Pager().run()

``notify`` returns ``Delivered()``, ``Retry(reason, after_seconds=None)`` when another attempt
may succeed (the host retries with backoff), or ``Fail(reason)`` when it never will (the host
dead-letters the event). An exception counts as ``Retry`` with its text. Log to stderr: lines
starting ``E! ``, ``W! ``, ``D! `` are logged by the host at that level.

A collector answers the host's gathers with points (or, streaming, sends them on its own)::

    from tock_plugin import Collector, Option

    class Queue(Collector):
        name = "queue"
        version = "1.0"
        interval = 30
        options = [Option("path", "string", required=True)]

        def gather(self, time, options):
            return [{"name": "queue", "tags": {"path": options["path"]}, "fields": {"depth": 3}}]

    if __name__ == "__main__":
        Queue().run()
"""
from .notifier import Notifier, Option, Delivered, Retry, Fail  # noqa: F401
from .collector import Collector  # noqa: F401

__all__ = ["Notifier", "Collector", "Option", "Delivered", "Retry", "Fail"]
