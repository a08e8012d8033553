import Foundation
import InfluxDBTesting
import Testing

/// `record query`, `record batch`, `replay-live` and replays of what they recorded, against a real influxd.
@Suite("Record and replay with InfluxDB end to end", .serialized,
       .enabled(if: InfluxDBServer.isAvailable, "needs influxd (Debian's influxdb package)"))
struct RecordingInfluxDBTests {
    static let streamScript = """
        dbrp "telegraf"."autogen"
        stream
            |from()
                .measurement('cpu')
            |httpOut('out')
        """
    static let batchScript = """
        batch
            |query('SELECT usage FROM "telegraf"."autogen"."cpu"')
                .period(1m)
                .every(1m)
            |httpOut('out')
        """

    /// An influxd holding 30 points of `cpu` 10 s apart over the last five minutes, and a daemon using it with the
    /// tasks `s` (stream) and `b` (batch) defined.
    func setUp(_ dir: String) async throws -> (InfluxDBServer, DaemonProcess) {
        let influx = try await InfluxDBServer.start()
        _ = try await influx.query("CREATE DATABASE telegraf")
        let now = Int(Date().timeIntervalSince1970)
        let lines = (0..<30).map { "cpu,host=a usage=\($0) \(now - 295 + 10 * $0)" }.joined(separator: "\n")
        #expect(try await influx.write(lines, database: "telegraf", precision: "s") == 204)
        let daemon = try await DaemonProcess(dataDirectory: dir, configuration: """
            [[influxdb]]
              enabled = true
              name = "default"
              urls = ["\(influx.url)"]
              disable-subscriptions = true
            """)
        ok(try daemon.cli(["define", "s", "-tick", try file("s.tick", Self.streamScript, in: dir)]), "define s")
        ok(try daemon.cli(["define", "b", "-tick", try file("b.tick", Self.batchScript, in: dir), "-dbrp", "telegraf.autogen"]), "define b")
        return (influx, daemon)
    }

    func replay(_ daemon: DaemonProcess, _ id: String) async throws -> [String: Any] {
        try await daemon.getJSON("/kapacitor/v1/replays/\(id)")
    }

    func outValues(_ replay: [String: Any]) -> [[Any]] {
        let results = replay["results"] as? [String: Any] ?? [:]
        let out = (results["http-out"] as? [String: Any])?["out"] as? [String: Any] ?? [:]
        return ((out["series"] as? [[String: Any]])?.first?["values"] as? [[Any]]) ?? []
    }

    func collected(_ replay: [String: Any], _ node: String) -> Int? {
        let nodes = (replay["stats"] as? [String: Any])?["node-stats"] as? [String: Any]
        return ((nodes?[node] as? [String: Any])?["collected"] as? NSNumber)?.intValue
    }

    @Test("record query as a stream recording, then replay it into the stream task: every row arrives in time order")
    func queryStream() async throws {
        let dir = try DaemonProcess.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let (influx, daemon) = try await setUp(dir)
        defer { daemon.stop(); influx.destroy() }
        let query = #"SELECT usage FROM "telegraf"."autogen"."cpu" WHERE time > now() - 10m"#
        ok(try daemon.cli(["record", "query", "-query", query, "-type", "stream", "-recording-id", "qs"]), "record query")
        #expect(FileManager.default.fileExists(atPath: dir + "/replay/qs.srpl"))
        ok(try daemon.cli(["replay", "-task", "s", "-recording", "qs", "-rec-time", "-replay-id", "rqs"]), "replay")
        let replay = try await replay(daemon, "rqs")
        #expect(collected(replay, "from1") == 30, "\(replay)")
        #expect((outValues(replay).last?.last as? NSNumber)?.doubleValue == 29)

        let unqualified = try daemon.cli(["record", "query", "-query", "SELECT usage FROM cpu", "-type", "stream"])
        #expect(unqualified.status != 0)
        #expect(unqualified.stderr.contains("Is the query fully qualified?"), "\(unqualified.stderr)")
    }

