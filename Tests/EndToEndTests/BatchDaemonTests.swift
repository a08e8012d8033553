import Foundation
import InfluxDBTesting
import Testing

/// Batch tasks in `tock serve` against a real `influxd`: points written to the daemon reach InfluxDB through a
/// stream task's `influxDBOut`; a batch task queries them back every second and serves its aggregates with
/// `httpOut`; a query InfluxDB rejects is counted on the query node, logged with InfluxDB's words, and the task runs on.
@Suite("batch tasks against a real InfluxDB", .enabled(if: InfluxDBServer.isAvailable, "influxd is not installed (apt install influxdb)"))
struct BatchDaemonTests {
    static func configuration(_ influx: InfluxDBServer) -> String {
        """
        [[influxdb]]
          enabled = true
          name = "local"
          urls = ["\(influx.url)"]
          timeout = "5s"
          disable-subscriptions = true
        """
    }

    static func write(_ text: String, to directory: String, as name: String) throws -> String {
        let path = directory + "/" + name
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    /// The series of an httpOut endpoint, by their `host` tag.
    static func served(_ daemon: DaemonProcess, task: String, endpoint: String) async throws -> [String: [String: Any]] {
        let reply = try await HTTP.send("GET", daemon.url + "/kapacitor/v1/tasks/\(task)/\(endpoint)")
        guard let object = try? JSONSerialization.jsonObject(with: reply.body) as? [String: Any],
              let series = object["series"] as? [[String: Any]] else { return [:] }
        var byHost: [String: [String: Any]] = [:]
        for s in series {
            if let host = (s["tags"] as? [String: String])?["host"] { byHost[host] = s }
        }
        return byHost
    }

    @Test("a batch task queries what the daemon wrote to InfluxDB and serves the batches, grouped by host")
    func queriesAndServes() async throws {
        let influx = try await InfluxDBServer.start()
        defer { influx.destroy() }
        try await influx.query("CREATE DATABASE e2e")
        let dir = try DaemonProcess.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let daemon = try await DaemonProcess(dataDirectory: dir, configuration: Self.configuration(influx))
        defer { daemon.stop() }

        // The stream task forwards what is written to the daemon into InfluxDB.
        let forward = try Self.write("""
            dbrp "e2e"."autogen"
            stream
              |from().measurement('cpu')
              |influxDBOut().database('e2e').retentionPolicy('autogen').flushInterval(100ms)
            """, to: dir, as: "forward.tick")
        var r = try daemon.cli(["define", "forward", "-tick", forward, "-type", "stream"])
        #expect(r.status == 0, "\(r.stderr)")
        r = try daemon.cli(["enable", "forward"])
        #expect(r.status == 0, "\(r.stderr)")

        let batch = try Self.write("""
            batch
              |query('SELECT mean(value) AS mean, count(value) AS n FROM e2e.autogen.cpu')
                .period(1h)
                .every(1s)
                .groupBy('host')
              |httpOut('out')
            """, to: dir, as: "batch.tick")
        r = try daemon.cli(["define", "cpu_batch", "-tick", batch, "-type", "batch", "-dbrp", "e2e.autogen"])
        #expect(r.status == 0, "\(r.stderr)")
        r = try daemon.cli(["enable", "cpu_batch"])
        #expect(r.status == 0, "\(r.stderr)")

        // Points from the last minute: host a 1, 2, 3; host b 10, 20.
        let now = Int(Date().timeIntervalSince1970)
        let lines = ["cpu,host=a value=1 \(now - 50)", "cpu,host=a value=2 \(now - 40)", "cpu,host=a value=3 \(now - 30)",
                     "cpu,host=b value=10 \(now - 45)", "cpu,host=b value=20 \(now - 35)"]
        #expect(try await daemon.write(lines.joined(separator: "\n"), db: "e2e", rp: "autogen") == 204)

        var served: [String: [String: Any]] = [:]
        try await DaemonProcess.waitUntil("the batch task serves both hosts' aggregates", timeout: 60) {
            served = try await Self.served(daemon, task: "cpu_batch", endpoint: "out")
            func count(_ host: String) -> Double? { (served[host]?["values"] as? [[Any]])?.first?[2] as? Double }
            // A run may come between the two forwarded writes: wait for one that saw all five points.
            return count("a") == 3 && count("b") == 2
        }
        let a = try #require(served["a"]), b = try #require(served["b"])
        #expect(a["name"] as? String == "cpu")
        #expect(a["columns"] as? [String] == ["time", "mean", "n"])
        #expect((a["values"] as? [[Any]])?.first?[1] as? Double == 2)
        #expect((a["values"] as? [[Any]])?.first?[2] as? Double == 3)
        #expect((b["values"] as? [[Any]])?.first?[1] as? Double == 15)
        #expect((b["values"] as? [[Any]])?.first?[2] as? Double == 2)

        let shown = try daemon.cli(["show", "cpu_batch"])
        #expect(shown.stdout.contains("Type: batch"))
        #expect(shown.stdout.contains("Executing: true"))
        #expect(shown.stdout.contains("query1 -> httpOut2"))
        // Kapacitor's query statistics: each run that saw both hosts returned two batches of one point each.
        let query = try #require(shown.stdout.split(separator: "\n").first { $0.hasPrefix("query1 [") })
        let batches = Self.counter("batches_queried", in: query), points = Self.counter("points_queried", in: query)
        #expect(batches >= 2 && points >= 2 && points <= batches, "\(query)")
        #expect(Self.counter("query_errors", in: query) == 0)
    }

    /// A counter of a node's DOT line (`name="N"`), -1 when absent.
    static func counter(_ name: String, in line: Substring) -> Int {
        guard let range = line.range(of: " \(name)=\"", options: .literal) else { return -1 }
        return Int(line[range.upperBound...].prefix { $0.isNumber }) ?? -1
    }

    @Test("a query InfluxDB rejects is counted on the node with InfluxDB's error logged, and the task keeps running")
    func rejectedQuery() async throws {
        let influx = try await InfluxDBServer.start()
        defer { influx.destroy() }
        try await influx.query("CREATE DATABASE e2e")
        let dir = try DaemonProcess.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let daemon = try await DaemonProcess(dataDirectory: dir, configuration: Self.configuration(influx))
        defer { daemon.stop() }

        let bad = try Self.write("""
            batch
              |query('SELECT nosuchfunction(value) FROM e2e.autogen.cpu')
                .period(1m)
                .every(1s)
              |httpOut('out')
            """, to: dir, as: "bad.tick")
        var r = try daemon.cli(["define", "bad", "-tick", bad, "-type", "batch", "-dbrp", "e2e.autogen"])
        #expect(r.status == 0, "\(r.stderr)")
        r = try daemon.cli(["enable", "bad"])
        #expect(r.status == 0, "\(r.stderr)")

        // Two failed runs: the second shows the task went on after the first.
        var shown = ""
        try await DaemonProcess.waitUntil("two rejected queries are counted on query1", timeout: 60) {
            shown = try daemon.cli(["show", "bad"]).stdout
            guard let line = shown.split(separator: "\n").first(where: { $0.hasPrefix("query1 [") }) else { return false }
            return Self.counter("errors", in: line) >= 2 && Self.counter("query_errors", in: line) >= 2
        }
        #expect(shown.contains("Executing: true"))
        #expect(shown.contains("Error: \n"))
        let log = try String(contentsOfFile: daemon.logPath, encoding: .utf8)
        #expect(log.contains("undefined function nosuchfunction()"))
        #expect(log.contains("task=bad"))
    }
}
