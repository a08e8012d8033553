@testable import Engine
import Testing
import TockModel

@Suite("InfluxQL aggregates on batches")
struct TransformAggregateTests {
    func reduce(_ name: String, _ values: [FieldValue], args: [Value] = [], props: [(String, [Value])] = []) throws -> [Point] {
        let node = try makeNode(name, [.string("value")] + args, properties: props, input: .batch)
        return try drive(node, [.batch(valueBatch(values))]).points
    }

    func single(_ name: String, _ values: [FieldValue], args: [Value] = []) throws -> FieldValue? {
        let points = try reduce(name, values, args: args)
        #expect(points.count == 1)
        return points.first?.fields[name]
    }

    @Test("mean of 1, 2, 3, 4 is 2.5, at the batch's tmax")
    func mean() throws {
        let points = try reduce("mean", [.double(1), .double(2), .double(3), .double(4)])
        #expect(points.count == 1)
        #expect(points[0].fields == ["mean": .double(2.5)])
        #expect(points[0].time == sec(10))
        #expect(points[0].name == "cpu")
    }

    @Test("mean of integers is a float")
    func meanOfIntegers() throws {
        #expect(try single("mean", [.int(1), .int(2)]) == .double(1.5))
    }

    @Test("count is an integer, and 0 for an empty batch")
    func count() throws {
        #expect(try single("count", [.double(5), .double(6), .double(7)]) == .int(3))
        #expect(try single("count", []) == .int(0))
    }

    @Test("sum keeps the field type; an empty batch sums to 0.0")
    func sum() throws {
        #expect(try single("sum", [.int(2), .int(5)]) == .int(7))
        #expect(try single("sum", [.double(1.5), .double(2)]) == .double(3.5))
        #expect(try single("sum", []) == .double(0))
    }

    @Test("mean of an empty batch emits nothing")
    func emptyMean() throws {
        #expect(try reduce("mean", []).isEmpty)
    }

    @Test("median averages the two middle values of an even count")
    func median() throws {
        #expect(try single("median", [.double(4), .double(1), .double(3), .double(2)]) == .double(2.5))
        #expect(try single("median", [.int(5), .int(1), .int(3)]) == .double(3))
    }

    @Test("mode is the most frequent value, the smallest on ties")
    func mode() throws {
        #expect(try single("mode", [.int(3), .int(1), .int(3), .int(1), .int(2)]) == .int(1))
        #expect(try single("mode", [.double(2), .double(7), .double(7)]) == .double(7))
    }

    @Test("spread is max minus min")
    func spread() throws {
        #expect(try single("spread", [.double(3), .double(10), .double(-2)]) == .double(12))
        #expect(try single("spread", [.int(3), .int(10)]) == .int(7))
    }

    @Test("stddev is the sample standard deviation")
    func stddev() throws {
        // 2, 4, 4, 4, 5, 5, 7, 9: mean 5, squared deviations sum 32, 32/7.
        let v = try single("stddev", [2, 4, 4, 4, 5, 5, 7, 9].map { .double($0) })
        #expect(v == .double((32.0 / 7).squareRoot()))
    }

    @Test("a function that does not apply to the field type emits nothing and logs")
    func wrongType() throws {
        let node = try makeNode("mean", [.string("value")], input: .batch)
        let out = try drive(node, [.batch(valueBatch([.string("a")]))])
        #expect(out.messages.isEmpty)
        #expect(out.logs.contains { $0.1.contains("cannot apply mean to string field") })
    }

    @Test(".as renames the result")
    func asName() throws {
        let points = try reduce("mean", [.double(1), .double(3)], props: [("as", [.string("avg")])])
        #expect(points[0].fields == ["avg": .double(2)])
    }

    @Test("the result carries the batch's group tags and dimensions")
    func groupTags() throws {
        let node = try makeNode("sum", [.string("value")], input: .batch)
        let b = valueBatch([.int(1), .int(2)], tags: ["host": "a"], groupBy: ["host"])
        let p = try drive(node, [.batch(b)]).points[0]
        #expect(p.tags == ["host": "a"])
        #expect(p.group == GroupID("host=a"))
        #expect(p.dimensions.tagNames == ["host"])
    }
}

@Suite("InfluxQL aggregates on streams")
struct TransformStreamReduceTests {
    @Test("points sharing a timestamp are reduced together, emitted when a later time arrives")
    func sameTimestamp() throws {
        let node = try makeNode("sum", [.string("value")])
        let out = try drive(node, [
            .point(pt(sec(1), ["value": .int(1)])),
            .point(pt(sec(1), ["value": .int(2)])),
            .point(pt(sec(2), ["value": .int(10)])),
        ])
        #expect(out.points.count == 1)
        #expect(out.points[0].fields == ["sum": .int(3)])
        #expect(out.points[0].time == sec(1))
    }

    @Test("groups are reduced separately")
    func groups() throws {
        let node = try makeNode("count", [.string("value")])
        let a: Tags = ["host": "a"], b: Tags = ["host": "b"]
        let out = try drive(node, [
            .point(pt(sec(1), ["value": .int(1)], tags: a, groupBy: ["host"])),
            .point(pt(sec(1), ["value": .int(1)], tags: b, groupBy: ["host"])),
            .point(pt(sec(1), ["value": .int(1)], tags: b, groupBy: ["host"])),
            .point(pt(sec(2), ["value": .int(1)], tags: a, groupBy: ["host"])),
            .point(pt(sec(2), ["value": .int(1)], tags: b, groupBy: ["host"])),
        ])
        #expect(out.points.map(\.tags) == [a, b])
        #expect(out.points.map { $0.fields["count"] } == [.int(1), .int(2)])
    }

    @Test("a point without the field is an error")
    func missingField() throws {
        let node = try makeNode("mean", [.string("value")])
        #expect(throws: TransformError.self) {
            try drive(node, [.point(pt(sec(1), ["other": .double(1)]))])
        }
    }
}
