import Foundation
import Testing
import TICKScript
import TockModel
@testable import Engine

/// Kapacitor behaviours that a plausible bug would silently change: each test fails if the property it
/// names is ignored or implemented the simpler, wrong way.
@Suite("Core node semantics")
struct CoreSemanticsTests {
    static let ms: Int64 = 1_000_000

    func at(_ nanoseconds: Int64, _ tags: Tags = [:], v: Int64 = 1) -> Point {
        Point(name: "m", tags: tags, fields: ["v": .int(v)], time: nanoseconds, database: "db", retentionPolicy: "rp")
    }

    /// One source takes points in runs; with two, each point is routed on its own: both paths are checked.
    @Test("from().round() rounds to the nearest multiple (half away from zero), where truncate() floors",
          arguments: ["", "\nstream|from().measurement('other')"])
    func roundIsNotTruncate(_ secondSource: String) throws {
        let times: [Int64] = [1_400, 1_500, 1_600, 2_499].map { $0 * Self.ms }
        let (rounded, _) = try run("stream|from().round(1s)" + secondSource, times.map { at($0) })
        #expect(rounded.points.map(\.time) == [1, 2, 2, 2].map { $0 * second })
        let (truncated, _) = try run("stream|from().truncate(1s)" + secondSource, times.map { at($0) })
        #expect(truncated.points.map(\.time) == [1, 1, 1, 2].map { $0 * second })
    }

    /// One point a second from 0 s to 20 s, through `window` with the given properties; each batch as
    /// (time of the batch, times of its points in seconds).
    func windows(_ properties: String) throws -> [(Int64, [Int64])] {
        let points = (0...20).map { at(Int64($0) * second) }
        let (c, _) = try run("stream|from()|window()\(properties)", points)
        return c.batches.map { b in (b.tmax / second, b.points.map { $0.time / second }) }
    }

    @Test("window by time: without fillPeriod the first window is emitted after `every`, partly empty")
    func timeWindowWithoutFillPeriod() throws {
        let batches = try windows(".period(10s).every(5s)")
        #expect(batches.first.map { $0.0 } == 5)
        #expect(batches.first.map { $0.1 } == [0, 1, 2, 3, 4])
        #expect(batches.dropFirst().first.map { $0.1 } == Array(0...9))
    }

    @Test("window by time: with fillPeriod the first window waits for a whole period")
    func timeWindowFillPeriod() throws {
        let batches = try windows(".period(10s).every(5s).fillPeriod()")
        #expect(batches.first.map { $0.0 } == 10)
        #expect(batches.first.map { $0.1 } == Array(0...9))
        #expect(batches.allSatisfy { $0.1.count == 10 }, "every window is full: \(batches.map { $0.1 })")
    }

    @Test("window by count: without fillPeriod the first window is emitted after everyCount points")
    func countWindowWithoutFillPeriod() throws {
        let batches = try windows(".periodCount(4).everyCount(2)")
        #expect(batches.prefix(3).map { $0.1 } == [[0, 1], [0, 1, 2, 3], [2, 3, 4, 5]])
    }

    @Test("window by count: with fillPeriod the first window waits for periodCount points")
    func countWindowFillPeriod() throws {
        let batches = try windows(".periodCount(4).everyCount(2).fillPeriod()")
        #expect(batches.prefix(3).map { $0.1 } == [[0, 1, 2, 3], [2, 3, 4, 5], [4, 5, 6, 7]])
    }

    @Test("groupBy().exclude() drops the excluded tag from the group, with * and with named tags", arguments: [
        "groupBy(*).exclude('cpu')", "groupBy('host', 'cpu').exclude('cpu')",
    ])
    func groupByExclude(_ groupBy: String) throws {
        let points = [at(1 * second, ["host": "a", "cpu": "0"], v: 1), at(2 * second, ["host": "a", "cpu": "1"], v: 2),
                      at(3 * second, ["host": "b", "cpu": "0"], v: 3)]
        let (c, _) = try run("stream|from()|\(groupBy)|window().period(10s).every(10s)|sum('v')",
                             points + [at(20 * second, ["host": "a", "cpu": "0"]), at(20 * second, ["host": "b", "cpu": "0"])])
        // Windows close per group: each group needs a point past its window.
        let sums = Dictionary(uniqueKeysWithValues: c.points.map { ($0.tags["host"] ?? "?", $0.fields["sum"]) })
        #expect(sums == ["a": .int(3), "b": .int(3)], "cpu 0 and cpu 1 of host a are one group")
        #expect(c.points.allSatisfy { $0.tags["cpu"] == nil })
        #expect(c.points.allSatisfy { $0.dimensions.tagNames == ["host"] })
    }

    @Test("back-pressure: a writer waits while the task's queue is full, and no point is lost")
    func backPressure() throws {
        let gate = Gate()
        let c = Collector()
        let runner = try TaskRunner(script: "stream|from()@gate()", options: .init(taskID: "bp", udfProvider: GateUDFs(gate: gate)),
                                    handlers: c.handlers)
        runner.maxQueuedPoints = 8
        try runner.start()
        let written = Counter()
        let writer = Thread {
            for i in 0..<100 {
                runner.write([at(Int64(i) * second)])
                written.increment()
            }
        }
        writer.start()
        // The node holds the first point; the writer fills the queue and must then wait.
        try waitUntil("the queue is full") { runner.queuedPointCount >= runner.maxQueuedPoints }
        Thread.sleep(forTimeInterval: 0.2)
        #expect(written.value <= runner.maxQueuedPoints + 1, "the writer went on past a full queue: \(written.value) written")
        #expect(runner.queuedPointCount <= runner.maxQueuedPoints)
        gate.open()
        try waitUntil("the writer finished") { written.value == 100 }
        try runner.stop()
        #expect(c.points.count == 100)
        #expect(c.points.map(\.time) == (0..<100).map { Int64($0) * second })
    }

    func waitUntil(_ what: String, seconds: Double = 20, _ condition: () -> Bool) throws {
        let deadline = Date().addingTimeInterval(seconds)
        while !condition() {
            guard Date() < deadline else { throw TestTimeout(what: what) }
            Thread.sleep(forTimeInterval: 0.005)
        }
    }
}

struct TestTimeout: Error, CustomStringConvertible {
    let what: String
    var description: String { "timed out waiting until \(what)" }
}

/// A closed gate that nodes wait at until a test opens it.
final class Gate: @unchecked Sendable {
    private let condition = NSCondition()
    private var isOpen = false
    func open() { condition.withLock { isOpen = true; condition.broadcast() } }
    func pass() {
        condition.withLock {
            let deadline = Date().addingTimeInterval(30)
            while !isOpen && condition.wait(until: deadline) {}
        }
    }
}

final class Counter: @unchecked Sendable {
    private let lock = NSLock()
    private var count = 0
    var value: Int { lock.withLock { count } }
    func increment() { lock.withLock { count += 1 } }
}

/// `@gate()`: passes points on once its gate is open.
struct GateUDFs: UDFProvider {
    let gate: Gate
    func info(for name: String) throws -> UDFInfo? { UDFInfo(wants: .stream, provides: .stream, options: [:]) }
    func makeNode(name: String, taskID: String, nodeID: String, options: [UDFOption]) throws -> any Node { GateNode(gate: gate) }
}

final class GateNode: Node, @unchecked Sendable {
    let gate: Gate
    init(gate: Gate) { self.gate = gate }
    func receive(_ message: Message, port: Int, output: any NodeOutput) throws {
        gate.pass()
        output.emit(message)
    }
}
