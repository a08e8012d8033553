import Engine
import Foundation
import Synchronization
import Testing
@testable import Alerting

@Suite("Rate limits: at most N deliveries per window per handler; events over it wait in the bounded queue")
struct RateLimitTests {
    @Test("N/DURATION is read, a bare unit means one of it, and bad forms are refused naming the setting",
          arguments: [("20/1m", 20, Duration.seconds(60)), ("5/s", 5, .seconds(1)), ("1/10s", 1, .seconds(10)), (" 3 / 250ms ", 3, .milliseconds(250))])
    func parse(text: String, events: Int, per: Duration) throws {
        let limit = try RateLimit(parsing: text, key: "[alerting] rate-limit")
        #expect(limit == RateLimit(events: events, per: per))
        #expect(try RateLimit(parsing: limit.description, key: "k") == limit, "the description reads back")
    }

    @Test("bad rate limits are refused with what was wrong")
    func refused() {
        func error(_ text: String) -> String? {
            do { _ = try RateLimit(parsing: text, key: "[alerting] rate-limit") } catch { return error.message }
            return nil
        }
        #expect(error("20") == "[alerting] rate-limit = \"20\": expected EVENTS/DURATION such as \"20/1m\"")
        #expect(error("0/1m") == "[alerting] rate-limit = \"0/1m\": the number of events must be a whole number of at least 1 (expected EVENTS/DURATION such as \"20/1m\")")
        #expect(error("5/fortnight") == "[alerting] rate-limit = \"5/fortnight\": \"fortnight\" is not a positive duration (expected EVENTS/DURATION such as \"20/1m\")")
        #expect(error("5/0s") == "[alerting] rate-limit = \"5/0s\": \"0s\" is not a positive duration (expected EVENTS/DURATION such as \"20/1m\")")
    }

    @Test("[alerting] rate-limit is every handler's default, [alerting.rate-limits] overrides it per kind; off when absent")
    func settings() throws {
        #expect(try DeliverySettings(table: [:]).rateLimit(forKind: "slack") == nil)
        let s = try DeliverySettings(table: ["rate-limit": .string("20/1m"), "rate-limits": .table(["slack": .string("10/1m")])])
        #expect(s.rateLimit(forKind: "slack") == RateLimit(events: 10, per: .seconds(60)))
        #expect(s.rateLimit(forKind: "tcp") == RateLimit(events: 20, per: .seconds(60)))
        #expect(try DeliverySettings(table: s.table) == s, "the table reads back")
        #expect(throws: ConfigError("[alerting.rate-limits] slack = \"lots\": expected EVENTS/DURATION such as \"20/1m\"")) {
            try DeliverySettings(table: ["rate-limits": .table(["slack": .string("lots")])])
        }
        #expect(throws: ConfigError("[alerting] dead-letter-max must be at least 1, got 0")) {
            try DeliverySettings(table: ["dead-letter-max": .int(0)])
        }
    }

    @Test("a notifier handler's rate limit is looked up by the notifier's name")
    func notifierKind() {
        let o = DeliveryOrigin(task: "t", node: "n", topic: "x", kind: "notify", options: ["notifier": .string("pager")])
        #expect(o.limitKind == "pager")
    }

    @Test("the gate lets a burst of N through at once, then one every window/N")
    func gate() {
        var gate = RateGate(RateLimit(events: 3, per: .seconds(3)))
        let t0 = ContinuousClock.now
        #expect((0..<5).map { _ in gate.reserve(at: t0) } == [.zero, .zero, .zero, .seconds(1), .seconds(2)])
        // After a quiet window the burst is available again.
        var quiet = RateGate(RateLimit(events: 3, per: .seconds(3)))
        _ = (0..<3).map { _ in quiet.reserve(at: t0) }
        #expect(quiet.reserve(at: t0 + .seconds(10)) == .zero)
    }

    @Test("a handler over its limit delivers the rest later, in order, none lost")
    func queueWaits() async throws {
        var settings = DeliverySettings(queueSize: 100, timeout: .seconds(10), retryMaxAttempts: 1)
        // 2 per 2s: a burst of two, then one a second.
        settings.rateLimit = RateLimit(events: 2, per: .seconds(2))
        let sender = ScriptedSender([.deliver])
        let q = DeliveryQueue(sender: sender, settings: settings, logger: LogLines().logger)
        let started = ContinuousClock.now
        for i in 1...4 { q.collect(event("e\(i)", Int64(i))) }
        try await eventually("the burst of two went at once", within: 0.9) { q.stats.sent == 2 }
        #expect(q.stats.sent == 2, "the third waits for its slot, a second after the first")
        try await eventually("all four delivered") { q.stats.sent == 4 }
        #expect(ContinuousClock.now - started >= .milliseconds(1950), "e4 went out a whole window after the burst")
        #expect(sender.delivered == ["e1", "e2", "e3", "e4"])
        #expect(q.stats.rateLimited == 2)
        q.close()
    }

    @Test("a flood over the limit ends as queue-full dead letters, never as an unbounded queue")
    func flood() async throws {
        var settings = DeliverySettings(queueSize: 5, timeout: .seconds(10), retryMaxAttempts: 1)
        settings.rateLimit = RateLimit(events: 1, per: .seconds(3600))
        let office = DeadLetterOffice()
        let q = DeliveryQueue(sender: ScriptedSender([.deliver]), settings: settings,
                              origin: DeliveryOrigin(task: "t", node: "n", topic: "x", kind: "tcp"), deadLetters: office, logger: LogLines().logger)
        for i in 1...100 { q.collect(event("e\(i)", Int64(i))) }
        try await eventually("the first was sent") { q.stats.sent == 1 }
        #expect(q.stats.queued <= 5)
        let letters = try office.letters()
        #expect((93...95).contains(letters.count), "all but the one sent, the one waiting for its slot and the five queued")
        #expect(Set(letters.map(\.reason)) == [.queueFull])
        q.cancel()
        try await eventually("the queue ended") { q.isFinished }
        #expect(try office.letters().count == 99, "the rest became dead letters when it stopped")
    }
}
