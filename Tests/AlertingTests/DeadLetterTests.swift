import Engine
import Foundation
import Synchronization
import Testing
@testable import Alerting
import TockModel

@Suite("Dead letters: every event a handler gives up is kept with its reason, bounded, and can be replayed")
struct DeadLetterTests {
    let fast = DeliverySettings(queueSize: 1000, timeout: .seconds(60), retryMaxAttempts: 3,
                                retryInitialBackoff: .milliseconds(10), retryMaxBackoff: .milliseconds(50))
    let origin = DeliveryOrigin(task: "cpu_alert", node: "alert2", topic: "main:cpu_alert:alert2", kind: "tcp",
                                options: ["address": .string("127.0.0.1:1")])

    func queue(_ sender: ScriptedSender, _ settings: DeliverySettings? = nil, office: DeadLetterOffice) -> DeliveryQueue {
        DeliveryQueue(sender: sender, settings: settings ?? fast, origin: origin, deadLetters: office, logger: LogLines().logger)
    }

    func letters(_ office: DeadLetterOffice) -> [DeadLetter] { (try? office.letters()) ?? [] }

    @Test("a refused event is a dead letter at once: reason refused, one attempt, the receiver's words, the handler named")
    func refused() async throws {
        let office = DeadLetterOffice()
        let q = queue(ScriptedSender([.fail(.permanent("400 Bad Request: no such channel"))]), office: office)
        q.collect(event("a", 7))
        try await eventually("dead-lettered") { letters(office).count == 1 }
        let letter = try #require(letters(office).first)
        #expect(letter.reason == .refused)
        #expect(letter.attempts == 1)
        #expect(letter.detail == "400 Bad Request: no such channel")
        #expect(letter.handler == "scripted receiver")
        #expect(letter.origin == origin)
        #expect(letter.event == event("a", 7))
        #expect(letter.id == 1)
        #expect(letter.time > 1_700_000_000 * 1_000_000_000, "the wall-clock time it was given up")
        #expect(q.stats.deadLettered == 1)
        q.close()
    }

    @Test("an event still failing after retry-max-attempts is a dead letter: reason retries-exhausted, every attempt counted")
    func retriesExhausted() async throws {
        let office = DeadLetterOffice()
        let sender = ScriptedSender([.fail(.retryable("503 Service Unavailable"))])
        let q = queue(sender, office: office)
        q.collect(event("a"))
        try await eventually("dead-lettered") { letters(office).count == 1 }
        #expect(sender.attempts == ["a", "a", "a"])
        #expect(letters(office).map(\.reason) == [.retriesExhausted])
        #expect(letters(office).map(\.attempts) == [3])
        #expect(letters(office).map(\.detail) == ["503 Service Unavailable"])
        q.close()
    }

    @Test("events pushed out of a full queue are dead letters, oldest first, with no attempt made")
    func queueFull() async throws {
        let office = DeadLetterOffice()
        let sender = ScriptedSender([.gate])
        var settings = fast
        settings.queueSize = 3
        let q = queue(sender, settings, office: office)
        q.collect(event("e1"))
        try await eventually("e1 is being attempted") { sender.attempts == ["e1"] }
        for i in 2...10 { q.collect(event("e\(i)", Int64(i))) }
        #expect(letters(office).map(\.event.id) == ["e2", "e3", "e4", "e5", "e6", "e7"])
        #expect(Set(letters(office).map(\.reason)) == [.queueFull])
        #expect(Set(letters(office).map(\.attempts)) == [0])
        #expect(letters(office).first?.detail == "queue full: 3 events were waiting")
        sender.open()
        try await eventually("the rest delivered") { q.stats.sent == 4 }
        #expect(sender.delivered == ["e1", "e8", "e9", "e10"])
        q.close()
    }

