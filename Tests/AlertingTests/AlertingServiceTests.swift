import HTTPTesting
import Engine
import Foundation
import Synchronization
import Testing
@testable import Alerting
import TockModel

@Suite("Alerting service: handlers checked and opened over the delivery path, topics recorded")
struct AlertingServiceTests {
    let fast = DeliverySettings(queueSize: 100, timeout: .seconds(60), retryMaxAttempts: 2,
                                retryInitialBackoff: .milliseconds(20), retryMaxBackoff: .milliseconds(50))

    func node(_ logs: LogLines, topic: String? = nil) -> AlertNodeContext {
        AlertNodeContext(taskID: "cpu_alert", nodeID: "alert2", topic: topic, logger: logs.logger)
    }

    func message(_ body: () throws -> Void) -> String? {
        do { try body() } catch { return "\(error)" }
        return nil
    }

    @Test("hipchat is refused as a retired service, at the handler")
    func hipChat() throws {
        let service = try AlertingService()
        do {
            try service.check(AlertHandlerSpec(kind: "hipchat", options: ["room": .string("ops")]))
            Issue.record("hipchat was accepted")
        } catch let error as HandlerOptionError {
            #expect(error.message == "HipChat was retired by Atlassian in 2019; Kapacitor's hipchat handler can no longer deliver — use slack, teams or discord")
            #expect(error.option == nil)
        }
    }