    @Test("record query as a batch recording, replayed into the batch task's query node; a batch recording refused by the stream task")
    func queryBatch() async throws {
        let dir = try DaemonProcess.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let (influx, daemon) = try await setUp(dir)
        defer { daemon.stop(); influx.destroy() }
        let query = #"SELECT usage FROM "telegraf"."autogen"."cpu" WHERE time > now() - 10m"#
        ok(try daemon.cli(["record", "query", "-query", query, "-type", "batch", "-recording-id", "qb"]), "record query")
        #expect(FileManager.default.fileExists(atPath: dir + "/replay/qb.brpl"))
        ok(try daemon.cli(["replay", "-task", "b", "-recording", "qb", "-rec-time", "-replay-id", "rqb"]), "replay")
        let replay = try await replay(daemon, "rqb")
        #expect(replay["status"] as? String == "finished", "\(replay)")
        // One batch of the 30 rows: httpOut shows all of them.
        #expect(outValues(replay).count == 30)
        let wrong = try daemon.cli(["replay", "-task", "s", "-recording", "qb"])
        #expect(wrong.status != 0)
        #expect(wrong.stderr.contains("wrong type"), "\(wrong.stderr)")
    }

    @Test("record batch -past runs the task's query over the range, one run per period; the replay feeds the node what it recorded")
    func recordBatch() async throws {
        let dir = try DaemonProcess.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let (influx, daemon) = try await setUp(dir)
        defer { daemon.stop(); influx.destroy() }
        ok(try daemon.cli(["record", "batch", "-task", "b", "-past", "5m", "-recording-id", "rb"]), "record batch")
        let recording = try await daemon.getJSON("/kapacitor/v1/recordings/rb")
        #expect(recording["type"] as? String == "batch")
        #expect(recording["status"] as? String == "finished", "\(recording)")
        ok(try daemon.cli(["replay", "-task", "b", "-recording", "rb", "-rec-time", "-replay-id", "rrb"]), "replay")
        let replay = try await replay(daemon, "rrb")
        #expect(replay["status"] as? String == "finished", "\(replay)")
        // Minute-long queries over ten-second data: the last batch replayed holds at most six rows.
        let values = outValues(replay)
        #expect((1...6).contains(values.count), "\(values)")
        let emitted = ((replay["stats"] as? [String: Any])?["node-stats"] as? [String: Any])?["query1"] as? [String: Any]
        #expect(((emitted?["emitted"] as? NSNumber)?.intValue ?? 0) >= 4, "about five one-minute runs in five minutes: \(String(describing: emitted))")

        let stream = try daemon.cli(["record", "batch", "-task", "s", "-past", "5m"])
        #expect(stream.status != 0)
        #expect(stream.stderr.contains("it is a stream task"), "\(stream.stderr)")
    }

    @Test("replay-live query and replay-live batch replay without storing a recording")
    func replayLive() async throws {
        let dir = try DaemonProcess.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let (influx, daemon) = try await setUp(dir)
        defer { daemon.stop(); influx.destroy() }
        let query = #"SELECT usage FROM "telegraf"."autogen"."cpu" WHERE time > now() - 10m"#
        ok(try daemon.cli(["replay-live", "query", "-task", "s", "-query", query, "-rec-time", "-replay-id", "lq"]), "replay-live query")
        #expect(collected(try await replay(daemon, "lq"), "from1") == 30)
        ok(try daemon.cli(["replay-live", "batch", "-task", "b", "-past", "5m", "-rec-time", "-replay-id", "lb"]), "replay-live batch")
        let live = try await replay(daemon, "lb")
        #expect(live["status"] as? String == "finished", "\(live)")
        #expect(!outValues(live).isEmpty)
        let recordings = ok(try daemon.cli(["list", "recordings"]), "list")
        #expect(recordings.split(separator: "\n").count == 1, "nothing was stored: \(recordings)")
    }
}
