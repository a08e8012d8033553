@testable import Engine
import Testing
import TockModel

@Suite("join")
struct TransformJoinTests {
    func join(_ props: [(String, [Value])], input: EdgeType = .stream) throws -> any Node {
        try makeNode("join", [], properties: [("as", [.string("errors"), .string("requests")])] + props, input: input)
    }

    @Test("points of both parents at the same time join, fields prefixed, named after the left parent")
    func basic() throws {
        let node = try join([])
        let out = try drive(node, [
            .point(pt(sec(1), ["value": .int(3)], name: "errors")),
            .point(pt(sec(1), ["value": .int(100)], name: "requests")),
        ], ports: [0, 1])
        #expect(out.points.count == 1)
        let p = out.points[0]
        #expect(p.name == "errors")
        #expect(p.fields == ["errors.value": .int(3), "requests.value": .int(100)])
        #expect(p.time == sec(1))
    }

    @Test("tolerance rounds times: 1.2s and 0.9s join at 1s; streamName and delimiter apply")
    func tolerance() throws {
        let node = try join([("tolerance", [.duration(sec(1))]), ("streamName", [.string("rate")]), ("delimiter", [.string("_")])])
        let out = try drive(node, [
            .point(pt(1_200_000_000, ["v": .double(1)], name: "errors")),
            .point(pt(900_000_000, ["v": .double(2)], name: "requests")),
        ], ports: [0, 1])
        #expect(out.points.map(\.time) == [sec(1)])
        #expect(out.points[0].name == "rate")
        #expect(out.points[0].fields == ["errors_v": .double(1), "requests_v": .double(2)])
    }

    @Test("inner join by default: a time only one parent has is dropped")
    func inner() throws {
        let node = try join([])
        let out = try drive(node, [
            .point(pt(sec(1), ["v": .int(1)], name: "errors")),
            .point(pt(sec(2), ["v": .int(2)], name: "errors")),
            .point(pt(sec(2), ["v": .int(20)], name: "requests")),
            .point(pt(sec(3), ["v": .int(30)], name: "requests")),
            .point(pt(sec(3), ["v": .int(3)], name: "errors")),
        ], ports: [0, 0, 1, 1, 0], stop: true)
        #expect(out.points.map(\.time) == [sec(2), sec(3)])
    }

    @Test("fill(0.0) makes an outer join once both parents moved past the time")
    func outer() throws {
        let node = try join([("fill", [.float(0)])])
        let out = try drive(node, [
            .point(pt(sec(1), ["v": .double(1)], name: "errors")),
            .point(pt(sec(2), ["v": .double(20)], name: "requests")),
            .point(pt(sec(2), ["v": .double(2)], name: "errors")),
        ], ports: [0, 1, 0])
        #expect(out.points.count == 2)
        #expect(out.points[0].time == sec(1))
        #expect(out.points[0].fields == ["errors.v": .double(1), "requests.v": .double(0)])
        #expect(out.points[1].fields == ["errors.v": .double(2), "requests.v": .double(20)])
    }

    @Test("groups join separately and keep the group tags only")
    func groups() throws {
        let node = try join([])
        let a: Tags = ["host": "a", "extra": "x"], b: Tags = ["host": "b"]
        let out = try drive(node, [
            .point(pt(sec(1), ["v": .int(1)], name: "errors", tags: a, groupBy: ["host"])),
            .point(pt(sec(1), ["v": .int(2)], name: "errors", tags: b, groupBy: ["host"])),
            .point(pt(sec(1), ["v": .int(20)], name: "requests", tags: b, groupBy: ["host"])),
            .point(pt(sec(1), ["v": .int(10)], name: "requests", tags: a, groupBy: ["host"])),
        ], ports: [0, 0, 1, 1])
        #expect(out.points.map { $0.fields["requests.v"] } == [.int(20), .int(10)])
        #expect(out.points.map(\.tags) == [["host": "b"], ["host": "a"]])
    }

    @Test("on('building') joins one building point with each floor of that building")
    func on() throws {
        let node = try makeNode("join", [], properties: [("as", [.string("building"), .string("floor")]), ("on", [.string("building")])])
        let out = try drive(node, [
            .point(pt(sec(1), ["power": .double(100)], name: "building_power", tags: ["building": "b1"], groupBy: ["building"])),
            .point(pt(sec(1), ["power": .double(30)], name: "floor_power", tags: ["building": "b1", "floor": "1"], groupBy: ["building", "floor"])),
            .point(pt(sec(1), ["power": .double(70)], name: "floor_power", tags: ["building": "b1", "floor": "2"], groupBy: ["building", "floor"])),
            .point(pt(sec(2), ["power": .double(1)], name: "building_power", tags: ["building": "b1"], groupBy: ["building"])),
            .point(pt(sec(2), ["power": .double(1)], name: "floor_power", tags: ["building": "b1", "floor": "1"], groupBy: ["building", "floor"])),
        ], ports: [0, 1, 1, 0, 1])
        let firstSecond = out.points.filter { $0.time == sec(1) }
        #expect(firstSecond.count == 2)
        #expect(firstSecond.map { $0.tags["floor"] } == ["1", "2"])
        #expect(firstSecond.map { $0.fields["floor.power"] } == [.double(30), .double(70)])
        #expect(firstSecond.allSatisfy { $0.fields["building.power"] == .double(100) })
    }

    @Test("batches join point by point on rounded time")
    func batches() throws {
        let node = try join([], input: .batch)
        let left = batch(sec(10), [BatchPoint(time: sec(1), fields: ["v": .int(1)]), BatchPoint(time: sec(2), fields: ["v": .int(2)])], name: "errors")
        let right = batch(sec(10), [BatchPoint(time: sec(2), fields: ["v": .int(20)])], name: "requests")
        let out = try drive(node, [.batch(left), .batch(right)], ports: [0, 1])
        #expect(out.batches.count == 1)
        #expect(out.batches[0].points.map(\.time) == [sec(2)])
        #expect(out.batches[0].points[0].fields == ["errors.v": .int(2), "requests.v": .int(20)])
    }

    @Test("a join whose .as names differ in number from its parents is rejected")
    func countMismatch() {
        let error = #expect(throws: NodeConfigurationError.self) {
            try makeNode("join", [], properties: [("as", [.string("a"), .string("b")])], inputCount: 3)
        }
        #expect(error?.description == "number of prefixes specified by join.as() must match the number of joined streams")
    }

    @Test("join without .as is rejected with Kapacitor's message")
    func needsAs() {
        let error = #expect(throws: NodeConfigurationError.self) { try makeNode("join", []) }
        #expect(error?.description == "a call to join.as() is required to specify the output stream prefixes.")
    }
}

@Suite("union")
struct TransformUnionTests {
    @Test("messages of all parents come out in time order; rename sets the measurement")
    func ordered() throws {
        let node = try makeNode("union", [], properties: [("rename", [.string("all")])], inputCount: 2)
        let out = try drive(node, [
            .point(pt(sec(1), ["v": .int(1)], name: "a")),
            .point(pt(sec(3), ["v": .int(3)], name: "a")),
            .point(pt(sec(2), ["v": .int(2)], name: "b")),
            .point(pt(sec(4), ["v": .int(4)], name: "b")),
        ], ports: [0, 0, 1, 1], stop: true)
        #expect(out.points.map { $0.fields["v"] } == [.int(1), .int(2), .int(3), .int(4)])
        #expect(out.points.allSatisfy { $0.name == "all" })
    }
}