    @Test("an unknown kind is refused with a suggestion; a known kind not built yet says so")
    func unknownKinds() throws {
        let service = try AlertingService(kinds: [LogService.self, TCPService.self, ExecService.self])
        #expect(message { try service.check(AlertHandlerSpec(kind: "tpc")) } == "unknown alert handler kind \"tpc\" (did you mean tcp?)")
        #expect(message { try service.check(AlertHandlerSpec(kind: "slack")) }
                == "alert .slack() (handler kind slack) is not built yet in Tock (built: exec, log, tcp)")
    }

    @Test("option errors of log, tcp and exec name the option")
    func optionErrors() throws {
        let service = try AlertingService()
        func option(_ spec: AlertHandlerSpec) -> (String?, String?) {
            do { try service.check(spec) } catch let e as HandlerOptionError { return (e.message, e.option) } catch { return ("\(error)", nil) }
            return (nil, nil)
        }
        #expect(option(AlertHandlerSpec(kind: "log", options: ["path": .string("alerts.log")]))
                == ("alert log path must be absolute: alerts.log is not absolute", "path"))
        #expect(option(AlertHandlerSpec(kind: "log", options: ["path": .string("/tmp/a.log"), "mode": .int(0o10000)])).1 == "mode")
        #expect(option(AlertHandlerSpec(kind: "tcp", options: ["address": .string("localhost")]))
                == ("alert .tcp() needs an address host:port, got \"localhost\"", "address"))
        #expect(option(AlertHandlerSpec(kind: "exec", options: ["prog": .string("/bin/true"), "argz": .strings(["x"])])).1 == "argz")
    }

    @Test("the daemon's exec policy holds for every exec handler the service checks, topic handlers included")
    func execPolicy() throws {
        let service = try AlertingService(execPolicy: ExecPolicy(allowedPrograms: ["/bin/true"], setting: "[alert] exec-allowed"))
        try service.check(AlertHandlerSpec(kind: "exec", options: ["prog": .string("/bin/true")]))
        do {
            try service.check(AlertHandlerSpec(kind: "exec", options: ["prog": .string("/bin/sh"), "args": .strings(["-c", "id"])]))
            Issue.record("/bin/sh was allowed")
        } catch let error as HandlerOptionError {
            #expect(error.message == "alert .exec(): program /bin/sh is not allowed: add its exact path to [alert] exec-allowed in the daemon's configuration (it holds /bin/true)")
            #expect(error.option == "prog")
        }
    }

    @Test("a sink delivers to log and exec through their queues, records both topics, and skips handlers of inhibited events")
    func sinkDelivers() async throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("tock-alerting-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let service = try AlertingService(delivery: fast)
        let logs = LogLines()
        let sink = try service.open(node(logs, topic: "cpu"), handlers: [
            AlertHandlerSpec(kind: "log", options: ["path": .string("\(dir)/alerts.log"), "mode": .int(0o644)]),
            AlertHandlerSpec(kind: "exec", options: ["prog": .string("/bin/sh"), "args": .strings(["-c", "cat >> \(dir)/exec.out"])]),
        ])
        let first = event("cpu:nil", 1, level: .warning)
        let second = event("cpu:nil", 2, level: .critical)
        let quiet = event("mem:nil", 3, level: .critical)
        sink.collect(first, inhibited: false)
        sink.collect(second, inhibited: false)
        sink.collect(quiet, inhibited: true)
        let drained = Mutex(false)
        sink.drain { drained.withLock { $0 = true } }
        try await eventually("drained") { drained.withLock { $0 } }
        try await eventually("both delivered by exec") { service.deliveryStats.allSatisfy { $0.stats.sent == 2 } }
        let expected = first.json + "\n" + second.json + "\n"
        #expect(try String(contentsOfFile: "\(dir)/alerts.log", encoding: .utf8) == expected)
        #expect(try String(contentsOfFile: "\(dir)/exec.out", encoding: .utf8) == expected)
        let attributes = try FileManager.default.attributesOfItem(atPath: "\(dir)/alerts.log")
        #expect((attributes[.posixPermissions] as? Int) == 0o644)
        #expect(service.deliveryStats.map(\.handler) == ["exec /bin/sh -c cat >> \(dir)/exec.out", "log \(dir)/alerts.log"])

        #expect(service.topics.list() == [.init(id: "cpu", level: .critical, collected: 3),
                                          .init(id: "main:cpu_alert:alert2", level: .critical, collected: 3)])
        #expect(service.topics.events(of: "cpu")?.map(\.id) == ["cpu:nil", "mem:nil"])
        let last = try #require(service.topics.event("cpu:nil", of: "main:cpu_alert:alert2"))
        #expect(last.level == .critical && last.message == "cpu:nil is CRITICAL" && last.time == 2_000_000_000)
        #expect(service.topics.list(pattern: "main:*") == [.init(id: "main:cpu_alert:alert2", level: .critical, collected: 3)])
        #expect(logs.all.isEmpty, "\(logs.all)")
        sink.close()
        try await eventually("closed queues leave the stats") { service.deliveryStats.isEmpty }
    }

    @Test("exec: a non-zero exit is retried and reported with the exit status and the last output lines")
    func execFailure() async throws {
        let service = try AlertingService(delivery: fast)
        let logs = LogLines()
        let sink = try service.open(node(logs), handlers: [
            AlertHandlerSpec(kind: "exec", options: ["prog": .string("/bin/sh"),
                                                    "args": .strings(["-c", "cat > /dev/null; echo one; echo two >&2; echo three >&2; exit 3"])]),
        ])
        sink.collect(event("cpu:nil"), inhibited: false)
        try await eventually("given up") { logs.all.count == 2 }
        #expect(logs.all[1].hasSuffix("gave up on event cpu:nil after 2 attempts: /bin/sh failed: exit status 3; last output: one | two | three"),
                "\(logs.all)")
        sink.close()
    }

    @Test("exec: a program that outlives the attempt's timeout has its whole process group terminated")
    func execTimeout() async throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("tock-exec-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        var settings = fast
        settings.timeout = .milliseconds(500)
        settings.retryMaxAttempts = 1
        let service = try AlertingService(delivery: settings)
        let logs = LogLines()
        let sink = try service.open(node(logs), handlers: [
            AlertHandlerSpec(kind: "exec", options: ["prog": .string("/bin/sh"),
                                                    "args": .strings(["-c", "sleep 600 & echo $! > \(dir)/pid; wait"])]),
        ])
        sink.collect(event("cpu:nil"), inhibited: false)
        try await eventually("timed out") { !logs.all.isEmpty }
        #expect(logs.all == ["alert handler exec /bin/sh -c sleep 600 & echo $! > \(dir)/pid; wait: gave up on event cpu:nil after 1 attempt: no answer within 500ms (the attempt was cancelled)"])
        let pid = try #require(Int32(String(contentsOfFile: "\(dir)/pid", encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)))
        try await eventually("the grandchild sleep was killed with its group") { kill(pid, 0) != 0 && errno == ESRCH }
        sink.close()
    }

    @Test("a global service serves alerts that name none of its handlers, and its state-changes-only applies to every alert")
    func globalHandlers() async throws {
        let configured = try AlertingService(
            configuration: ["globaltest": [["global": .bool(true), "state-changes-only": .bool(true)]]],
            delivery: fast, kinds: [LogService.self, GlobalTestService.self])
        #expect(configured.forcesStateChangesOnly)
        let logs = LogLines()
        let plain = try configured.open(node(logs), handlers: [])
        plain.collect(event("a:nil"), inhibited: false)
        let named = try configured.open(node(logs), handlers: [AlertHandlerSpec(kind: "globaltest", options: ["to": .string("named")])])
        named.collect(event("b:nil"), inhibited: false)
        try await eventually("both delivered") { GlobalTestService.received.withLock { $0.count } >= 2 }
        #expect(Set(GlobalTestService.received.withLock { $0 }) == ["global a:nil", "named b:nil"])

        let off = try AlertingService(configuration: ["globaltest": [["global": .bool(true)]]], kinds: [GlobalTestService.self])
        #expect(!off.forcesStateChangesOnly)
        #expect(throws: ConfigError("[globaltest] unknown setting globl (known: global, state-changes-only)")) {
            try AlertingService(configuration: ["globaltest": [["globl": .bool(true)]]], kinds: [GlobalTestService.self])
        }
        #expect(throws: ConfigError("[slack] is not the section of any alert service Tock has")) {
            try AlertingService(configuration: ["slack": [[:]]], kinds: [GlobalTestService.self])
        }
    }
}

