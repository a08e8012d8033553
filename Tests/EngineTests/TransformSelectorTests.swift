@testable import Engine
import Testing
import TockModel

@Suite("InfluxQL selectors")
struct TransformSelectorTests {
    /// value 5 @0s host=a, 9 @1s host=b, 1 @2s host=c, 9 @3s host=d, 7 @4s host=a
    let scores: Batch = batch(sec(10), [
        BatchPoint(time: sec(0), fields: ["value": .double(5), "extra": .int(1)], tags: ["host": "a"]),
        BatchPoint(time: sec(1), fields: ["value": .double(9), "extra": .int(2)], tags: ["host": "b"]),
        BatchPoint(time: sec(2), fields: ["value": .double(1), "extra": .int(3)], tags: ["host": "c"]),
        BatchPoint(time: sec(3), fields: ["value": .double(9), "extra": .int(4)], tags: ["host": "d"]),
        BatchPoint(time: sec(4), fields: ["value": .double(7), "extra": .int(5)], tags: ["host": "a"]),
    ])

    func select(_ name: String, _ args: [Value] = [], props: [(String, [Value])] = []) throws -> RecordingOutput {
        let node = try makeNode(name, args, properties: props, input: .batch)
        return try drive(node, [.batch(scores)])
    }

    @Test("max keeps the whole selected point (earliest on ties), at tmax unless usePointTimes")
    func max() throws {
        let p = try select("max", [.string("value")]).points[0]
        #expect(p.fields == ["max": .double(9), "extra": .int(2)])
        #expect(p.tags == ["host": "b"])
        #expect(p.time == sec(10))
        let q = try select("max", [.string("value")], props: [("usePointTimes", [])]).points[0]
        #expect(q.time == sec(1))
    }

    @Test("min, first and last")
    func minFirstLast() throws {
        #expect(try select("min", [.string("value")]).points[0].fields["min"] == .double(1))
        #expect(try select("first", [.string("value")]).points[0].fields["first"] == .double(5))
        let last = try select("last", [.string("value")], props: [("as", [.string("value")])]).points[0]
        #expect(last.fields == ["value": .double(7), "extra": .int(5)])
    }

    @Test("percentile picks the nearest rank: 50th of 5 values is the 3rd smallest")
    func percentile() throws {
        // sorted 1, 5, 7, 9, 9: floor(5·0.5 + 0.5) − 1 = 2 → 7
        #expect(try select("percentile", [.string("value"), .float(50)]).points[0].fields["percentile"] == .double(7))
        // floor(5·0.9 + 0.5) − 1 = 4 → 9
        #expect(try select("percentile", [.string("value"), .int(90)]).points[0].fields["percentile"] == .double(9))
        // floor(5·0.05 + 0.5) − 1 = −1 → nothing
        #expect(try select("percentile", [.string("value"), .float(5)]).points.isEmpty)
    }

    @Test("top(2) picks the two largest, earliest first on ties, in time order, as a batch")
    func top() throws {
        let out = try select("top", [.int(2), .string("value")])
        #expect(out.batches.count == 1)
        let b = out.batches[0]
        #expect(b.points.map { $0.fields["top"] } == [.double(9), .double(9)])
        #expect(b.points.map(\.tags) == [["host": "b"], ["host": "d"]])
        #expect(b.points.map(\.time) == [sec(10), sec(10)])
        #expect(b.tmax == sec(10))
    }

    @Test("top with a tag keeps one point per tag value")
    func topDistinctTag() throws {
        // host a: best 7; b: 9; c: 1; d: 9 → top 3 = b 9 @1s, d 9 @3s, a 7 @4s
        let out = try select("top", [.int(3), .string("value"), .string("host")], props: [("usePointTimes", [])])
        let b = out.batches[0]
        #expect(b.points.map { $0.tags["host"] } == ["b", "d", "a"])
        #expect(b.points.map(\.time) == [sec(1), sec(3), sec(4)])
        #expect(b.tmax == sec(10))
    }

    @Test("bottom(2) picks the two smallest")
    func bottom() throws {
        let b = try select("bottom", [.int(2), .string("value")], props: [("usePointTimes", [])]).batches[0]
        #expect(b.points.map { $0.fields["bottom"] } == [.double(5), .double(1)])
        #expect(b.points.map(\.time) == [sec(0), sec(2)])
    }

    @Test("distinct emits each value once, in order of first appearance")
    func distinct() throws {
        let b = try select("distinct", [.string("value")]).batches[0]
        #expect(b.points.map { $0.fields["distinct"] } == [.double(5), .double(9), .double(1), .double(7)])
    }

