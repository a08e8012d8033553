import Collectors
import Foundation
@testable import Server
import Testing
import TockModel

@Suite("/metrics and debug/vars read the same metrics")
struct MetricsAgreementTests {
    /// The value of the sample `series` (`name{labels}`) in Prometheus text, nil when `/metrics` has no such line.
    static func sample(_ text: String, _ series: String) -> Double? {
        text.split(separator: "\n").first { $0.hasPrefix(series + " ") }.flatMap { Double($0.dropFirst(series.count + 1)) }
    }

    static func labels(_ pairs: [(String, String)]) -> String {
        "{" + pairs.map { "\($0.0)=\"\($0.1)\"" }.joined(separator: ",") + "}"
    }

    @Test("after writes, every counter of debug/vars has the same value on /metrics")
    func countersAgree() async throws {
        try await Fixture.with { client in
            let script = #"stream\n    |from()\n        .measurement('temps')\n    |window()\n        .period(10s)\n        .every(10s)\n"#
            let define = #"{"id":"p","dbrps":[{"db":"printer","rp":"autogen"}],"status":"enabled","script":"\#(script)"}"#
            #expect(try await client.execute(uri: "/kapacitor/v1/tasks", method: "POST", body: define).status == .ok)
            for i in 0..<3 {
                _ = try await client.execute(uri: "/write?db=printer&precision=s", method: "POST",
                                             body: "temps a=\(i) \(i * 4)\ntemps a=\(i) \(i * 4 + 1)\nfan rpm=3 \(i)\n")
            }
            _ = try await client.execute(uri: "/write?db=printer&precision=s", method: "POST", body: "temps a=1 30\nnot a line\n")
            // Until the task has read every point, its counts move between the two reads.
            for _ in 0..<200 {
                let task = try await client.execute(uri: "/kapacitor/v1/tasks/p", method: "GET").json
                if task["stats"]?["node-stats"]?["from1"]?["emitted"] == .int(7) { break }
                try await Task.sleep(for: .milliseconds(10))
            }
            let metrics = try await client.execute(uri: "/metrics", method: "GET").text
            let vars = try await client.execute(uri: "/kapacitor/v1/debug/vars", method: "GET").json
            let stats = try #require(vars["kapacitor"]?.objectValue)
            func expectSame(_ statistic: String, _ value: String, _ series: String) {
                let reported = stats.first { $0.0 == statistic }?.1["values"]?[value]?.int64Value
                #expect(reported != nil, "\(statistic) has no \(value)")
                #expect(Self.sample(metrics, series).map { Int64($0) } == reported, "\(statistic) \(value) against \(series)")
            }
            expectSame("ingress:printer:autogen:temps", "points_received", "tock_points_received_total"
                       + Self.labels([("database", "printer"), ("retention_policy", "autogen"), ("measurement", "temps")]))
            expectSame("ingress:printer:autogen:fan", "points_received", "tock_points_received_total"
                       + Self.labels([("database", "printer"), ("retention_policy", "autogen"), ("measurement", "fan")]))
            expectSame("write", "requests", "tock_write_requests_total")
            expectSame("write", "write_errors", "tock_write_errors_total")
            expectSame("load", "errors", "tock_load_errors_total")
            expectSame("task:p", "queued_points", "tock_task_queued_points" + Self.labels([("task", "p")]))
            var nodes = 0
            for (key, statistic) in stats where key.hasPrefix("nodes:p:") {
                let node = try #require(statistic["tags"]?["node"]?.stringValue)
                let labels = Self.labels([("task", "p"), ("node", node)])
                expectSame(key, "collected", "tock_node_in_total" + labels)
                expectSame(key, "emitted", "tock_node_out_total" + labels)
                expectSame(key, "errors", "tock_node_errors_total" + labels)
                nodes += 1
            }
            #expect(nodes == 3)
            // The counts are the writes' own, not zeros that agree.
            #expect(Self.sample(metrics, "tock_write_requests_total") == 4)
            #expect(Self.sample(metrics, "tock_write_errors_total") == 1)
            #expect(metrics.contains("# HELP tock_write_requests_total Requests to /write.\n# TYPE tock_write_requests_total counter\n"))
            #expect(metrics.contains("# TYPE tock_task_queued_points gauge\n"))
            #expect(stats.first { $0.0 == "ingress:printer:autogen:temps" }?.1["values"]?["points_received"] == .int(7))
            #expect(stats.first { $0.0 == "nodes:p:from1" }?.1["values"]?["emitted"] == .int(7))
        }
    }

