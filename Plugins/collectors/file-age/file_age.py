#!/usr/bin/env python3
"""A sample collector plugin: the age of the newest file in each configured directory (is last night's backup
there?), as `file_age,path=<dir> newest_age_seconds=…,files=…i`. Tock runs it under [[collectors.file_age]]:

    [[collectors.file_age]]
      prog = "python3"
      args = ["Plugins/collectors/file-age/file_age.py"]
      env = { PYTHONPATH = "Protocol/python" }
      interval = "1m"
      paths = ["/var/backups"]
"""
import os
import time

from tock_plugin import Collector, Option


class FileAge(Collector):
    name = "file_age"
    version = "1.0"
    interval = 60
    options = [Option("paths", "string_list", required=True, description="directories to watch")]

    def gather(self, time_ns, options):
        points = []
        for path in options["paths"]:
            newest, files = None, 0
            for entry in os.scandir(path):
                if entry.is_file(follow_symlinks=False):
                    files += 1
                    mtime = entry.stat(follow_symlinks=False).st_mtime
                    newest = mtime if newest is None or mtime > newest else newest
            fields = {"files": files}
            if newest is not None:
                fields["newest_age_seconds"] = max(0.0, time.time() - newest)
            points.append({"name": "file_age", "tags": {"path": path}, "fields": fields})
        return points


if __name__ == "__main__":
    FileAge().run()