    @Test("cancel makes dead letters of the waiting events and of the one whose attempt hangs; nothing later is taken silently")
    func stopped() async throws {
        let office = DeadLetterOffice()
        let sender = ScriptedSender([.hang])
        var settings = fast
        settings.timeout = .milliseconds(200)
        let q = queue(sender, settings, office: office)
        for id in ["a", "b", "c"] { q.collect(event(id)) }
        try await eventually("a is being attempted") { sender.attempts == ["a"] }
        q.cancel()
        try await eventually("a's attempt timed out and it was given up") { letters(office).count == 3 }
        #expect(letters(office).map(\.event.id) == ["b", "c", "a"])
        #expect(Set(letters(office).map(\.reason)) == [.stopped])
        #expect(letters(office).map(\.attempts) == [0, 0, 1])
        q.collect(event("late"))
        #expect(letters(office).last?.event.id == "late")
        #expect(letters(office).last?.detail == "the handler had stopped when the event came")
        try await eventually("the queue's task ended") { q.isFinished }
    }

    @Test("every collected event ends delivered or dead-lettered: sent + dead letters = collected")
    func everyEventAccountedFor() async throws {
        let office = DeadLetterOffice()
        let sender = ScriptedSender([.deliver, .fail(.permanent("no")), .fail(.retryable("busy")), .deliver,
                                     .fail(.retryable("down")), .fail(.retryable("down")), .fail(.retryable("down")), .deliver])
        let q = queue(sender, office: office)
        for i in 1...6 { q.collect(event("e\(i)", Int64(i))) }
        q.close()
        try await eventually("the queue finished") { q.isFinished }
        // e3 succeeds on its second attempt; e4 fails all three; e5 and e6 take the script's last outcome.
        #expect(sender.delivered == ["e1", "e3", "e5", "e6"])
        #expect(letters(office).map { "\($0.event.id) \($0.reason)" } == ["e2 refused", "e4 retries-exhausted"])
        #expect(q.stats.sent + letters(office).count == 6)
        #expect(q.stats.deadLettered == 2)
        #expect(office.summary == "2 dead letters (1 refused, 1 retries-exhausted)")
    }

    @Test("the office keeps at most its limit, removing the oldest, counting them; IDs keep increasing")
    func bounded() {
        let logs = LogLines()
        let office = DeadLetterOffice(limit: 3, logger: logs.logger)
        for i in 1...5 {
            office.record(DeadLetter(time: 1, handler: "h", origin: origin, event: event("e\(i)"), reason: .refused, detail: "", attempts: 1))
        }
        #expect(letters(office).map(\.id) == [3, 4, 5])
        #expect(letters(office).map(\.event.id) == ["e3", "e4", "e5"])
        #expect(office.counts.pruned == 2)
        #expect(office.counts.total == 5)
        #expect(logs.all.last == "dead letters: over dead-letter-max (3), removed the oldest 1")
    }

    @Test("filters select by ID, task glob, kind and reason; removal answers what it removed")
    func filters() throws {
        let office = DeadLetterOffice()
        var other = origin
        other.task = "mem_alert"
        other.kind = "slack"
        office.record(DeadLetter(time: 1, handler: "h", origin: origin, event: event("a"), reason: .refused, detail: "", attempts: 1))
        office.record(DeadLetter(time: 1, handler: "h", origin: other, event: event("b"), reason: .queueFull, detail: "", attempts: 0))
        office.record(DeadLetter(time: 1, handler: "h", origin: origin, event: event("c"), reason: .stopped, detail: "", attempts: 0))
        #expect(try office.letters(matching: DeadLetterFilter(task: "cpu*")).map(\.event.id) == ["a", "c"])
        #expect(try office.letters(matching: DeadLetterFilter(kind: "slack")).map(\.event.id) == ["b"])
        #expect(try office.letters(matching: DeadLetterFilter(reason: .stopped)).map(\.event.id) == ["c"])
        #expect(try office.letters(matching: DeadLetterFilter(ids: [1, 2])).map(\.event.id) == ["a", "b"])
        #expect(try office.remove(matching: DeadLetterFilter(task: "cpu_alert")) == [1, 3])
        #expect(letters(office).map(\.event.id) == ["b"])
    }