/// A service with a kapacitor.conf section and `global`/`state-changes-only`, as `[smtp]` has.
struct GlobalTestService: AlertServiceKind {
    static let kind = "globaltest"
    static let section = ConfigSectionSpec("globaltest")
    static let received = Mutex<[String]>([])
    let global: Bool
    let stateChangesOnly: Bool

    init(elements: [ConfigTable]) throws(ConfigError) {
        var r = ConfigReader(elements.first ?? [:], section: Self.section.name)
        global = try r.bool("global")
        stateChangesOnly = try r.bool("state-changes-only")
        try r.finish()
    }

    var elements: [ConfigTable] { [["global": .bool(global), "state-changes-only": .bool(stateChangesOnly)]] }
    var globalHandlers: [AlertHandlerSpec] { global ? [AlertHandlerSpec(kind: Self.kind)] : [] }
    var globalStateChangesOnly: Bool { stateChangesOnly }

    func makeSender(options: [String: HandlerOption]) throws(HandlerOptionError) -> any AlertSender {
        var r = OptionReader(options, kind: Self.kind)
        let to = try r.string("to") ?? "global"
        try r.finish()
        return Sender(to: to)
    }

    struct Sender: AlertSender {
        let to: String
        var description: String { "globaltest \(to)" }
        func send(_ event: AlertEvent) async throws(DeliveryFailure) {
            GlobalTestService.received.withLock { $0.append("\(to) \(event.id)") }
        }
    }
}

@Suite("Alerting service: a replaced service configuration reaches handlers already open")
struct LiveConfigurationTests {
    @Test("a running alert's slack handler posts to the new URL after the config API replaces [slack], as Kapacitor reads its config at each send")
    func openHandlersFollowTheService() async throws {
        let receiver = try await HTTPReceiver.start()
        defer { receiver.stop() }
        let service = try AlertingService(configuration: ["slack": [["enabled": .bool(true), "url": .string(receiver.url + "/old")]]])
        defer { service.shutdown() }
        let logs = LogLines()
        let sink = try service.open(AlertNodeContext(taskID: "cpu", nodeID: "alert2", topic: nil, logger: logs.logger),
                                    handlers: [AlertHandlerSpec(kind: "slack", options: ["channel": .string("#ops")])])
        sink.collect(Events.critical, inhibited: false)
        _ = try await receiver.waitForRequests(1)

        service.replace(try SlackService(elements: [["enabled": .bool(true), "url": .string(receiver.url + "/new")]]))
        sink.collect(Events.recovery, inhibited: false)
        let requests = try await receiver.waitForRequests(2)
        #expect(requests.map(\.path) == ["/old", "/new"])
        #expect(requests[1].text.contains(##""channel":"#ops""##))

        service.replace(try SlackService(elements: [["enabled": .bool(false), "url": .string(receiver.url + "/off")]]))
        sink.collect(Events.critical, inhibited: false)
        for _ in 0..<200 where !logs.all.contains(where: { $0.contains("no longer serves this handler") }) {
            try await Task.sleep(for: .milliseconds(50))
        }
        #expect(logs.all.contains { $0.contains("the slack configuration was changed and no longer serves this handler") })
        #expect(try await receiver.waitForRequests(2).count == 2)
    }
}