    @Test("each collector section's gathers, errors and timeouts: the same numbers on /metrics and in debug/vars")
    func collectorCounts() async throws {
        let f = Fixture()
        defer { f.remove() }
        try await HostsRouteTests.serve(f) { client, api, _, _ in
            var mem = CollectorConfig(name: "mem")
            mem.interval = .milliseconds(100)
            var cert = CollectorConfig(name: "x509_cert", options: CollectorOptions(collector: "x509_cert", [
                "sources": .strings(["/nonexistent/cert.pem"]),
            ]))
            cert.interval = .milliseconds(100)
            try api.ingest.startCollectors([mem, cert])
            for _ in 0..<100 where (api.ingest.collectorStats["x509_cert"]?.errors ?? 0) < 2 {
                try await Task.sleep(for: .milliseconds(50))
            }
            await api.ingest.stop()
            let metrics = try await client.execute(uri: "/metrics", method: "GET").text
            let stats = try #require(try await client.execute(uri: "/kapacitor/v1/debug/vars", method: "GET").json["kapacitor"]?.objectValue)
            for name in ["mem", "x509_cert"] {
                let values = stats.first { $0.0 == "collector:\(name)" }?.1["values"]
                let labels = Self.labels([("collector", name)])
                for (value, series) in [("gathers", "tock_collector_gathers_total"), ("errors", "tock_collector_errors_total"),
                                        ("timeouts", "tock_collector_timeouts_total")] {
                    #expect(values?[value]?.int64Value != nil, "\(name) has no \(value)")
                    #expect(Self.sample(metrics, series + labels).map { Int64($0) } == values?[value]?.int64Value, "\(name) \(value)")
                }
            }
            // The counts are the gathers' own: mem gathered and never failed, the missing certificate failed each time.
            #expect((Self.sample(metrics, "tock_collector_gathers_total" + Self.labels([("collector", "mem")])) ?? 0) >= 1)
            #expect(Self.sample(metrics, "tock_collector_errors_total" + Self.labels([("collector", "mem")])) == 0)
            #expect((Self.sample(metrics, "tock_collector_errors_total" + Self.labels([("collector", "x509_cert")])) ?? 0) >= 2)
        }
    }

    @Test("a sampled counter grows by what its count grew, starts again when the count went down, and leaves with its task")
    func sampledCounters() {
        let metrics = Metrics()
        let series = Series("tock_node_in_total", [("task", "t"), ("node", "n")])
        metrics.sample([Sample(series: series, value: 5, kind: .counter)])
        metrics.sample([Sample(series: series, value: 8, kind: .counter)])
        #expect(metrics.values()["tock_node_in_total", ("task", "t"), ("node", "n")] == 8)
        metrics.sample([Sample(series: series, value: 2, kind: .counter)])
        #expect(metrics.values()["tock_node_in_total", ("task", "t"), ("node", "n")] == 2)
        #expect(metrics.registry.emitToString().contains("# TYPE tock_node_in_total counter"))
        metrics.sample([])
        #expect(!metrics.registry.emitToString().contains("tock_node_in_total{"))
    }

    @Test("two daemons in one process keep separate counts")
    func separateRegistries() {
        let a = Metrics(), b = Metrics()
        a.writeRequested()
        a.writeRequested()
        b.writeRequested()
        #expect(a.values()["tock_write_requests_total"] == 2)
        #expect(b.values()["tock_write_requests_total"] == 1)
    }

    @Test("label values with quotes, backslashes and newlines read back as they were written")
    func escapedLabels() {
        let metrics = Metrics()
        let measurement = "a \"b\" \\c\nd"
        metrics.received([Point(name: measurement, fields: Fields([("v", .int(1))]), time: 0)],
                         database: "db", retentionPolicy: "rp")
        #expect(metrics.values()["tock_points_received_total", ("database", "db"), ("retention_policy", "rp"),
                                 ("measurement", measurement)] == 1)
    }
}
