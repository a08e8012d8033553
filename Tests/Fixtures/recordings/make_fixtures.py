"""Writes the recording fixtures the way Kapacitor writes them (services/replay/service.go, replay.go, v1.8):

- stream recordings (.srpl): for each point, its database, its retention policy and the point in line
  protocol with nanosecond times, each on a line (`WritePointForRecording`, precision "n"), gzip-compressed
  (`newStreamWriter` wraps the file in gzip.NewWriter), one gzip member;
- batch recordings (.brpl): a zip archive (Go's archive/zip `Create`: deflate, sizes and CRC in a data
  descriptor after the data, flag bit 3) with one entry per batch query, named 0, 1, …, each holding one
  JSON batch per line as `json.Encoder` writes `bufferedBatchMessage` (edge/messages.go).

Run from this directory: python3 make_fixtures.py. The files are committed; this script documents them.
"""
import gzip
import io
import json
import struct
import zlib

POINTS = [  # (db, rp, line protocol)
    ("telegraf", "autogen", "cpu,host=a usage=10 1700000000000000000"),
    ("telegraf", "autogen", "cpu,host=b usage=20 1700000001000000000"),
    ("telegraf", "autogen", "cpu,host=a usage=30 1700000002000000000"),
    ("other", "weekly", "mem,host=a used=5i 1700000003000000000"),
]


def srpl_text(points):
    return "".join("%s\n%s\n%s\n" % p for p in points).encode()


def write_gzip(path, data):
    with open(path, "wb") as f:
        with gzip.GzipFile(fileobj=f, mode="wb", mtime=0) as gz:
            gz.write(data)


def go_zip(entries, stored=()):
    """A zip archive as Go's zip.Writer.Create writes it (data descriptors), or stored when named in `stored`."""
    out = io.BytesIO()
    central = []
    for name, data in entries:
        crc = zlib.crc32(data) & 0xFFFFFFFF
        if name in stored:
            method, flags, body = 0, 0, data
        else:
            c = zlib.compressobj(6, zlib.DEFLATED, -15)
            method, flags, body = 8, 0x8, c.compress(data) + c.flush()
        offset = out.tell()
        n = name.encode()
        if flags & 0x8:
            out.write(struct.pack("<IHHHHHIIIHH", 0x04034B50, 20, flags, method, 0, 0x21, 0, 0, 0, len(n), 0))
        else:
            out.write(struct.pack("<IHHHHHIIIHH", 0x04034B50, 20, flags, method, 0, 0x21, crc, len(body), len(data), len(n), 0))
        out.write(n)
        out.write(body)
        if flags & 0x8:
            out.write(struct.pack("<IIII", 0x08074B50, crc, len(body), len(data)))
        central.append((n, flags, method, crc, len(body), len(data), offset))
    cd_start = out.tell()
    for n, flags, method, crc, csize, usize, offset in central:
        out.write(struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, 20, 20, flags, method, 0, 0x21, crc, csize, usize,
                              len(n), 0, 0, 0, 0, 0o644 << 16, offset))
        out.write(n)
    cd_size = out.tell() - cd_start
    out.write(struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, len(central), len(central), cd_size, cd_start, 0))
    return out.getvalue()


def batch(name, tags, points, tmax, group=None):
    b = {"name": name, "tmax": tmax}
    if group:
        b["group"] = group
    if tags:
        b["tags"] = tags
    b["points"] = [{"fields": f, "time": t, "tags": pt} for f, t, pt in points]
    return json.dumps(b, separators=(",", ":")) + "\n"


def main():
    write_gzip("cpu.srpl", srpl_text(POINTS))
    with open("cpu-plain.srpl", "wb") as f:
        f.write(srpl_text(POINTS))
    # Ends after a database and retention policy line, without the point (line 6 is the last).
    with open("truncated.srpl", "wb") as f:
        f.write(srpl_text(POINTS[:1]) + b"telegraf\nautogen\n")
    # The second point's line protocol (line 6) has no field value.
    with open("bad-line.srpl", "wb") as f:
        f.write(srpl_text(POINTS[:1]) + b"telegraf\nautogen\ncpu,host=b usage= 1700000001000000000\n")
    # A gzip stream cut short.
    whole = io.BytesIO()
    with gzip.GzipFile(fileobj=whole, mode="wb", mtime=0) as gz:
        gz.write(srpl_text(POINTS))
    with open("cut.srpl", "wb") as f:
        f.write(whole.getvalue()[:-12])

    q0 = (batch("cpu", {"host": "a"}, [({"usage": 10}, "2023-11-14T22:13:20Z", {"host": "a"}),
                                       ({"usage": 12.5}, "2023-11-14T22:13:30Z", {})],
                "2023-11-14T22:13:30Z", group="host=a")
          + batch("cpu", {"host": "b"}, [({"usage": 7, "state": "busy", "ok": True}, "2023-11-14T22:13:40.5Z", {"host": "b"})],
                  "2023-11-14T22:14:00Z", group="host=b")
          + batch("cpu", {}, [], "2023-11-14T22:14:00Z"))
    q1 = batch("mem", None, [({"used": 1}, "2023-11-14T22:15:00Z", None)], "2023-11-14T22:15:00Z")
    with open("cpu.brpl", "wb") as f:
        f.write(go_zip([("0", q0.encode()), ("1", q1.encode())], stored=("1",)))
    bad_json = q0.split("\n")[0] + "\n" + '{"name":"cpu","points":[{"fields":{"usage":1},"time":"yesterday"}]}\n'
    with open("bad-time.brpl", "wb") as f:
        f.write(go_zip([("0", bad_json.encode())]))
    damaged = bytearray(go_zip([("0", q0.encode())], stored=("0",)))
    damaged[40] ^= 0xFF  # a byte of the stored data: the CRC no longer matches
    with open("damaged.brpl", "wb") as f:
        f.write(bytes(damaged))


if __name__ == "__main__":
    main()
