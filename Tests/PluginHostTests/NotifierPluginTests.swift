import LogTesting
import Logging
import Engine
import Foundation
import PluginHost
import Testing
import TockModel

/// Notifier plugins (`[notifiers.NAME]`, `Protocol/plugin.proto`) under the same supervisor as UDFs: the handshake
/// checks a handler's options, each event is answered delivered, retryable or permanent, and a plugin that crashes,
/// hangs or writes garbage is a retryable failure naming it, then started again.
@Suite("Notifier plugins", .serialized)
struct NotifierPluginTests {
    static let script = Repo.path("Tests/Fixtures/notifiers/scripted.py")

    final class Logs: @unchecked Sendable {
        private let lock = NSLock()
        private var lines: [String] = []
        private var kept: [LogRecorder.Line] = []
        func append(_ line: LogRecorder.Line) {
            lock.withLock {
                lines.append("\(line.level.rawValue) \(line.message)")
                kept.append(line)
            }
        }
        var all: [String] { lock.withLock { lines } }
        /// The lines with their metadata.
        var recorded: [LogRecorder.Line] { lock.withLock { kept } }
    }

    static func plugin(timeout: Int64 = 5 * GoDuration.second, logs: Logs = Logs()) throws -> (NotifierPlugin, String) {
        let out = FileManager.default.temporaryDirectory.appendingPathComponent("notifier-\(UUID().uuidString).jsonl").path
        var config = NotifierConfiguration(
            name: "scripted",
            endpoint: .process(program: Repo.python, arguments: ["-u", script],
                               environment: ["PYTHONPATH": Repo.path("Protocol/python"), "NOTIFIER_OUT": out]))
        config.timeout = timeout
        return (NotifierPlugin(configuration: config, logger: .recording { logs.append($0) }), out)
    }

    static func event(_ id: String = "cpu:host=a", level: AlertLevel = .critical) -> AlertEvent {
        AlertEvent(id: id, message: "\(id) is \(level)", details: "", time: 1_000_000_000, duration: 0, level: level,
                   previousLevel: .ok, recoverable: true,
                   data: .point(Point(name: "cpu", tags: ["host": "a"], fields: ["value": .double(91)], time: 1_000_000_000)),
                   taskName: "cpu_alert", name: "cpu", tags: ["host": "a"], fields: ["value": .double(91)])
    }

