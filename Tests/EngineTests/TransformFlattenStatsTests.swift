@testable import Engine
import Testing
import TockModel

@Suite("flatten")
struct TransformFlattenTests {
    @Test("points of one time become one point with fields named by the tag values")
    func stream() throws {
        let node = try makeNode("flatten", [], properties: [("on", [.string("host")])])
        let out = try drive(node, [
            .point(pt(sec(1), ["load": .double(1)], tags: ["host": "a", "dc": "x"], groupBy: ["dc"])),
            .point(pt(sec(1), ["load": .double(2)], tags: ["host": "b", "dc": "x"], groupBy: ["dc"])),
            .point(pt(sec(2), ["load": .double(3)], tags: ["host": "a", "dc": "x"], groupBy: ["dc"])),
        ])
        #expect(out.points.count == 1)
        #expect(out.points[0].fields == ["a.load": .double(1), "b.load": .double(2)])
        #expect(out.points[0].tags == ["dc": "x"])
        #expect(out.points[0].time == sec(1))
    }

    @Test("dropOriginalFieldName names fields by the tag values alone")
    func drop() throws {
        let node = try makeNode("flatten", [], properties: [
            ("on", [.string("host"), .string("cpu")]), ("dropOriginalFieldName", []), ("delimiter", [.string("-")]),
        ], input: .batch)
        let b = batch(sec(5), [
            BatchPoint(time: sec(1), fields: ["v": .int(1)], tags: ["host": "a", "cpu": "0"]),
            BatchPoint(time: sec(1), fields: ["v": .int(2)], tags: ["host": "a", "cpu": "1"]),
            BatchPoint(time: sec(2), fields: ["v": .int(3)], tags: ["host": "a", "cpu": "0"]),
        ])
        let out = try drive(node, [.batch(b)])
        #expect(out.batches[0].points.map(\.fields) == [["a-0": .int(1), "a-1": .int(2)], ["a-0": .int(3)]])
        #expect(out.batches[0].tmax == sec(5))
    }
}

@Suite("stats")
struct TransformStatsTests {
    @Test("counts what the parent emitted per group, as integers in measurement stats")
    func counts() throws {
        let node = try makeNode("stats", [.duration(sec(10))], properties: [("align", [])]) as! StatsNode
        let out = RecordingOutput()
        #expect(node.snapshot(at: sec(10)).map { $0.fields } == [["emitted": .int(0)]])
        for host in ["a", "b", "a"] {
            try node.receive(.point(pt(sec(1), ["v": .int(1)], tags: ["host": host], groupBy: ["host"])), port: 0, output: out)
        }
        let snap = node.snapshot(at: sec(21))
        #expect(snap.map(\.name) == ["stats", "stats"])
        #expect(snap.map { $0.fields["emitted"] } == [.int(2), .int(1)])
        #expect(snap.map(\.tags) == [["host": "a"], ["host": "b"]])
        // .align rounds the wall-clock time to the interval.
        #expect(snap.allSatisfy { $0.time == sec(20) })
    }

    @Test("barrier without idle or period is refused with Kapacitor's (pipeline/barrier.go) message")
    func barrier() {
        let error = buildError("stream|from()|barrier()")
        #expect(error?.message == "barrier2: idle must be greater than zero")
    }
}
