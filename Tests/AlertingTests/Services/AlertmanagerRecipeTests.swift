import HTTPTesting
import Engine
import Foundation
import Testing
import TockModel
@testable import Alerting

/// The post README's recipe: an `[[httppost]]` endpoint whose `alert-template` writes Alertmanager's
/// `POST /api/v2/alerts` body, against Debian's real `prometheus-alertmanager` on loopback, whose webhook receiver
/// is a loopback receiver too.
@Suite(.serialized) struct AlertmanagerRecipeTests {
    /// The recipe's template: labels from the alert ID and the series' tags, annotations from the message, details
    /// and level; a firing alert starts at the event's time, a recovery ends there.
    static let template = #"[{"labels":{"alertname":{{ json .ID }}{{ range .Data.Series }}{{ range $k, $v := .Tags }},{{ json $k }}:{{ json $v }}{{ end }}{{ end }}},"annotations":{"summary":{{ json .Message }},"description":{{ json .Details }},"level":"{{ .Level }}"},{{ if eq .Level "OK" }}"endsAt"{{ else }}"startsAt"{{ end }}:{{ json .Time }}}]"#

    @Test func alertmanagerAcceptsFiringThenResolvedAndNotifiesItsWebhook() async throws {
        let binary = "/usr/bin/prometheus-alertmanager"
        guard FileManager.default.isExecutableFile(atPath: binary) else {
            Issue.record("\(binary) is not installed (Debian package prometheus-alertmanager; .ci/run installs it)")
            return
        }
        let webhook = try PostReceiver()
        let port = try Self.freePort()
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("tock-am-\(UUID())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let config = """
            route:
              receiver: hook
              group_by: ['alertname']
              group_wait: 1s
              group_interval: 1s
              repeat_interval: 1h
            receivers:
              - name: hook
                webhook_configs:
                  - url: \(webhook.url)/hook
                    send_resolved: true
            """
        try config.write(to: dir.appendingPathComponent("alertmanager.yml"), atomically: true, encoding: .utf8)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: binary)
        process.arguments = [
            "--config.file=\(dir.path)/alertmanager.yml", "--storage.path=\(dir.path)/data",
            "--web.listen-address=127.0.0.1:\(port)", "--cluster.listen-address=",
        ]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        defer { process.terminate(); process.waitUntilExit() }
        let base = "http://127.0.0.1:\(port)"
        try await Self.waitUntilReady(base, process: process)

        let service = try HTTPPostService(elements: [[
            "endpoint": .string("alertmanager"), "url": .string(base + "/api/v2/alerts"),
            "headers": .table(["Content-Type": .string("application/json")]),
            "alert-template": .string(Self.template),
        ]])
        let sender = try service.makeSender(options: ["endpoint": .string("alertmanager")])
        let now = Int64(Date().timeIntervalSince1970 * 1e9)
        var critical = IncidentFixtures.event(.critical)
        critical.time = now
        try await sender.send(critical)

        let firing = try await Self.alerts(base)
        try #require(firing.count == 1)
        let labels = try #require(firing[0]["labels"] as? [String: String])
        #expect(labels == ["alertname": "cpu:host=serverA", "host": "serverA"])
        #expect((firing[0]["annotations"] as? [String: String]) == ["summary": "cpu is CRITICAL", "description": "details", "level": "CRITICAL"])
        #expect((firing[0]["status"] as? [String: Any])?["state"] as? String == "active")

        let fired = await webhook.waitFor(1)
        try #require(fired.count >= 1)
        let first = try Self.json(fired[0].body)
        #expect(first["version"] as? String == "4")
        #expect(first["status"] as? String == "firing")
        let firstAlert = try #require((first["alerts"] as? [[String: Any]])?.first)
        #expect(firstAlert["labels"] as? [String: String] == labels)
        #expect((firstAlert["annotations"] as? [String: String])?["summary"] == "cpu is CRITICAL")

        var ok = IncidentFixtures.event(.ok)
        ok.time = now + 1_000_000_000
        try await sender.send(ok)
        #expect(try await Self.alerts(base).isEmpty)
        let resolved = await webhook.waitFor(2)
        try #require(resolved.count >= 2)
        let second = try Self.json(resolved[1].body)
        #expect(second["status"] as? String == "resolved")
        let resolvedAlert = try #require((second["alerts"] as? [[String: Any]])?.first)
        #expect(resolvedAlert["status"] as? String == "resolved")
        #expect(resolvedAlert["labels"] as? [String: String] == labels)
        #expect((resolvedAlert["endsAt"] as? String)?.hasPrefix(String(RFC3339Nano.format(ok.time).prefix(19))) == true)
    }

    static func alerts(_ base: String) async throws -> [[String: Any]] {
        let response = try await AlertHTTP.send(.GET, url: base + "/api/v2/alerts", timeout: .seconds(10))
        return try #require(try JSONSerialization.jsonObject(with: Data(response.body)) as? [[String: Any]])
    }

    static func json(_ body: [UInt8]) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(body)) as? [String: Any])
    }

    static func waitUntilReady(_ base: String, process: Process) async throws {
        for _ in 0..<200 {
            guard process.isRunning else { throw PostReceiver.ReceiverError("prometheus-alertmanager exited with status \(process.terminationStatus)") }
            if (try? await AlertHTTP.send(.GET, url: base + "/-/ready", timeout: .seconds(2))) != nil { return }
            try await Task.sleep(for: .milliseconds(100))
        }
        throw PostReceiver.ReceiverError("prometheus-alertmanager did not become ready at \(base)")
    }

    /// A port nothing listens on now: bound to 0 and released.
    static func freePort() throws -> Int {
        let probe = try PostReceiver()
        let port = probe.port
        probe.stop()
        return port
    }
}
