import Engine
import Foundation
import Synchronization
import Testing
import TockModel
@testable import Server

/// Batch tasks through the task API: defined, checked against the configured InfluxDB clusters, enabled only when
/// InfluxDB is configured, and running their queries.
@Suite("batch tasks through /kapacitor/v1/tasks")
struct BatchTaskRouteTests {
    /// Answers every query with one series whose value counts the queries so far (a test double of the cluster,
    /// for the task API's handling; the real client is tested against influxd end to end).
    final class CountingInfluxDB: InfluxDBService {
        let count = Mutex(0)
        var defaultCluster: String? { "default" }
        func hasCluster(_ name: String) -> Bool { name == "default" }
        func query(_ query: InfluxQuery) async throws -> [QuerySeries] {
            let n = count.withLock { $0 += 1; return $0 }
            return [QuerySeries(name: "cpu", tags: ["host": "a"], columns: ["time", "n"],
                                values: [[.int(1_767_225_600_000_000_000), .double(Double(n))]])]
        }
        func write(_ write: InfluxWrite) async throws {}
        func createDatabase(cluster: String?, database: String, retentionPolicy: String?) async throws {}
    }

    static func define(_ id: String, _ script: String, status: String = "disabled") -> String {
        let escaped = script.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
            .replacingOccurrences(of: "\n", with: "\\n")
        return #"{"id":"\#(id)","type":"batch","status":"\#(status)","script":"\#(escaped)"}"#
    }

    static let script = "batch\n    |query('SELECT n FROM db.rp.cpu')\n        .period(1m)\n        .every(50ms)\n        .groupBy('host')\n    |httpOut('out')\n"

    @Test("without [[influxdb]] a batch task is defined but refused at enable, saying why")
    func noInfluxDB() async throws {
        try await Fixture.with { client in
            let defined = try await client.execute(uri: "/kapacitor/v1/tasks", method: "POST", body: Self.define("b", Self.script))
            #expect(defined.status == .ok)
            #expect(defined.json["type"] == .string("batch"))
            #expect(defined.json["dot"]?.stringValue == "digraph b {\nquery1 -> httpOut2;\n}\n")
            let enabled = try await client.execute(uri: "/kapacitor/v1/tasks/b", method: "PATCH", body: #"{"status":"enabled"}"#)
            #expect(enabled.status == .badRequest)
            #expect(enabled.text.contains("failed to start task b: query1: InfluxDB not configured, cannot query InfluxDB for batch query"))
            let shown = try await client.execute(uri: "/kapacitor/v1/tasks/b").json
            #expect(shown["status"] == .string("disabled"))
        }
    }

    @Test("the query's cluster must be a configured one")
    func unknownCluster() async throws {
        let f = Fixture()
        defer { f.remove() }
        let master = try f.master()
        master.influxDB = CountingInfluxDB()
        try await f.serve(master) { client in
            let script = "batch|query('SELECT n FROM cpu').every(1s).cluster('nowhere')|httpOut('out')"
            let defined = try await client.execute(uri: "/kapacitor/v1/tasks", method: "POST", body: Self.define("b", script))
            #expect(defined.status == .badRequest)
            #expect(defined.text.contains(#"no InfluxDB cluster named \"nowhere\" is configured"#))
        }
    }

    @Test("an enabled batch task queries on its schedule and serves the batches")
    func running() async throws {
        let f = Fixture()
        defer { f.remove() }
        let master = try f.master()
        let influx = CountingInfluxDB()
        master.influxDB = influx
        try await f.serve(master) { client in
            let defined = try await client.execute(uri: "/kapacitor/v1/tasks", method: "POST",
                                                   body: Self.define("b", Self.script, status: "enabled"))
            #expect(defined.status == .ok, "\(defined.text)")
            #expect(defined.json["executing"] == .bool(true))
            // Two runs at least, and what they returned served.
            var served = ""
            for _ in 0..<500 {
                served = try await client.execute(uri: "/kapacitor/v1/tasks/b/out").text
                if influx.count.withLock({ $0 }) >= 2 && served.contains("\"values\"") { break }
                try await Task.sleep(for: .milliseconds(20))
            }
            #expect(influx.count.withLock { $0 } >= 2)
            #expect(served.contains(#""name":"cpu","tags":{"host":"a"},"columns":["time","n"]"#))
            let shown = try await client.execute(uri: "/kapacitor/v1/tasks/b").json
            #expect(shown["stats"]?["node-stats"]?["query1"] != nil)
            #expect(shown["dot"]?.stringValue?.contains("query1 -> httpOut2") == true)
            #expect(shown["error"] == .string(""))
            // Disabled, it stops querying.
            _ = try await client.execute(uri: "/kapacitor/v1/tasks/b", method: "PATCH", body: #"{"status":"disabled"}"#)
            let after = influx.count.withLock { $0 }
            try await Task.sleep(for: .milliseconds(300))
            #expect(influx.count.withLock { $0 } == after)
        }
    }
}
