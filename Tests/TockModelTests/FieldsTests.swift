import Testing
import TockModel

/// `Fields` keeps its first value inline and the others in an array; these pin that every way of building and
/// changing fields gives the same sorted set, equal and hashing equal whatever the path.
@Suite struct FieldsSpecification {
    static func pairs(_ f: Fields) -> [String] { f.map { "\($0.key)=\($0.value)" } }

    @Test func insertingBeforeTheFirstKeyMovesItsValue() {
        var f: Fields = ["m": .int(2)]
        f["a"] = .double(1)           // before the inline value
        f["z"] = .string("s")
        f["b"] = .bool(true)
        #expect(f.sortedKeys == ["a", "b", "m", "z"])
        #expect(Self.pairs(f) == ["a=double(1.0)", "b=bool(true)", "m=int(2)", "z=string(\"s\")"])
        #expect(f["a"] == .double(1) && f["m"] == .int(2) && f["z"] == .string("s") && f["q"] == nil)
        #expect(f[0].value == .double(1) && f[3].value == .string("s"))
    }

    @Test func removingTheFirstKeyPromotesTheNext() {
        var f: Fields = ["a": .int(1), "b": .int(2), "c": .int(3)]
        f["a"] = nil
        #expect(Self.pairs(f) == ["b=int(2)", "c=int(3)"])
        f["c"] = nil
        #expect(Self.pairs(f) == ["b=int(2)"])
        f["b"] = nil
        #expect(f.isEmpty)
        #expect(f == Fields(), "emptied fields equal new empty fields")
        #expect(f.hashValue == Fields().hashValue)
        f["b"] = nil
        #expect(f.isEmpty)
    }

    @Test func replacingValuesKeepsTheOthers() {
        var f: Fields = ["a": .int(1), "b": .int(2)]
        f["a"] = .uint(7)
        f["b"] = .string("x")
        #expect(Self.pairs(f) == ["a=uint(7)", "b=string(\"x\")"])
    }

    @Test func everyInitializerBuildsTheSameFields() {
        let keys = ["a", "b", "c"]
        let values: [FieldValue] = [.double(1.5), .int(-2), .bool(false)]
        let built = [
            Fields(sortedKeys: keys, values: values),
            Fields(sortedKeys: keys, firstValue: values[0], otherValues: Array(values[1...])),
            Fields(Dictionary(uniqueKeysWithValues: zip(keys, values))),
            Fields([("c", FieldValue.bool(false)), ("a", .double(1.5)), ("b", .int(-2))]),
            ["b": .int(-2), "c": .bool(false), "a": .double(1.5)],
        ]
        for f in built {
            #expect(f == built[0])
            #expect(f.hashValue == built[0].hashValue)
            #expect(Self.pairs(f) == ["a=double(1.5)", "b=int(-2)", "c=bool(false)"])
            #expect(f.dictionary == ["a": .double(1.5), "b": .int(-2), "c": .bool(false)])
        }
        let one = Fields(sortedKeys: ["v"], firstValue: .double(3), otherValues: [])
        #expect(one == Fields(sortedKeys: ["v"], values: [.double(3)]))
        #expect(one.count == 1 && one["v"] == .double(3))
    }

    @Test func fieldsThatDifferAreNotEqual() {
        let a: Fields = ["a": .int(1)]
        #expect(a != ["a": .int(2)])
        #expect(a != ["b": .int(1)])
        #expect(a != ["a": .int(1), "b": .int(1)])
        #expect(Fields() != ["a": .bool(false)], "an empty set is not a set whose value looks like the placeholder")
    }
}