    @Test("the handshake names the plugin and its options; a handler's options are checked against them")
    func handshake() throws {
        let (plugin, _) = try Self.plugin()
        defer { plugin.stop() }
        let info = try plugin.info()
        #expect(info.name == "scripted" && info.version == "1.2")
        #expect(info.options.keys.sorted() == ["count", "mode", "tag"])
        #expect(info.inFlight == 4)
        try plugin.check(options: ["mode": .string("deliver"), "count": .int(2)])
        #expect(throws: HandlerOptionError("notifier scripted has no option mood (options: count, mode, tag)", option: "mood")) {
            try plugin.check(options: ["mood": .string("x")])
        }
        #expect(throws: HandlerOptionError("notifier scripted option count must be an integer", option: "count")) {
            try plugin.check(options: ["mode": .string("deliver"), "count": .string("two")])
        }
        #expect(throws: HandlerOptionError("notifier scripted needs option mode")) { try plugin.check(options: [:]) }
    }

    @Test("each event is answered: delivered (the plugin got Kapacitor's JSON), permanent, retryable with its delay")
    func outcomes() async throws {
        let (plugin, out) = try Self.plugin()
        defer { plugin.stop() }
        let e = Self.event()
        #expect(await plugin.notify(e, options: ["mode": .string("deliver")], attempt: 1, topic: "main:cpu_alert:alert2") == .delivered)
        #expect(try String(contentsOfFile: out, encoding: .utf8) == e.json + "\n")
        #expect(await plugin.notify(e, options: ["mode": .string("permanent"), "tag": .string("ops")], attempt: 1, topic: "t")
            == .permanent(reason: "no such pager: ops"))
        #expect(await plugin.notify(Self.event("b"), options: ["mode": .string("retry-once")], attempt: 1, topic: "t")
            == .retryable(reason: "pager busy", after: 200_000_000))
        #expect(await plugin.notify(Self.event("b"), options: ["mode": .string("retry-once")], attempt: 2, topic: "t") == .delivered)
    }

    @Test("a crash with an event in flight is retryable, names the exit and the plugin's stderr, and the plugin starts again")
    func crash() async throws {
        let logs = Logs()
        let (plugin, out) = try Self.plugin(logs: logs)
        defer { plugin.stop() }
        let outcome = await plugin.notify(Self.event(), options: ["mode": .string("crash")], attempt: 1, topic: "t")
        guard case .retryable(let reason, nil) = outcome else {
            Issue.record("a crash was \(outcome)")
            return
        }
        #expect(reason.contains("exited with status 3"), "\(reason)")
        #expect(reason.contains("crashing on purpose"), "\(reason)")
        #expect(logs.all.contains { $0.hasPrefix("ERROR notifier scripted: E! scripted: crashing on purpose") })
        // The plugin's stderr line and its crash are logged with its name as `plugin` metadata.
        #expect(logs.recorded.contains { $0.message.hasPrefix("notifier scripted: E! ") && $0.metadata["plugin"] == "scripted" })
        #expect(logs.recorded.filter { $0.level == .error }.allSatisfy { $0.metadata["plugin"] == "scripted" })
        // Restarted once its backoff has passed.
        var delivered = NotifyOutcome.permanent(reason: "not tried")
        for _ in 0..<50 {
            delivered = await plugin.notify(Self.event(), options: ["mode": .string("deliver")], attempt: 2, topic: "t")
            if delivered == .delivered { break }
            try await Task.sleep(for: .milliseconds(50))
        }
        #expect(delivered == .delivered)
        #expect(plugin.restarts == 1)
        #expect(FileManager.default.fileExists(atPath: out))
    }

    @Test("a hung delivery is abandoned when the attempt is cancelled; garbage on stdout ends the plugin, retryable")
    func hangAndGarbage() async throws {
        let (plugin, _) = try Self.plugin()
        defer { plugin.stop() }
        let attempt = Task { await plugin.notify(Self.event(), options: ["mode": .string("hang")], attempt: 1, topic: "t") }
        try await Task.sleep(for: .milliseconds(500))
        attempt.cancel()
        guard case .retryable(let reason, _) = await attempt.value else {
            Issue.record("a cancelled attempt was not retryable")
            return
        }
        #expect(reason.contains("abandoned"))
        // The plugin still answers other events (the hung one holds one of its four slots).
        #expect(await plugin.notify(Self.event(), options: ["mode": .string("permanent")], attempt: 1, topic: "t")
            == .permanent(reason: "no such pager: ?"))
        let garbage = await plugin.notify(Self.event(), options: ["mode": .string("garbage")], attempt: 1, topic: "t")
        guard case .retryable(let why, _) = garbage else {
            Issue.record("garbage was \(garbage)")
            return
        }
        #expect(why.contains("frame"), "\(why)")
    }

    @Test("the Swift sample (NotifierKit) handshakes and appends each event's JSON to its path option")
    func swiftSample() async throws {
        let exe = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().deletingLastPathComponent()
            .appendingPathComponent("tock-file-notifier").path
        try #require(FileManager.default.isExecutableFile(atPath: exe), "build tock-file-notifier first: \(exe)")
        let plugin = NotifierPlugin(configuration: NotifierConfiguration(name: "file", endpoint: .process(program: exe, arguments: [], environment: [:])))
        defer { plugin.stop() }
        let info = try plugin.info()
        #expect(info.name == "file" && info.options.keys.sorted() == ["path"])
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("file-notifier-\(UUID().uuidString).jsonl").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        #expect(await plugin.notify(Self.event("a"), options: ["path": .string(path)], attempt: 1, topic: "t") == .delivered)
        #expect(await plugin.notify(Self.event("b", level: .ok), options: ["path": .string(path)], attempt: 1, topic: "t") == .delivered)
        #expect(try String(contentsOfFile: path, encoding: .utf8) == Self.event("a").json + "\n" + Self.event("b", level: .ok).json + "\n")
        #expect(await plugin.notify(Self.event(), options: ["path": .string("relative.jsonl")], attempt: 1, topic: "t")
            == .permanent(reason: "path must be an absolute path"))
    }

    @Test("a program that is not a notifier, or does not start, is refused with why")
    func refused() throws {
        var config = NotifierConfiguration(name: "nope", endpoint: .process(program: "/nonexistent/notifier", arguments: [], environment: [:]))
        config.timeout = GoDuration.second
        #expect(throws: NotifierError.self) { try NotifierPlugin(configuration: config).info() }
        config.endpoint = .process(program: "/bin/sh", arguments: ["-c", "echo not a plugin >&2; sleep 5"], environment: [:])
        do {
            _ = try NotifierPlugin(configuration: config).info()
            Issue.record("a program without a handshake was accepted")
        } catch {
            #expect(error.description.contains("did not answer the handshake within 1s"), "\(error)")
            #expect(error.description.contains("not a plugin"), "\(error)")
        }
    }

    @Test("[notifiers.NAME] sections: prog, args, env and the delivery settings, with clear errors")
    func configuration() throws {
        let config = try UDFConfiguration.parse("""
        [notifiers.pager]
          prog = "/usr/bin/python3"
          args = ["-u", "pager.py"]
          timeout = "3s"
          concurrency = 8
          attempt-timeout = "20s"
          retry-max-attempts = 7
          retry-initial-backoff = "500ms"
          retry-max-backoff = "2m"
          [notifiers.pager.env]
            URL = "http://127.0.0.1:9"
        """)
        let pager = try #require(config.notifiers["pager"])
        #expect(pager.endpoint == .process(program: "/usr/bin/python3", arguments: ["-u", "pager.py"], environment: ["URL": "http://127.0.0.1:9"]))
        #expect(pager.timeout == 3 * GoDuration.second && pager.concurrency == 8 && pager.attemptTimeout == 20 * GoDuration.second)
        #expect(pager.retryMaxAttempts == 7 && pager.retryInitialBackoff == 500 * GoDuration.millisecond
            && pager.retryMaxBackoff == 2 * GoDuration.minute)
        #expect(throws: ConfigDiagnostic.self) { try UDFConfiguration.parse("[notifiers.x]\n  args = [\"a\"]\n") }
        do {
            _ = try UDFConfiguration.parse("[notifiers.x]\n  prog = \"p\"\n  retries = 3\n")
            Issue.record("an unknown key was accepted")
        } catch {
            #expect(error.description.contains("notifier x: unknown key retries"))
            #expect(error.line == 3)
        }
    }
}