    @Test("a selector on a stream reduces points of one timestamp")
    func streamSelector() throws {
        let node = try makeNode("max", [.string("value")])
        let out = try drive(node, [
            .point(pt(sec(1), ["value": .int(3)], tags: ["host": "x"])),
            .point(pt(sec(1), ["value": .int(8)], tags: ["host": "y"])),
            .point(pt(sec(2), ["value": .int(1)])),
        ])
        #expect(out.points.count == 1)
        #expect(out.points[0].fields == ["max": .int(8)])
        #expect(out.points[0].tags == ["host": "y"])
    }
}

@Suite("InfluxQL stream transformations")
struct TransformStreamTransformationTests {
    func feed(_ name: String, _ args: [Value], _ values: [(Int64, FieldValue)]) throws -> [Point] {
        let node = try makeNode(name, args)
        return try drive(node, values.map { .point(pt(sec($0.0), ["value": $0.1], tags: ["host": "a"])) }).points
    }

    @Test("difference emits from the second point, keeping integer type")
    func difference() throws {
        let points = try feed("difference", [.string("value")], [(0, .int(10)), (1, .int(15)), (2, .int(12))])
        #expect(points.map { $0.fields["difference"] } == [.int(5), .int(-3)])
        #expect(points.map(\.time) == [sec(1), sec(2)])
        // Stream transformations keep only the group tags.
        #expect(points[0].tags.isEmpty)
    }

    @Test("cumulativeSum emits a running total per point")
    func cumulativeSum() throws {
        let points = try feed("cumulativeSum", [.string("value")], [(0, .double(1)), (1, .double(2)), (2, .double(3.5))])
        #expect(points.map { $0.fields["cumulativeSum"] } == [.double(1), .double(3), .double(6.5)])
    }

    @Test("movingAverage waits for n points")
    func movingAverage() throws {
        let points = try feed("movingAverage", [.string("value"), .int(2)], [(0, .int(1)), (1, .int(3)), (2, .int(7))])
        #expect(points.map { $0.fields["movingAverage"] } == [.double(2), .double(5)])
        #expect(points.map(\.time) == [sec(1), sec(2)])
    }

    @Test("elapsed counts whole units between points")
    func elapsed() throws {
        let points = try feed("elapsed", [.string("value"), .duration(GoDuration.millisecond)],
                              [(0, .bool(true)), (2, .bool(false)), (5, .bool(true))])
        #expect(points.map { $0.fields["elapsed"] } == [.int(2000), .int(3000)])
    }

    @Test("on a batch, a transformation emits a batch with the same tmax")
    func onBatch() throws {
        let node = try makeNode("difference", [.string("value")], input: .batch)
        let out = try drive(node, [.batch(valueBatch([.double(1), .double(4), .double(9)]))])
        let b = out.batches[0]
        #expect(b.tmax == sec(10))
        #expect(b.points.map { $0.fields["difference"] } == [.double(3), .double(5)])
        #expect(b.points.map(\.time) == [sec(1), sec(2)])
    }
}

@Suite("holtWinters")
struct TransformHoltWintersTests {
    @Test("a linear series forecasts h points one interval apart after the last point")
    func linear() throws {
        let node = try makeNode("holtWinters", [.string("value"), .int(2), .int(0), .duration(sec(1))], input: .batch)
        let values: [FieldValue] = (0..<10).map { .double(Double($0) * 2) }
        let b = try drive(node, [.batch(valueBatch(values, tmax: sec(9)))]).batches[0]
        #expect(b.points.map(\.time) == [sec(10), sec(11)])
        #expect(b.tmax == sec(11))
        // Roughly continues the line 20, 22.
        for (p, expected) in zip(b.points, [20.0, 22.0]) {
            let v = p.fields["holtWinters"]?.numeric ?? .nan
            #expect(abs(v - expected) < 2)
        }
    }

    @Test("holtWintersWithFit also returns the fitted points")
    func withFit() throws {
        let node = try makeNode("holtWintersWithFit", [.string("value"), .int(1), .int(0), .duration(sec(1))], input: .batch)
        let values: [FieldValue] = (0..<5).map { .double(Double($0)) }
        let b = try drive(node, [.batch(valueBatch(values, tmax: sec(4)))]).batches[0]
        #expect(b.points.count == 6)
        #expect(b.points.first?.time == 0)
        #expect(b.points.last?.time == sec(5))
    }
}
