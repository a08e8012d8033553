import Foundation
import Testing

/// Kapacitor's record and replay through the daemon and the `tock` binary: `record stream`, `replay` (with and
/// without `-rec-time`), recordings copied in from elsewhere, refusals, `list` and `delete`.
@Suite("Record and replay end to end", .serialized)
struct RecordingReplayTests {
    /// 2023-11-14T22:13:20Z, in seconds.
    static let t0 = 1_700_000_000
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures/recordings")

    static func script(alertLog: String) -> String {
        """
        dbrp "telegraf"."autogen"
        var data = stream
            |from()
                .measurement('cpu')
        data
            |httpOut('out')
        data
            |alert()
                .crit(lambda: "usage" > 25)
                .log('\(alertLog)')
        """
    }

    /// A daemon with the task `cpu` defined from ``script(alertLog:)`` and enabled.
    func daemonWithTask(_ dir: String) async throws -> DaemonProcess {
        let daemon = try await DaemonProcess(dataDirectory: dir)
        let tick = try file("cpu.tick", Self.script(alertLog: dir + "/alerts.log"), in: dir)
        ok(try daemon.cli(["define", "cpu", "-tick", tick]), "define")
        ok(try daemon.cli(["enable", "cpu"]), "enable")
        return daemon
    }

    func json(_ daemon: DaemonProcess, _ path: String) async throws -> [String: Any] {
        try await daemon.getJSON("/kapacitor/v1" + path)
    }

    /// The `values` of the replay's httpOut `out` series.
    func httpOutValues(_ replay: [String: Any]) -> [[Any]] {
        let results = replay["results"] as? [String: Any] ?? [:]
        let out = (results["http-out"] as? [String: Any])?["out"] as? [String: Any] ?? [:]
        let series = out["series"] as? [[String: Any]] ?? []
        return series.first?["values"] as? [[Any]] ?? []
    }

    func collected(_ stats: Any?, node: String) -> Int? {
        let nodes = (stats as? [String: Any])?["node-stats"] as? [String: Any]
        return ((nodes?[node] as? [String: Any])?["collected"] as? NSNumber)?.intValue
    }

