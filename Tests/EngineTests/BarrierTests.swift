import Foundation
import Testing
import TICKScript
import TockModel
@testable import Engine

/// `barrier()` as Kapacitor's barrier.go (v1.8): idle barriers at the last point's time + idle, periodic barriers at
/// the wall-clock time, late points dropped, `.delete(TRUE)` deleting the group after its barrier.
@Suite("barrier")
struct BarrierTests {
    let clock = ManualClock()
    static let wall: Int64 = 1_700_000_000 * GoDuration.second

    func barrierNode(_ properties: [(String, [Value])]) throws -> BarrierNode {
        let clock = self.clock
        return try BarrierNode(flowConfiguration("barrier", properties: properties),
                               monotonicNow: { clock.value }, wallNow: { Self.wall }, armsTimer: false)
    }

    @Test("idle: once a group is idle that long, a barrier at its last point's time + idle, then one every idle")
    func idle() throws {
        let node = try barrierNode([("idle", [.duration(5 * second)])])
        let out = SignalRecordingOutput()
        try node.receive(.point(hostPoint("a", at: 10)), port: 0, output: out)
        try node.receive(.point(hostPoint("a", at: 11)), port: 0, output: out)
        clock.advance(4 * second)
        node.fire(output: out)
        #expect(out.barriers.isEmpty)
        clock.advance(1 * second)
        node.fire(output: out)
        #expect(out.barriers.map(\.time) == [16 * second])
        #expect(out.barriers.first?.group == hostGroup("a"))
        #expect(out.barriers.first?.tags == ["host": "a"])
        clock.advance(5 * second)
        node.fire(output: out)
        #expect(out.barriers.map(\.time) == [16 * second, 21 * second])
        #expect(out.points.count == 2)
    }

    @Test("a point older than its group's last barrier is dropped; one at the barrier's time passes")
    func latePointsDropped() throws {
        let node = try barrierNode([("idle", [.duration(5 * second)])])
        let out = SignalRecordingOutput()
        try node.receive(.point(hostPoint("a", at: 11)), port: 0, output: out)
        clock.advance(5 * second)
        node.fire(output: out)
        try node.receive(.point(hostPoint("a", at: 15)), port: 0, output: out)
        try node.receive(.point(hostPoint("a", at: 16)), port: 0, output: out)
        try node.receive(.point(hostPoint("b", at: 1)), port: 0, output: out)
        #expect(out.points.map(\.time) == [11, 16, 1].map { $0 * second })
    }

    @Test("each group has its own idle timer, reset by its own points")
    func perGroup() throws {
        let node = try barrierNode([("idle", [.duration(5 * second)])])
        let out = SignalRecordingOutput()
        try node.receive(.point(hostPoint("a", at: 10)), port: 0, output: out)
        clock.advance(3 * second)
        try node.receive(.point(hostPoint("b", at: 20)), port: 0, output: out)
        clock.advance(2 * second)
        node.fire(output: out)
        #expect(out.barriers.map(\.group) == [hostGroup("a")])
        #expect(out.barriers.map(\.time) == [15 * second])
        try node.receive(.point(hostPoint("a", at: 16)), port: 0, output: out)
        clock.advance(3 * second)
        node.fire(output: out)
        #expect(out.barriers.map(\.group) == [hostGroup("a"), hostGroup("b")])
        #expect(out.barriers.map(\.time) == [15 * second, 25 * second])
    }

    @Test("period: every period from the group's first point, a barrier at the wall-clock time")
    func period() throws {
        let node = try barrierNode([("period", [.duration(10 * second)])])
        let out = SignalRecordingOutput()
        try node.receive(.point(hostPoint("a", at: 1)), port: 0, output: out)
        clock.advance(9 * second)
        try node.receive(.point(hostPoint("a", at: 2)), port: 0, output: out)
        node.fire(output: out)
        #expect(out.barriers.isEmpty)
        clock.advance(1 * second)
        node.fire(output: out)
        #expect(out.barriers.map(\.time) == [Self.wall])
        // Points are not newer than the wall-clock barrier: dropped.
        try node.receive(.point(hostPoint("a", at: 3)), port: 0, output: out)
        #expect(out.points.count == 2)
        clock.advance(10 * second)
        node.fire(output: out)
        #expect(out.barriers.count == 2)
    }