    @Test("replay rebuilds a gone handler from its kind and options and removes the letter; an unbuildable one stays, saying why")
    func replay() async throws {
        let listener = try LineListener()
        defer { listener.stop() }
        let service = try AlertingService(delivery: fast, kinds: [TCPService.self, LogService.self])
        var tcp = origin
        tcp.options = ["address": .string("127.0.0.1:\(listener.port)")]
        let kept = try #require(service.deadLetters.record(
            DeadLetter(time: 1, handler: "tcp", origin: tcp, event: event("replayed", 3), reason: .retriesExhausted, detail: "down", attempts: 3)))
        let outcome = try service.replay(kept)
        #expect(outcome.running == false)
        #expect(outcome.handler == "tcp 127.0.0.1:\(listener.port)")
        try await eventually("the receiver got the event") { listener.lines.count == 1 }
        #expect(listener.lines.first?.contains("\"id\":\"replayed\"") == true)
        #expect(letters(service.deadLetters).isEmpty)

        var gone = origin
        gone.kind = "slack"
        let stuck = try #require(service.deadLetters.record(
            DeadLetter(time: 1, handler: "slack", origin: gone, event: event("x"), reason: .refused, detail: "", attempts: 1)))
        #expect(throws: ReplayRefusal.self) { try service.replay(stuck) }
        do { _ = try service.replay(stuck) } catch {
            #expect(String(describing: error).hasPrefix("dead letter 2: its handler (slack, kind slack) no longer runs and cannot be built again: alert .slack() (handler kind slack) is not built yet in Tock"))
        }
        #expect(letters(service.deadLetters).map(\.id) == [2])
    }

    @Test("replay goes through the running handler's own queue when its node still runs")
    func replayRunning() async throws {
        let listener = try LineListener()
        defer { listener.stop() }
        let service = try AlertingService(delivery: fast, kinds: [TCPService.self])
        let context = AlertNodeContext(taskID: "cpu_alert", nodeID: "alert2", topic: nil, logger: LogLines().logger)
        let options: [String: HandlerOption] = ["address": .string("127.0.0.1:\(listener.port)")]
        let sink = try service.open(context, handlers: [AlertHandlerSpec(kind: "tcp", options: options)])
        let origin = DeliveryOrigin(task: "cpu_alert", node: "alert2", topic: "main:cpu_alert:alert2", kind: "tcp", options: options)
        let kept = try #require(service.deadLetters.record(
            DeadLetter(time: 1, handler: "tcp", origin: origin, event: event("again"), reason: .queueFull, detail: "", attempts: 0)))
        #expect(try service.replay(kept).running == true)
        try await eventually("the receiver got it") { listener.lines.count == 1 }
        sink.close()
    }

    @Test("settle waits for closed queues to deliver, then stops the rest: what is left becomes dead letters")
    func settle() async throws {
        let service = try AlertingService(delivery: fast, kinds: [TCPService.self])
        let context = AlertNodeContext(taskID: "cpu_alert", nodeID: "alert2", topic: nil, logger: LogLines().logger)
        // Nothing listens on this port: every attempt is refused and retried with a long backoff.
        let port = try Loopback.freePort()
        var slow = fast
        slow.retryInitialBackoff = .seconds(3600)
        slow.retryMaxBackoff = .seconds(3600)
        slow.retryMaxAttempts = 5
        let waiting = try AlertingService(delivery: slow, kinds: [TCPService.self])
        let sink = try waiting.open(context, handlers: [AlertHandlerSpec(kind: "tcp", options: ["address": .string("127.0.0.1:\(port)")])])
        sink.collect(event("a"), inhibited: false)
        sink.collect(event("b"), inhibited: false)
        sink.close()
        let started = ContinuousClock.now
        #expect(waiting.settle(within: .milliseconds(300)) == false)
        #expect(ContinuousClock.now - started < .seconds(5))
        try await eventually("both given up") { letters(waiting.deadLetters).count == 2 }
        #expect(Set(letters(waiting.deadLetters).map(\.reason)) == [.stopped])
        #expect(service.settle(within: .milliseconds(100)) == true, "no queue: settled at once")
    }
}
