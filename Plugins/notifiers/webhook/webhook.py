"""A sample notifier plugin: POSTs Kapacitor's alert JSON to the handler's `url`, with optional
`headers`. A 2xx is delivered, a 5xx, 429 or a connection error is retried by Tock with backoff,
any other status fails for good (the event is dead-lettered with the receiver's answer).

    [notifiers.webhook]
      prog = "/usr/bin/python3"
      args = ["-u", "Plugins/notifiers/webhook/webhook.py"]
      [notifiers.webhook.env]
        PYTHONPATH = "Protocol/python"
"""
import urllib.error
import urllib.request

from tock_plugin import Notifier, Option, Delivered, Retry, Fail


class Webhook(Notifier):
    name = "webhook"
    version = "1.0"
    options = [
        Option("url", "string", required=True, description="where to POST the alert JSON"),
        Option("headers", "string_map", description="extra request headers"),
        Option("timeout", "duration", description="per request (default 10s)"),
    ]
    max_in_flight = 4

    def notify(self, event, options):
        request = urllib.request.Request(options["url"], data=event["json"].encode(), method="POST")
        request.add_header("Content-Type", "application/json")
        for name, value in (options.get("headers") or {}).items():
            request.add_header(name, value)
        try:
            with urllib.request.urlopen(request, timeout=options.get("timeout") or 10) as response:
                response.read()
            return Delivered()
        except urllib.error.HTTPError as e:
            text = e.read(512).decode("utf-8", "replace")
            if e.code >= 500 or e.code == 429:
                return Retry("status %d: %s" % (e.code, text))
            return Fail("status %d: %s" % (e.code, text))
        except (urllib.error.URLError, OSError) as e:
            return Retry(str(e))


if __name__ == "__main__":
    Webhook().run()
