"""Tock's plugin SDK for Python: write a notifier that Tock runs as a child process.

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
"""
from .notifier import Notifier, Option, Delivered, Retry, Fail  # noqa: F401

__all__ = ["Notifier", "Option", "Delivered", "Retry", "Fail"]
