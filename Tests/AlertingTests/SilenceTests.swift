import Engine
import Foundation
import Synchronization
import Testing
import TockModel
@testable import Alerting

@Suite("Silences: matching alerts are recorded in their topics and delivered to no handler while the silence lasts")
struct SilenceTests {
    static let hour: Int64 = 3_600_000_000_000

    func tagged(_ id: String, host: String) -> AlertEvent {
        var e = event(id)
        e.tags = Tags(["host": host])
        return e
    }

    @Test("a silence covers by topic glob, alert-ID glob and exact tags; empty patterns cover everything")
    func covers() {
        let s = Silence(id: "s", topic: "cpu*", event: "web-?", tags: ["host": "a"], start: 0, end: Self.hour, created: 0)
        #expect(s.covers(tagged("web-1", host: "a"), topic: "cpu_high"))
        #expect(!s.covers(tagged("web-1", host: "b"), topic: "cpu_high"), "the tag differs")
        #expect(!s.covers(tagged("web-10", host: "a"), topic: "cpu_high"), "? is one character")
        #expect(!s.covers(tagged("web-1", host: "a"), topic: "mem"), "another topic")
        let everything = Silence(id: "all", start: 0, end: Self.hour, created: 0)
        #expect(everything.covers(event("x"), topic: "any"))
        #expect(everything.isActive(at: 0) && !everything.isActive(at: Self.hour), "[start, end)")
    }

    @Test("an ended silence is forgotten; a silence ending before it starts, or already ended, is refused")
    func lifetime() throws {
        let now = Mutex<Int64>(10 * Self.hour)
        let silences = Silences(clock: { now.withLock { $0 } })
        #expect(throws: SilenceError.self) { try silences.add(Silence(id: "a", start: 5, end: 5, created: 0)) }
        #expect(throws: SilenceError.self) { try silences.add(Silence(id: "b", start: 0, end: Self.hour, created: 0)) }
        try silences.add(Silence(id: "c", start: 10 * Self.hour, end: 11 * Self.hour, created: 0))
        try silences.add(Silence(id: "d", start: 12 * Self.hour, end: 13 * Self.hour, created: 0))
        #expect(silences.silencing(event("x"), topics: ["t"])?.id == "c", "c is active, d not yet")
        now.withLock { $0 = 12 * Self.hour }
        #expect(silences.list().map(\.id) == ["d"], "c has ended")
        #expect(silences.silencing(event("x"), topics: ["t"])?.id == "d")
        #expect(silences.remove("d") && !silences.remove("d"))
        #expect(silences.silencing(event("x"), topics: ["t"]) == nil)
    }

    @Test("every change is handed to the store with the whole set, in order")
    func persisted() throws {
        let saved = Mutex<[[String]]>([])
        let silences = Silences()
        silences.restore([Silence(id: "old", start: 0, end: Int64.max, created: 0)]) { all in
            saved.withLock { $0.append(all.map(\.id).sorted()) }
        }
        try silences.add(Silence(id: "new", start: 0, end: Int64.max, created: 0))
        silences.remove("old")
        #expect(saved.withLock { $0 } == [["new", "old"], ["new"]])
    }

    @Test("through a sink: a silenced event updates its topic but reaches no handler; others still do")
    func sink() async throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("tock-silence-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let service = try AlertingService(delivery: DeliverySettings(queueSize: 10))
        try service.silences.add(Silence(id: "maint", topic: "cpu", tags: ["host": "a"], start: 0, end: Int64.max, created: 0))
        let logs = LogLines()
        let sink = try service.open(AlertNodeContext(taskID: "t", nodeID: "alert2", topic: "cpu", logger: logs.logger), handlers: [
            AlertHandlerSpec(kind: "log", options: ["path": .string("\(dir)/alerts.log")]),
        ])
        let silenced = tagged("cpu:a", host: "a"), loud = tagged("cpu:b", host: "b")
        sink.collect(silenced, inhibited: false)
        sink.collect(loud, inhibited: false)
        let drained = Mutex(false)
        sink.drain { drained.withLock { $0 = true } }
        try await eventually("drained") { drained.withLock { $0 } }
        #expect(try String(contentsOfFile: "\(dir)/alerts.log", encoding: .utf8) == loud.json + "\n")
        #expect(service.topics.events(of: "cpu")?.map(\.id) == ["cpu:a", "cpu:b"], "both are recorded in the topic")
        sink.close()
    }
}