    @Test("delete(TRUE): after its barrier the group is deleted here and downstream, and its next point starts it again")
    func delete() throws {
        let node = try barrierNode([("idle", [.duration(5 * second)]), ("delete", [.bool(true)])])
        let out = SignalRecordingOutput()
        try node.receive(.point(hostPoint("a", at: 10)), port: 0, output: out)
        clock.advance(5 * second)
        node.fire(output: out)
        #expect(out.emitted == [
            .message(.point(hostPoint("a", at: 10))),
            .barrier(Barrier(group: hostGroup("a"), tags: ["host": "a"], dimensions: Dimensions(tagNames: ["host"]), time: 15 * second)),
            .deleteGroup(hostGroup("a")),
        ])
        #expect(node.cardinality == 0)
        clock.advance(20 * second)
        node.fire(output: out)
        #expect(out.barriers.count == 1)
        // The group is new again: an older point passes.
        try node.receive(.point(hostPoint("a", at: 12)), port: 0, output: out)
        #expect(out.points.map(\.time) == [10 * second, 12 * second])
    }

    @Test("a barrier from upstream passes unless older than the last one, and restarts the idle count from its time")
    func upstreamBarrier() throws {
        let node = try barrierNode([("idle", [.duration(5 * second)])])
        let out = SignalRecordingOutput()
        try node.receive(.point(hostPoint("a", at: 10)), port: 0, output: out)
        let up = Barrier(group: hostGroup("a"), tags: ["host": "a"], dimensions: Dimensions(tagNames: ["host"]), time: 30 * second)
        try node.barrier(up, port: 0, output: out)
        var older = up
        older.time = 29 * second
        try node.barrier(older, port: 0, output: out)
        clock.advance(5 * second)
        node.fire(output: out)
        #expect(out.barriers.map(\.time) == [30 * second, 35 * second])
    }

    @Test("in a batch, the points older than the last barrier are removed")
    func batchPoints() throws {
        let node = try barrierNode([("idle", [.duration(5 * second)])])
        let out = SignalRecordingOutput()
        try node.receive(.point(hostPoint("a", at: 10)), port: 0, output: out)
        clock.advance(5 * second)
        node.fire(output: out)
        let batch = Batch(name: "cpu", group: hostGroup("a"), tags: ["host": "a"], dimensions: Dimensions(tagNames: ["host"]),
                          tmax: 20 * second, points: [14, 15, 16].map { BatchPoint(time: $0 * second, fields: ["v": .double(1)]) })
        try node.receive(.batch(batch), port: 0, output: out)
        #expect(out.batches.first?.points.map(\.time) == [15 * second, 16 * second])
    }

    @Test("properties are checked in pipeline/barrier.go's order and words", arguments: [
        (".idle(1s).period(1s)", "cannot specify both idle and period"),
        ("", "idle must be greater than zero"),
        (".idle(0s)", "idle must be greater than zero"),
        (".idle(-1s)", "idle must be greater than zero"),
        (".period(-1s)", "period must be greater than zero"),
    ])
    func configurationErrors(properties: String, message: String) throws {
        let error = buildError("stream\n    |from()\n    |barrier()\(properties)")
        #expect(error?.message == "barrier2: \(message)")
        #expect(error?.position.line == 3)
        #expect(error?.position.column == 5)
    }

    @Test("a window by time closes on a barrier as on a point at its time, and keeps the barrier")
    func windowClosesOnBarrier() throws {
        let window = try #require(NodeRegistry.all["window"]).make(flowConfiguration(
            "window", properties: [("period", [.duration(10 * second)]), ("every", [.duration(10 * second)])]))
        let out = SignalRecordingOutput()
        for t: Int64 in [0, 1, 2] { try window.receive(.point(hostPoint("a", at: t)), port: 0, output: out) }
        func barrier(_ t: Int64) -> Barrier {
            Barrier(group: hostGroup("a"), tags: ["host": "a"], dimensions: Dimensions(tagNames: ["host"]), time: t * second)
        }
        try window.barrier(barrier(9), port: 0, output: out)
        #expect(out.emitted.isEmpty)
        try window.barrier(barrier(12), port: 0, output: out)
        #expect(out.batches.map(\.tmax) == [10 * second])
        #expect(out.batches.first?.points.map(\.time) == [0, 1, 2].map { $0 * second })
        #expect(out.barriers.isEmpty)
        // The next window ends at the barrier's time + every.
        try window.receive(.point(hostPoint("a", at: 13)), port: 0, output: out)
        try window.barrier(barrier(22), port: 0, output: out)
        #expect(out.batches.map(\.tmax) == [10 * second, 22 * second])
        #expect(out.batches.last?.points.map(\.time) == [13 * second])
    }

    @Test("a window forgets a deleted group's points and hands the deletion on")
    func windowDeleteGroup() throws {
        let window = try #require(NodeRegistry.all["window"]).make(flowConfiguration(
            "window", properties: [("period", [.duration(10 * second)]), ("every", [.duration(10 * second)])]))
        let out = SignalRecordingOutput()
        try window.receive(.point(hostPoint("a", at: 1)), port: 0, output: out)
        try window.deleteGroup(hostGroup("a"), port: 0, output: out)
        try window.receive(.point(hostPoint("a", at: 30)), port: 0, output: out)
        try window.receive(.point(hostPoint("a", at: 41)), port: 0, output: out)
        #expect(out.deletions == [hostGroup("a")])
        #expect(out.batches.map(\.tmax) == [40 * second])
        #expect(out.batches.first?.points.map(\.time) == [30 * second])
    }

    @Test("a join moves a parent past a barrier's time: an outer join's incomplete set goes out, and the barrier goes on")
    func joinBarrier() throws {
        let join = try makeNode("join", properties: [("as", [.string("l"), .string("r")]), ("fill", [.string("null")])],
                                inputCount: 2)
        let out = SignalRecordingOutput()
        let p = Point(name: "cpu", fields: ["v": .double(1)], time: 1 * second)
        try join.receive(.point(p), port: 0, output: out)
        try join.barrier(Barrier(group: .none, time: 2 * second), port: 1, output: out)
        #expect(out.points.isEmpty)
        try join.barrier(Barrier(group: .none, time: 2 * second), port: 0, output: out)
        // Tock's fields hold no null: the null-filled "r.v" is left out.
        #expect(out.points.map(\.fields) == [["l.v": .double(1)]])
        #expect(out.points.map(\.time) == [1 * second])
        #expect(out.barriers.count == 2)
    }

    @Test("join accepts .deleteAll(TRUE), and a group deletion stops at the join as in Kapacitor")
    func joinDeleteAll() throws {
        #expect(buildError("""
            var a = stream|from().measurement('a')
            var b = stream|from().measurement('b')
            a|join(b).as('a', 'b').deleteAll(TRUE)
            """) == nil)
        let join = try makeNode("join", properties: [("as", [.string("l"), .string("r")]), ("deleteAll", [.bool(true)])],
                                inputCount: 2)
        let out = SignalRecordingOutput()
        try join.deleteGroup(hostGroup("a"), port: 0, output: out)
        #expect(out.emitted.isEmpty)
    }
}

/// Barriers driven by the real timer through a running task.
@Suite("barrier in a running task")
struct BarrierTaskTests {
    @Test("an idle barrier closes a window with no further data")
    func idleClosesWindow() throws {
        let c = Collector()
        let runner = try TaskRunner(script: """
            stream|from().measurement('cpu').groupBy('host')
                |barrier().idle(100ms)
                |window().period(1s).every(1s)
            """, options: .init(taskID: "t"), handlers: c.handlers)
        try runner.start()
        runner.write([hostPoint("a", at: 0), Point(name: "cpu", tags: ["host": "a"], fields: ["v": .double(2)], time: 900 * GoDuration.millisecond)])
        // One idle barrier at 0.9s + 100ms = 1s closes [0s, 1s).
        let deadline = Date().addingTimeInterval(10)
        while c.batches.isEmpty && Date() < deadline { Thread.sleep(forTimeInterval: 0.05) }
        try runner.stop()
        #expect(c.batches.map(\.tmax) == [1 * second])
        #expect(c.batches.first?.points.count == 2)
    }

    @Test("delete(TRUE) restarts a stateCount downstream")
    func deleteRestartsState() throws {
        let c = Collector()
        let runner = try TaskRunner(script: """
            stream|from().measurement('cpu').groupBy('host')
                |barrier().idle(100ms).delete(TRUE)
                |stateCount(lambda: "v" > 0)
            """, options: .init(taskID: "t"), handlers: c.handlers)
        try runner.start()
        runner.write([hostPoint("a", at: 1), hostPoint("a", at: 2)])
        let deadline = Date().addingTimeInterval(10)
        while c.points.count < 2 && Date() < deadline { Thread.sleep(forTimeInterval: 0.02) }
        Thread.sleep(forTimeInterval: 0.5)
        runner.write([hostPoint("a", at: 3)])
        try runner.stop()
        #expect(c.points.map { $0.fields["state_count"] } == [.int(1), .int(2), .int(1)])
    }
}