    @Test("record stream keeps the task's points until a point passes the duration; replay shows the copy's httpOut and alerts, the live task untouched")
    func recordAndReplay() async throws {
        let dir = try DaemonProcess.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let daemon = try await daemonWithTask(dir)
        defer { daemon.stop() }

        let id = ok(try daemon.cli(["record", "stream", "-task", "cpu", "-duration", "5s", "-no-wait",
                                    "-recording-id", "rec1"]), "record stream").trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(id == "rec1")
        let t = Self.t0
        // The fourth point is 10 s of data time after the first, past the 5 s duration: it ends the recording.
        #expect(try await daemon.write("cpu,host=a usage=10 \(t)\ncpu,host=b usage=20 \(t + 1)\ncpu,host=a usage=30 \(t + 2)\ncpu,host=a usage=40 \(t + 10)\n",
                                       db: "telegraf", rp: "autogen") == 204)
        try await DaemonProcess.waitUntil("the recording finished") {
            try await json(daemon, "/recordings/rec1")["status"] as? String == "finished"
        }
        let recording = try await json(daemon, "/recordings/rec1")
        #expect(recording["type"] as? String == "stream")
        #expect((recording["progress"] as? NSNumber)?.doubleValue == 1)
        #expect(FileManager.default.fileExists(atPath: dir + "/replay/rec1.srpl"))
        #expect((recording["size"] as? NSNumber)?.intValue ?? 0 > 20)

        try await DaemonProcess.waitUntil("the live task saw all four points") {
            collected(try await json(daemon, "/tasks/cpu")["stats"], node: "from1") == 4
        }
        let liveBefore = try await HTTP.send("GET", daemon.url + "/kapacitor/v1/tasks/cpu/out").body

        // Recorded times.
        let replayID = ok(try daemon.cli(["replay", "-task", "cpu", "-recording", "rec1", "-rec-time", "-replay-id", "r1"]),
                          "replay -rec-time").trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(replayID == "r1")
        let replay = try await json(daemon, "/replays/r1")
        #expect(replay["status"] as? String == "finished", "\(replay)")
        #expect(replay["recording-time"] as? Bool == true)
        #expect(replay["clock"] as? String == "fast")
        #expect(collected(replay["stats"], node: "from1") == 3, "the copy got the three recorded points")
        let values = httpOutValues(replay)
        #expect(values.first?.first as? String == "2023-11-14T22:13:22Z")
        #expect((values.first?.last as? NSNumber)?.doubleValue == 30)
        let results = replay["results"] as? [String: Any] ?? [:]
        let alerts = results["alerts"] as? [[String: Any]] ?? []
        #expect((results["alert-count"] as? NSNumber)?.intValue == 1, "usage 30 > 25 raised one alert: \(alerts)")
        #expect(alerts.first?["level"] as? String == "CRITICAL")

        // Times moved so that the first point is now.
        let before = Date()
        ok(try daemon.cli(["replay", "-task", "cpu", "-recording", "rec1", "-replay-id", "r2"]), "replay")
        let moved = httpOutValues(try await json(daemon, "/replays/r2"))
        let time = try #require(moved.first?.first as? String)
        let parsed = try #require(ISO8601DateFormatter.withFractions.date(from: time) ?? ISO8601DateFormatter().date(from: time))
        #expect(parsed.timeIntervalSince(before) > -5 && parsed.timeIntervalSince(before) < 60,
                "the last point lands 2 s after the replay started: \(time)")

        // Real clock: the same result, paced by the data.
        ok(try daemon.cli(["replay", "-task", "cpu", "-recording", "rec1", "-rec-time", "-real-clock", "-replay-id", "r3"]),
           "replay -real-clock")
        let real = try await json(daemon, "/replays/r3")
        #expect(real["clock"] as? String == "real")
        #expect(httpOutValues(real).first?.first as? String == "2023-11-14T22:13:22Z")

        // The live task's state is its own.
        #expect(collected(try await json(daemon, "/tasks/cpu")["stats"], node: "from1") == 4)
        let liveAfter = try await HTTP.send("GET", daemon.url + "/kapacitor/v1/tasks/cpu/out").body
        #expect(liveAfter == liveBefore)
        #expect(String(decoding: liveAfter, as: UTF8.self).contains("2023-11-14T22:13:30Z"))
    }

    @Test("a replay that takes a while shows its progress on stderr: points replayed of all, rate and ETA")
    func progress() async throws {
        let dir = try DaemonProcess.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let daemon = try await daemonWithTask(dir)
        defer { daemon.stop() }
        ok(try daemon.cli(["record", "stream", "-task", "cpu", "-duration", "1m", "-no-wait", "-recording-id", "slow"]), "record")
        let t = Self.t0
        let lines = (0...6).map { "cpu,host=a usage=\($0) \(t + $0)" }.joined(separator: "\n") + "\ncpu,host=a usage=0 \(t + 600)\n"
        #expect(try await daemon.write(lines, db: "telegraf", rp: "autogen") == 204)
        try await DaemonProcess.waitUntil("the recording finished") {
            try await json(daemon, "/recordings/slow")["status"] as? String == "finished"
        }
        // The real clock spreads the seven points over the six seconds between their times.
        let replay = try daemon.cli(["replay", "-task", "cpu", "-recording", "slow", "-real-clock", "-rec-time"])
        #expect(replay.status == 0, "\(replay.stderr)")
        #expect(replay.stdout.split(separator: "\n").count == 1, "stdout holds only the ID: \(replay.stdout)")
        #expect(replay.stderr.contains(" of 7 points ("), "\(replay.stderr)")
        #expect(replay.stderr.contains("points/s"), "\(replay.stderr)")
    }

    @Test("a stream recording with no data arriving ends on the wall clock; the CLI waits and prints its ID")
    func wallClockEnd() async throws {
        let dir = try DaemonProcess.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let daemon = try await daemonWithTask(dir)
        defer { daemon.stop() }
        let printed = ok(try daemon.cli(["record", "stream", "-task", "cpu", "-duration", "1s"]), "record stream")
        let id = printed.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(!id.isEmpty && !id.contains("\n"), "only the ID is printed: \(printed)")
        let recording = try await json(daemon, "/recordings/\(id)")
        #expect(recording["status"] as? String == "finished")
        // An empty recording is a valid (empty) gzip file; replaying it feeds nothing and finishes.
        ok(try daemon.cli(["replay", "-task", "cpu", "-recording", id, "-replay-id", "empty"]), "replay of an empty recording")
        let replay = try await json(daemon, "/replays/empty")
        #expect(replay["status"] as? String == "finished")
        #expect(collected(replay["stats"], node: "from1") == 0)
    }

    @Test("a recording copied into [replay] dir in Kapacitor's format is listed and replayed")
    func kapacitorRecording() async throws {
        let dir = try DaemonProcess.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let daemon = try await daemonWithTask(dir)
        defer { daemon.stop() }
        try FileManager.default.copyItem(atPath: Self.fixtures.appendingPathComponent("cpu.srpl").path,
                                         toPath: dir + "/replay/handmade.srpl")
        let listed = ok(try daemon.cli(["list", "recordings"]), "list recordings")
        let lines = listed.split(separator: "\n").map(String.init)
        #expect(lines.first?.hasPrefix("ID                                      Type    Status    Size      Date") == true)
        let row = try #require(lines.first { $0.hasPrefix("handmade ") })
        #expect(row.contains("stream  finished  120 B"), "\(row)")

        ok(try daemon.cli(["replay", "-task", "cpu", "-recording", "handmade", "-rec-time", "-replay-id", "hm"]), "replay")
        let replay = try await json(daemon, "/replays/hm")
        // The fixture's three telegraf.autogen cpu points reach the task; its other.weekly point does not.
        #expect(collected(replay["stats"], node: "from1") == 3)
        #expect(httpOutValues(replay).first?.first as? String == "2023-11-14T22:13:22Z")
    }

    @Test("a recording of the wrong type, a damaged one and unknown names are refused with what is wrong")
    func refusals() async throws {
        let dir = try DaemonProcess.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let daemon = try await daemonWithTask(dir)
        defer { daemon.stop() }
        for (fixture, name) in [("cpu.brpl", "batchrec.brpl"), ("bad-line.srpl", "badline.srpl"), ("cut.srpl", "cut.srpl")] {
            try FileManager.default.copyItem(atPath: Self.fixtures.appendingPathComponent(fixture).path, toPath: dir + "/replay/" + name)
        }
        let wrongType = try daemon.cli(["replay", "-task", "cpu", "-recording", "batchrec"])
        #expect(wrongType.status != 0)
        #expect(wrongType.stderr.contains("cannot replay batch recording batchrec against stream task cpu"), "\(wrongType.stderr)")

        let badLine = try daemon.cli(["replay", "-task", "cpu", "-recording", "badline", "-replay-id", "bad"])
        #expect(badLine.status != 0)
        #expect(badLine.stderr.contains("badline.srpl:6: column"), "the error names the file and line: \(badLine.stderr)")
        // The whole file is checked before the task gets any of it.
        #expect(collected(try await json(daemon, "/replays/bad")["stats"], node: "from1") == 0)
        #expect(try await json(daemon, "/replays/bad")["status"] as? String == "failed")

        let cut = try daemon.cli(["replay", "-task", "cpu", "-recording", "cut"])
        #expect(cut.status != 0)
        #expect(cut.stderr.contains("cut.srpl"), "\(cut.stderr)")

        let noTask = try daemon.cli(["replay", "-task", "nope", "-recording", "badline"])
        #expect(noTask.stderr.contains("task load: no task exists"), "\(noTask.stderr)")
        let noRecording = try daemon.cli(["replay", "-task", "cpu", "-recording", "nope"])
        #expect(noRecording.stderr.contains("recording not found: no recording exists"), "\(noRecording.stderr)")
        let missing = try await HTTP.send("GET", daemon.url + "/kapacitor/v1/recordings/nope")
        #expect(missing.status == 404)
        #expect(String(decoding: missing.body, as: UTF8.self).contains("no recording exists"))
        let missingReplay = try await HTTP.send("GET", daemon.url + "/kapacitor/v1/replays/nope")
        #expect(missingReplay.status == 404)
        #expect(String(decoding: missingReplay.body, as: UTF8.self).contains("could not find replay: no replay exists"))

        // Without an [[influxdb]] section a query recording fails and says why.
        let query = try daemon.cli(["record", "query", "-query", "select usage from \"telegraf\".\"autogen\".\"cpu\"", "-type", "stream"])
        #expect(query.status != 0)
        #expect(query.stderr.contains("no InfluxDB configured"), "\(query.stderr)")
    }

    @Test("list and delete recordings and replays by ID and glob, with Kapacitor's tables")
    func listAndDelete() async throws {
        let dir = try DaemonProcess.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let daemon = try await daemonWithTask(dir)
        defer { daemon.stop() }
        for id in ["a1", "a2", "b1"] {
            ok(try daemon.cli(["record", "stream", "-task", "cpu", "-duration", "0s", "-recording-id", id]), "record \(id)")
        }
        ok(try daemon.cli(["replay", "-task", "cpu", "-recording", "a1", "-replay-id", "ra1"]), "replay")
        let all = ok(try daemon.cli(["list", "recordings"]), "list")
        #expect(all.split(separator: "\n").map { String($0.prefix(2)) } == ["ID", "a1", "a2", "b1"])
        let some = ok(try daemon.cli(["list", "recordings", "a*"]), "list a*")
        #expect(some.split(separator: "\n").count == 3)
        let replays = ok(try daemon.cli(["list", "replays"]), "list replays").split(separator: "\n").map(String.init)
        #expect(replays.first == "ID                                      Task                Recording                               Status   Clock   Date                   ")
        #expect(replays.last?.hasPrefix("ra1                                     cpu                 a1                                      finished fast    ") == true,
                "\(replays)")

        ok(try daemon.cli(["delete", "recordings", "a*"]), "delete recordings a*")
        #expect(ok(try daemon.cli(["list", "recordings"]), "list").split(separator: "\n").map { String($0.prefix(2)) } == ["ID", "b1"])
        #expect(!FileManager.default.fileExists(atPath: dir + "/replay/a1.srpl"))
        #expect(FileManager.default.fileExists(atPath: dir + "/replay/b1.srpl"))
        ok(try daemon.cli(["delete", "replays", "ra1"]), "delete replays")
        #expect(ok(try daemon.cli(["list", "replays"]), "list replays").split(separator: "\n").count == 1)
        #expect(try await HTTP.send("GET", daemon.url + "/kapacitor/v1/replays/ra1").status == 404)
    }
}

extension ISO8601DateFormatter {
    static var withFractions: ISO8601DateFormatter {
        let f = ISO8601DateFormatter()
        f.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return f
    }
}
