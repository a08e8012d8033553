"""SampleUDFs/printer_data.py: the seeded printer-temperature day of the anomaly demo."""
import http.server
import os
import re
import statistics
import subprocess
import sys
import threading

import pytest

import udfproc

sys.path.insert(0, udfproc.SAMPLES)
import printer_data  # noqa: E402

LINE = re.compile(r"^temperatures hotend=(-?\d+\.\d{6}),bed=(-?\d+\.\d{6}),air=(-?\d+\.\d{6}) (\d+)$")


@pytest.fixture(scope="module")
def day():
    """{field: [values]} for the default seed, indexed by seconds since the start."""
    rows = list(printer_data.values(42))
    return {"time": [r[0] for r in rows], "hotend": [r[1] for r in rows],
            "bed": [r[2] for r in rows], "air": [r[3] for r in rows]}


def std(day, field, first, end):
    return statistics.stdev(day[field][first:end])


def mean(day, field, first, end):
    return statistics.fmean(day[field][first:end])


def test_the_day_has_86402_points_one_second_apart_from_2016_01_01(day):
    assert len(day["time"]) == 86402
    assert day["time"][0] == 1451606400  # 2016-01-01T00:00:00Z
    assert day["time"][-1] == 1451606400 + 86401
    assert all(b - a == 1 for a, b in zip(day["time"], day["time"][1:]))


def test_the_same_seed_gives_the_same_bytes_and_another_seed_does_not():
    first = "".join(printer_data.lines(42, count=2000))
    assert first == "".join(printer_data.lines(42, count=2000, chunk=7))
    assert first != "".join(printer_data.lines(7, count=2000))


def test_lines_are_second_precision_line_protocol_matching_the_values(day):
    text = "".join(printer_data.lines(42, count=5))
    rows = [LINE.match(line).groups() for line in text.splitlines()]
    assert [int(r[3]) for r in rows] == day["time"][:5]
    assert [float(r[0]) for r in rows] == [round(v, 6) for v in day["hotend"][:5]]


@pytest.mark.parametrize("field, normal, anomalous, normal_sigma, sigma", [
    ("hotend", (0, 3600), (3600, 3900), 0.5, 3.0),
    ("bed", (0, 28800), (28800, 29700), 1.0, 5.0),
    ("air", (10800, 43200), (43200, 45000), 5.0, 15.0),
])
def test_each_planted_anomaly_changes_the_sample_std(day, field, normal, anomalous,
                                                     normal_sigma, sigma):
    assert std(day, field, *normal) == pytest.approx(normal_sigma, rel=0.05)
    assert std(day, field, *anomalous) == pytest.approx(sigma, rel=0.15)


def test_the_schedule_returns_to_normal_with_the_planned_offsets(day):
    assert mean(day, "hotend", 3600, 3900) == pytest.approx(220 - 1.5, abs=0.6)
    assert mean(day, "bed", 28800, 29700) == pytest.approx(90 + 2.0, abs=0.6)
    assert mean(day, "air", 43200, 45000) == pytest.approx(70 - 5.0, abs=1.2)
    assert std(day, "hotend", 3900, 86402) == pytest.approx(0.5, rel=0.05)
    assert std(day, "air", 0, 10800) == pytest.approx(3.0, rel=0.05)
    assert std(day, "air", 72000, 86402) == pytest.approx(3.0, rel=0.05)


def test_the_command_writes_stdout_or_a_file(tmp_path):
    script = os.path.join(udfproc.SAMPLES, "printer_data.py")
    out = subprocess.run([sys.executable, script, "--count", "100", "--output", "-"],
                         check=True, capture_output=True, text=True).stdout
    assert out == "".join(printer_data.lines(42, count=100))
    path = tmp_path / "printer.lp"
    subprocess.run([sys.executable, script, "--seed", "3", "--output", str(path)], check=True)
    text = path.read_text()
    assert text == "".join(printer_data.lines(3))
    assert text.count("\n") == 86402


def test_posting_sends_every_line_in_chunks_to_the_write_url():
    bodies = []
    paths = []

    class Write(http.server.BaseHTTPRequestHandler):
        def do_POST(self):
            paths.append(self.path)
            bodies.append(self.rfile.read(int(self.headers["Content-Length"])).decode())
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = http.server.HTTPServer(("127.0.0.1", 0), Write)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = "http://127.0.0.1:%d/write?db=printer&rp=autogen&precision=s" % server.server_port
        printer_data.main(["--url", url, "--count", "25000", "--chunk", "10000"])
    finally:
        server.shutdown()
        server.server_close()
    assert paths == ["/write?db=printer&rp=autogen&precision=s"] * 3
    assert [b.count("\n") for b in bodies] == [10000, 10000, 5000]
    assert "".join(bodies) == "".join(printer_data.lines(42, count=25000))
