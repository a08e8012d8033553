import HTTPTesting
import Engine
import Foundation
import Synchronization
import Testing
@testable import Alerting

/// A sender whose answers a test scripts: each attempt takes the next outcome (the last repeats).
final class ScriptedSender: AlertSender {
    enum Outcome: Sendable {
        case deliver
        case fail(DeliveryFailure)
        /// Never answers and ignores cancellation, as a sender stuck in a blocking call would.
        case hang
        /// Waits until ``open()`` before delivering.
        case gate
    }

    let description = "scripted receiver"
    private let script: Mutex<[Outcome]>
    private let log = Mutex<[String]>([])
    private let gate = Mutex<(open: Bool, waiting: [CheckedContinuation<Void, Never>])>((false, []))
    private let hung = Mutex<[CheckedContinuation<Void, Never>]>([])

    init(_ script: [Outcome]) { self.script = Mutex(script) }

    /// Event IDs in the order of their attempts, and `+` after each delivered one.
    var attempts: [String] { log.withLock { $0 } }
    var delivered: [String] { attempts.filter { $0.hasSuffix("+") }.map { String($0.dropLast()) } }

    func open() {
        let waiting = gate.withLock { g in
            g.open = true
            defer { g.waiting = [] }
            return g.waiting
        }
        for c in waiting { c.resume() }
    }

    func send(_ event: AlertEvent) async throws(DeliveryFailure) {
        let outcome = script.withLock { s in s.count > 1 ? s.removeFirst() : s[0] }
        log.withLock { $0.append(event.id) }
        switch outcome {
        case .deliver: break
        case .fail(let failure): throw failure
        case .hang:
            await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in hung.withLock { $0.append(c) } }
        case .gate:
            await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
                let now = gate.withLock { g in
                    if g.open { return true }
                    g.waiting.append(c)
                    return false
                }
                if now { c.resume() }
            }
        }
        log.withLock { $0.append(event.id + "+") }
    }
}

@Suite("Delivery queue: one handler's bounded, ordered, retrying way to its receiver")
struct DeliveryQueueTests {
    let fast = DeliverySettings(queueSize: 1000, timeout: .seconds(60), retryMaxAttempts: 6,
                                retryInitialBackoff: .milliseconds(20), retryMaxBackoff: .milliseconds(200))

