import Foundation
import InfluxDBTesting
import Testing

/// `influxDBOut` in a running daemon, writing into a real InfluxDB that goes away and comes back.
@Suite("influxDBOut into a real InfluxDB", .serialized,
       .enabled(if: InfluxDBServer.isAvailable, "influxd is not installed (apt install influxdb)"))
struct InfluxDBOutDaemonTests {
    func configuration(_ influx: InfluxDBServer) -> String {
        """
        [[influxdb]]
          enabled = true
          name = "local"
          default = true
          urls = ["\(influx.url)"]
          timeout = "2s"
          disable-subscriptions = true
          startup-timeout = "1s"
        """
    }

    @Test("points written to Tock arrive in InfluxDB, tagged and renamed, in a database the node creates")
    func writesArrive() async throws {
        let influx = try await InfluxDBServer.start()
        defer { influx.destroy() }
        let dir = try DaemonProcess.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let daemon = try await DaemonProcess(dataDirectory: dir, configuration: configuration(influx))
        defer { daemon.stop() }
        let script = try file("copy.tick", """
            stream
                |from()
                    .measurement('temp')
                |eval(lambda: "value" * 2.0)
                    .as('doubled')
                |influxDBOut()
                    .database('derived')
                    .retentionPolicy('autogen')
                    .measurement('temp_doubled')
                    .tag('via', 'tock')
                    .precision('s')
                    .buffer(2)
                    .flushInterval(200ms)
                    .create()
            """, in: dir)
        try ok(daemon, ["define", "copy", "-tick", script, "-dbrp", "\"house\".\"autogen\"", "-type", "stream"])
        try ok(daemon, ["enable", "copy"])
        #expect(try await daemon.write("temp,room=kitchen value=20 100\ntemp,room=hall value=18.5 101\ntemp,room=hall value=19 102\n",
                                       db: "house", rp: "autogen") == 204)
        var rows: [[String: Any]] = []
        try await DaemonProcess.waitUntil("the three points are in InfluxDB") {
            rows = (try? await influx.rows("SELECT * FROM temp_doubled", database: "derived")) ?? []
            return rows.count == 3
        }
        #expect(rows.map { $0["time"] as? Int } == [100_000_000_000, 101_000_000_000, 102_000_000_000])
        #expect(rows.map { ($0["doubled"] as? NSNumber)?.doubleValue } == [40, 37, 38])
        #expect(rows.allSatisfy { $0["via"] as? String == "tock" })
        #expect(rows.map { $0["room"] as? String } == ["kitchen", "hall", "hall"])
        let node = try Self.graphLine(daemon, task: "copy", node: "influxDBOut")
        #expect(node.contains(#"points_written="3""#) && node.contains(#"write_errors="0""#), "Kapacitor's influxDBOut counters: \(node)")
    }

    /// The DOT line of the first node whose ID starts with `node` in `tock show TASK`.
    static func graphLine(_ daemon: DaemonProcess, task: String, node: String) throws -> String {
        let show = try daemon.cli(["show", task]).stdout
        return String(show.split(separator: "\n").first { $0.hasPrefix(node) && $0.contains("avg_exec_time_ns=") } ?? "")
    }

    @Test("while InfluxDB is stopped nothing is lost below the buffer bound: the writes arrive once it is back")
    func survivesInfluxDBRestart() async throws {
        let influx = try await InfluxDBServer.start()
        defer { influx.destroy() }
        try await influx.query("CREATE DATABASE derived")
        let dir = try DaemonProcess.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let daemon = try await DaemonProcess(dataDirectory: dir, configuration: configuration(influx))
        defer { daemon.stop() }
        let script = try file("copy.tick", """
            stream
                |from()
                    .measurement('temp')
                |influxDBOut()
                    .database('derived')
                    .buffer(5)
                    .flushInterval(100ms)
            """, in: dir)
        try ok(daemon, ["define", "copy", "-tick", script, "-dbrp", "\"house\".\"autogen\"", "-type", "stream"])
        try ok(daemon, ["enable", "copy"])
        func lines(_ range: Range<Int>) -> String { range.map { "temp,room=r value=\($0) \($0 + 1)\n" }.joined() }

        #expect(try await daemon.write(lines(0..<10), db: "house", rp: "autogen") == 204)
        try await DaemonProcess.waitUntil("the first 10 points are in InfluxDB") {
            ((try? await influx.rows("SELECT * FROM temp", database: "derived")) ?? []).count == 10
        }
        influx.stop()
        // Written while InfluxDB is away: Tock takes them (the write API never waits for InfluxDB) and keeps them.
        #expect(try await daemon.write(lines(10..<200), db: "house", rp: "autogen") == 204)
        try await DaemonProcess.waitUntil("the task reports InfluxDB unreachable") {
            let node = try Self.graphLine(daemon, task: "copy", node: "influxDBOut")
            return !node.isEmpty && !node.contains(#" write_errors="0""#) && !node.contains(#" errors="0""#)
        }
        try await influx.restart()
        var rows: [[String: Any]] = []
        try await DaemonProcess.waitUntil("all 200 points are in InfluxDB after its restart", timeout: 60) {
            rows = (try? await influx.rows("SELECT * FROM temp", database: "derived")) ?? []
            return rows.count == 200
        }
        #expect(Set(rows.compactMap { ($0["value"] as? NSNumber)?.intValue }) == Set(0..<200))
        try await DaemonProcess.waitUntil("points_written counts each point once, retries included") {
            try Self.graphLine(daemon, task: "copy", node: "influxDBOut").contains(#"points_written="200""#)
        }
    }

    @discardableResult
    func ok(_ daemon: DaemonProcess, _ args: [String]) throws -> String {
        let result = try daemon.cli(args)
        #expect(result.status == 0, "tock \(args.joined(separator: " ")) failed: \(result.stderr)")
        return result.stdout
    }
}
