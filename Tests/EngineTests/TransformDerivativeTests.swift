@testable import Engine
import Testing
import TockModel

@Suite("derivative")
struct TransformDerivativeTests {
    @Test("(0s, 10) then (10s, 20) with unit 1s gives 1.0 in the field itself, keeping the point's other fields and tags")
    func basic() throws {
        let node = try makeNode("derivative", [.string("value")])
        let out = try drive(node, [
            .point(pt(sec(0), ["value": .double(10)], tags: ["host": "a"])),
            .point(pt(sec(10), ["value": .double(20), "other": .int(1)], tags: ["host": "a"])),
        ])
        #expect(out.points.count == 1)
        #expect(out.points[0].fields == ["other": .int(1), "value": .double(1)])
        #expect(out.points[0].tags == ["host": "a"])
        #expect(out.points[0].time == sec(10))
    }

    @Test(".unit(1m) and .as: 10 per 10s is 60 per minute; integer fields work")
    func unitAndAs() throws {
        let node = try makeNode("derivative", [.string("value")],
                                properties: [("unit", [.duration(60 * sec(1))]), ("as", [.string("rate")])])
        let out = try drive(node, [.point(pt(sec(0), ["value": .int(0)])), .point(pt(sec(10), ["value": .int(10)]))])
        #expect(out.points[0].fields["rate"] == .double(60))
    }

    @Test(".nonNegative drops decreases, which still become the previous value")
    func nonNegative() throws {
        let node = try makeNode("derivative", [.string("value")], properties: [("nonNegative", [])])
        let out = try drive(node, [
            .point(pt(sec(0), ["value": .double(10)])),
            .point(pt(sec(1), ["value": .double(4)])),
            .point(pt(sec(2), ["value": .double(7)])),
        ])
        #expect(out.points.map { $0.fields["value"] } == [.double(3)])
    }

    @Test("points with no elapsed time are skipped; groups are independent")
    func zeroElapsedAndGroups() throws {
        let node = try makeNode("derivative", [.string("value")])
        let a: Tags = ["host": "a"], b: Tags = ["host": "b"]
        let out = try drive(node, [
            .point(pt(sec(0), ["value": .double(0)], tags: a, groupBy: ["host"])),
            .point(pt(sec(0), ["value": .double(100)], tags: b, groupBy: ["host"])),
            .point(pt(sec(0), ["value": .double(5)], tags: a, groupBy: ["host"])),
            .point(pt(sec(2), ["value": .double(4)], tags: a, groupBy: ["host"])),
            .point(pt(sec(1), ["value": .double(101)], tags: b, groupBy: ["host"])),
        ])
        #expect(out.points.map { $0.fields["value"] } == [.double(2), .double(1)])
        #expect(out.points.map(\.tags) == [a, b])
    }

    @Test("on a batch: per batch, keeping tmax")
    func batchInput() throws {
        let node = try makeNode("derivative", [.string("value")], input: .batch)
        let out = try drive(node, [.batch(valueBatch([.double(1), .double(3), .double(8)]))])
        #expect(out.batches[0].points.map { $0.fields["value"] } == [.double(2), .double(5)])
        #expect(out.batches[0].tmax == sec(10))
    }
}

@Suite("shift, sample, changeDetect")
struct TransformFilterTests {
    @Test("shift moves points and batches, also backwards")
    func shift() throws {
        let node = try makeNode("shift", [.duration(-sec(5))])
        let out = try drive(node, [.point(pt(sec(10), ["v": .int(1)])), .batch(valueBatch([.int(1), .int(2)], tmax: sec(20)))])
        #expect(out.points[0].time == sec(5))
        #expect(out.batches[0].tmax == sec(15))
        #expect(out.batches[0].points.map(\.time) == [-sec(5), -sec(4)])
    }

    @Test("sample(3) keeps the 1st, 4th, 7th point of each group")
    func sampleCount() throws {
        let node = try makeNode("sample", [.int(3)])
        let out = try drive(node, (0..<7).map { .point(pt(sec(Int64($0)), ["v": .int(Int64($0))])) })
        #expect(out.points.map { $0.fields["v"] } == [.int(0), .int(3), .int(6)])
    }

    @Test("sample(10s) keeps points whose time is a multiple of 10s")
    func sampleDuration() throws {
        let node = try makeNode("sample", [.duration(sec(10))])
        let out = try drive(node, [0, 5, 10, 15, 20].map { .point(pt(sec($0), ["v": .int($0)])) })
        #expect(out.points.map(\.time) == [0, sec(10), sec(20)])
    }

    @Test("durations align as Go's do, from year 1: sample(7s) keeps 3s and 10s")
    func goAlignment() throws {
        let node = try makeNode("sample", [.duration(sec(7))])
        let out = try drive(node, (0...10).map { .point(pt(sec(Int64($0)), ["v": .int(Int64($0))])) })
        #expect(out.points.map(\.time) == [sec(3), sec(10)])
        #expect(GoTime.round(sec(5) + 500_000_000, sec(1)) == sec(6))
        #expect(GoTime.round(sec(5) + 499_999_999, sec(1)) == sec(5))
        #expect(GoTime.truncate(-1, sec(1)) == -sec(1))
    }

    @Test("sample(0) is rejected")
    func sampleZero() {
        #expect(throws: NodeConfigurationError.self) { try makeNode("sample", [.int(0)]) }
    }

    @Test("changeDetect passes the first point and each change of the watched field")
    func changeDetect() throws {
        let node = try makeNode("changeDetect", [.string("state")])
        let states = ["up", "up", "down", "down", "up"]
        let out = try drive(node, states.enumerated().map {
            .point(pt(sec(Int64($0.offset)), ["state": .string($0.element), "n": .int(Int64($0.offset))]))
        })
        #expect(out.points.map { $0.fields["n"] } == [.int(0), .int(2), .int(4)])
    }

    @Test("changeDetect treats 1 and 1.0 as different values, as Kapacitor does")
    func changeDetectTypes() throws {
        let node = try makeNode("changeDetect", [.string("v")])
        let out = try drive(node, [.point(pt(0, ["v": .int(1)])), .point(pt(sec(1), ["v": .double(1)]))])
        #expect(out.points.count == 2)
    }
}
