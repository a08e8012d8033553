import Foundation
@testable import Server
import Testing

@Suite("Self-monitoring, the default retention policy and script dbrps")
struct SelfMonitoringTests {
    static let script = #"dbrp \"printer\".\"autogen\"\nstream\n    |from()\n        .measurement('temps')\n"#

    @Test("a write without rp goes to \"autogen\": the task that names printer.autogen in its script sees it")
    func defaultRetentionPolicy() async throws {
        try await Fixture.with { client in
            let define = #"{"id":"p","status":"enabled","script":"\#(Self.script)"}"#
            #expect(try await client.execute(uri: "/kapacitor/v1/tasks", method: "POST", body: define).status == .ok)
            let r = try await client.execute(uri: "/write?db=printer&precision=s", method: "POST",
                                             body: "temps hotend=200 1\ntemps hotend=201 2\nother x=1 3\n")
            #expect(r.status == .noContent)
            let task = try await client.execute(uri: "/kapacitor/v1/tasks/p", method: "GET").json
            #expect(task["dbrps"] == .array([.object([("db", .string("printer")), ("rp", .string("autogen"))])]))
            #expect(task["stats"]?["node-stats"]?["from1"]?["emitted"] == .int(2))
        }
    }

    @Test("ingress is counted per database, retention policy and measurement, in debug/vars and /metrics")
    func ingressByMeasurement() async throws {
        try await Fixture.with { client in
            _ = try await client.execute(uri: "/write?db=printer&rp=autogen", method: "POST",
                                         body: "temps a=1 1\ntemps a=2 2\nfan rpm=3 3\ntemps a=4 4\n")
            let vars = try await client.execute(uri: "/kapacitor/v1/debug/vars", method: "GET").json
            let temps = vars["kapacitor"]?["ingress:printer:autogen:temps"]
            #expect(temps?["tags"]?["measurement"] == .string("temps"))
            #expect(temps?["values"]?["points_received"] == .int(3))
            #expect(vars["kapacitor"]?["ingress:printer:autogen:fan"]?["values"]?["points_received"] == .int(1))
            let metrics = try await client.execute(uri: "/metrics", method: "GET").text
            #expect(metrics.contains(#"tock_points_received_total{database="printer",retention_policy="autogen",measurement="temps"} 3"#))
            #expect(metrics.contains("tock_write_requests_total 1\n"))
        }
    }

    @Test("each running task reports its input queue depth")
    func queueDepth() async throws {
        try await Fixture.with { client in
            let define = #"{"id":"p","status":"enabled","script":"\#(Self.script)"}"#
            #expect(try await client.execute(uri: "/kapacitor/v1/tasks", method: "POST", body: define).status == .ok)
            let metrics = try await client.execute(uri: "/metrics", method: "GET").text
            #expect(metrics.contains(#"tock_task_queued_points{task="p"} 0"#))
            let vars = try await client.execute(uri: "/kapacitor/v1/debug/vars", method: "GET").json
            #expect(vars["kapacitor"]?["task:p"]?["values"]?["queued_points"] == .int(0))
        }
    }

    @Test("[logging] format = \"json\" writes one JSON object per line with the task as a field")
    func jsonLogs() throws {
        let path = NSTemporaryDirectory() + "tock-log-\(UUID().uuidString).log"
        defer { try? FileManager.default.removeItem(atPath: path) }
        var configuration = ServerConfiguration()
        try configuration.apply(toml: "[logging]\nformat = \"json\"\nfile = \"\(path)\"\n")
        let log = try LogOutput(destination: configuration.logFile, level: "INFO", format: configuration.logFormat).logger()
        log.info("started task", metadata: ["task": "cpu \"alert\""])
        let line = try String(contentsOfFile: path, encoding: .utf8)
        let object = try JSON.parse(Array(line.utf8))
        #expect(object["lvl"] == .string("info"))
        #expect(object["msg"] == .string("started task"))
        #expect(object["task"] == .string("cpu \"alert\""))
        #expect(line.hasSuffix("}\n"))
        #expect(throws: ConfigurationError.self) { try configuration.apply(toml: "[logging]\nformat = \"xml\"\n") }
    }
}