    @Test("a TCP receiver that is down and then comes up gets every event once, in order, after retries")
    func downThenUp() async throws {
        let port = try Loopback.freePort()
        let sender = try TCPService(elements: []).makeSender(options: ["address": .string("127.0.0.1:\(port)")])
        let logs = LogLines()
        var settings = fast
        settings.retryInitialBackoff = .milliseconds(100)
        settings.retryMaxAttempts = 50
        let queue = DeliveryQueue(sender: sender, settings: settings, logger: logs.logger)
        for i in 1...5 { queue.collect(event("e\(i)", Int64(i))) }
        try await eventually("a first attempt failed and a retry was scheduled") { queue.stats.retried >= 1 }
        let listener = try LineListener(port: port)
        defer { listener.stop() }
        try await eventually("five events received") { listener.lines.count >= 5 }
        try await eventually("five events counted as sent") { queue.stats.sent == 5 }
        let ids = listener.lines.map { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }.map { $0?["id"] as? String }
        #expect(ids == ["e1", "e2", "e3", "e4", "e5"])
        #expect(queue.stats.failed == 0 && queue.stats.dropped == 0)
        #expect(logs.all.first?.hasPrefix("alert handler tcp 127.0.0.1:\(port): attempt 1 of event e1 failed: cannot connect to 127.0.0.1:\(port): connection refused; retrying in 100ms") == true,
                "\(logs.all.first ?? "no log")")
        queue.close()
    }

    @Test("an attempt that hangs is cancelled at the timeout and retried; collect never waits for it")
    func hangingReceiver() async throws {
        let sender = ScriptedSender([.hang, .deliver])
        let logs = LogLines()
        var settings = fast
        settings.timeout = .milliseconds(300)
        let queue = DeliveryQueue(sender: sender, settings: settings, logger: logs.logger)
        queue.collect(event("stuck"))
        try await eventually("the first attempt started") { sender.attempts == ["stuck"] }
        for i in 1...20 { queue.collect(event("next\(i)")) }
        #expect(queue.stats.queued == 20, "collect queued while the receiver hung")
        try await eventually("all delivered") { queue.stats.sent == 21 }
        #expect(sender.delivered == ["stuck"] + (1...20).map { "next\($0)" })
        #expect(queue.stats.retried == 1)
        #expect(logs.all == ["alert handler scripted receiver: attempt 1 of event stuck failed: no answer within 300ms (the attempt was cancelled); retrying in 20ms"])
        queue.close()
    }

    @Test("a 4xx answer is a permanent failure: logged with the receiver's answer and not retried")
    func clientErrorNotRetried() async throws {
        let receiver = try FixedHTTPReceiver(status: 400, reason: "Bad Request", body: "unknown channel")
        defer { receiver.stop() }
        let sender = HTTPTestSender(url: "http://127.0.0.1:\(receiver.port)/hook")
        let logs = LogLines()
        let queue = DeliveryQueue(sender: sender, settings: fast, logger: logs.logger)
        queue.collect(event("cpu:nil"))
        queue.collect(event("mem:nil"))
        try await eventually("both given up") { queue.stats.failed == 2 }
        #expect(receiver.requests.count == 2, "one request per event, no retry")
        #expect(queue.stats.retried == 0 && queue.stats.sent == 0)
        #expect(logs.all.first == "alert handler http test: event cpu:nil refused, not retried: POST http://127.0.0.1:\(receiver.port)/hook returned status 400: unknown channel")
        queue.close()
    }

    @Test("a retryable failure is given up after the last attempt, with the reason")
    func givesUp() async throws {
        let sender = ScriptedSender([.fail(.retryable("503 from receiver"))])
        let logs = LogLines()
        var settings = fast
        settings.retryMaxAttempts = 3
        let queue = DeliveryQueue(sender: sender, settings: settings, logger: logs.logger)
        queue.collect(event("a"))
        try await eventually("given up") { queue.stats.failed == 1 }
        #expect(sender.attempts == ["a", "a", "a"])
        #expect(queue.stats.retried == 2)
        #expect(logs.all.last == "alert handler scripted receiver: gave up on event a after 3 attempts: 503 from receiver")
        queue.close()
    }

    @Test("a flood into a small queue drops the oldest waiting events, counted and logged")
    func flood() async throws {
        let sender = ScriptedSender([.gate])
        let logs = LogLines()
        var settings = fast
        settings.queueSize = 3
        let queue = DeliveryQueue(sender: sender, settings: settings, logger: logs.logger)
        queue.collect(event("e1"))
        try await eventually("e1 is being attempted") { sender.attempts == ["e1"] }
        for i in 2...10 { queue.collect(event("e\(i)", Int64(i))) }
        #expect(queue.stats.dropped == 6)
        #expect(queue.stats.queued == 3)
        sender.open()
        try await eventually("the rest delivered") { queue.stats.sent == 4 }
        #expect(sender.delivered == ["e1", "e8", "e9", "e10"])
        #expect(logs.all == ["alert handler scripted receiver: queue full (3 events waiting), dropped the oldest event e2 at 1970-01-01T00:00:02Z (1 dropped so far)"])
        queue.close()
    }

    @Test("drain waits for every collected event's first attempt, not for retries")
    func drain() async throws {
        let sender = ScriptedSender([.gate, .fail(.retryable("down")), .deliver])
        var settings = fast
        settings.retryInitialBackoff = .seconds(3600)
        let queue = DeliveryQueue(sender: sender, settings: settings, logger: LogLines().logger)
        queue.collect(event("a"))
        queue.collect(event("b"))
        let drained = Mutex(false)
        queue.drain { drained.withLock { $0 = true } }
        try await eventually("a is being attempted") { sender.attempts == ["a"] }
        #expect(drained.withLock { $0 } == false, "a has not had its first attempt")
        sender.open()
        try await eventually("drained once b failed and waits for its retry") { drained.withLock { $0 } }
        // b's retry waits an hour: nothing after its first attempt.
        #expect(sender.attempts == ["a", "a+", "b"])
        queue.cancel()
    }

    @Test("the backoff doubles from the initial wait up to the cap, and a longer Retry-After wins")
    func backoff() {
        let s = DeliverySettings(retryInitialBackoff: .seconds(1), retryMaxBackoff: .seconds(10))
        #expect((1...6).map { s.backoff(afterAttempt: $0, receiverAsked: nil) } == [1, 2, 4, 8, 10, 10].map { Duration.seconds($0) })
        #expect(s.backoff(afterAttempt: 1, receiverAsked: .seconds(30)) == .seconds(30))
        #expect(s.backoff(afterAttempt: 3, receiverAsked: .seconds(2)) == .seconds(4))
    }

    @Test("[alerting] is read with defaults, and bad or unknown settings are refused")
    func settings() throws {
        let d = try DeliverySettings(table: [:])
        #expect(d == DeliverySettings())
        let s = try DeliverySettings(table: ["queue-size": .int(10), "timeout": .string("5s"), "retry-max-attempts": .int(2),
                                             "retry-initial-backoff": .string("250ms"), "retry-max-backoff": .string("2s")])
        #expect(s == DeliverySettings(queueSize: 10, timeout: .seconds(5), retryMaxAttempts: 2,
                                      retryInitialBackoff: .milliseconds(250), retryMaxBackoff: .seconds(2)))
        #expect(throws: ConfigError("[alerting] queue-size must be at least 1, got 0")) { try DeliverySettings(table: ["queue-size": .int(0)]) }
        #expect(throws: ConfigError("[alerting] unknown setting queue (known: dead-letter-max, drain-timeout, queue-size, rate-limit, rate-limits, retry-initial-backoff, retry-max-attempts, retry-max-backoff, timeout)")) {
            try DeliverySettings(table: ["queue": .int(1)])
        }
    }
}

/// A JSON POST through ``AlertHTTP``, as the HTTP services send.
struct HTTPTestSender: AlertSender {
    let url: String
    var description: String { "http test" }
    func send(_ event: AlertEvent) async throws(DeliveryFailure) {
        _ = try await AlertHTTP.postJSON(url: url, body: Array(event.json.utf8))
    }
}
