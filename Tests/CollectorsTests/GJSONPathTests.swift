import Foundation
import Testing
import TockModel
@testable import Collectors

/// GJSON's SYNTAX.md example document, with every path it documents and the value it gives.
@Suite("GJSON paths in json_query: queries, pipes and modifiers, as GJSON's SYNTAX.md documents them")
struct GJSONPathTests {
    static let document = #"""
        {
          "name": {"first": "Tom", "last": "Anderson"},
          "age":37,
          "children": ["Sara","Alex","Jack"],
          "fav.movie": "Deer Hunter",
          "friends": [
            {"first": "Dale", "last": "Murphy", "age": 44, "nets": ["ig", "fb", "tw"]},
            {"first": "Roger", "last": "Craig", "age": 68, "nets": ["fb", "tw"]},
            {"first": "Jane", "last": "Murphy", "age": 47, "nets": ["ig", "tw"]}
          ],
          "vals": [
            { "a": 1, "b": true }, { "a": 2, "b": true }, { "a": 3, "b": false }, { "a": 4, "b": "0" },
            { "a": 5, "b": 0 }, { "a": 6, "b": "1" }, { "a": 7, "b": 1 }, { "a": 8, "b": "true" },
            { "a": 9, "b": false }, { "a": 10, "b": null }, { "a": 11 }
          ],
          "nested": [1,[2],[3,4],[5,[6,7]]],
          "embedded": "{\"up\": 1}",
          "@timestamp": "2026-12-02"
        }
        """#

    static let dale = #"{"first": "Dale", "last": "Murphy", "age": 44, "nets": ["ig", "fb", "tw"]}"#

    /// Each path with the JSON it gives, `nil` for nothing.
    static let cases: [(String, String?)] = [
        ("name.last", #""Anderson""#), ("age", "37"), ("children.1", #""Alex""#), ("friends.1.first", #""Roger""#),
        ("child*.2", #""Jack""#), ("c?ildren.0", #""Sara""#), (#"fav\.movie"#, #""Deer Hunter""#),
        ("friends.#", "3"), ("friends.#.age", "[44,68,47]"),
        (#"friends.#(last=="Murphy").first"#, #""Dale""#),
        (#"friends.#(last=="Murphy")#.first"#, #"["Dale","Jane"]"#),
        ("friends.#(age>45)#.last", #"["Craig","Murphy"]"#),
        (#"friends.#(first%"D*").last"#, #""Murphy""#),
        (#"friends.#(first!%"D*").last"#, #""Craig""#),
        (#"children.#(!%"*a*")"#, #""Alex""#),
        (#"children.#(%"*a*")#"#, #"["Sara","Jack"]"#),
        (#"friends.#(nets.#(=="fb"))#.first"#, #"["Dale","Roger"]"#),
        ("friends.0.first", #""Dale""#), ("friends|0.first", #""Dale""#), ("friends.0|first", #""Dale""#),
        ("friends|0|first", #""Dale""#), ("friends|#", "3"),
        (#"friends.#(last="Murphy")#.first"#, #"["Dale","Jane"]"#),
        (#"friends.#(last="Murphy")#|first"#, nil),
        (#"friends.#(last="Murphy")#.0"#, "[]"),
        (#"friends.#(last="Murphy")#|0"#, dale),
        (#"friends.#(last="Murphy")#.#"#, "[]"),
        (#"friends.#(last="Murphy")#|#"#, "2"),
        ("friends.#(age<=44).first", #""Dale""#), ("friends.#(age!=44)#.first", #"["Roger","Jane"]"#),
        (#"friends.#(last>="Murphy")#.first"#, #"["Dale","Jane"]"#), ("friends.#(age>100).first", nil),
        ("friends.#(nets)#.first", #"["Dale","Roger","Jane"]"#), ("friends.#(zzz)", nil),
        ("vals.#(b==~true)#.a", "[1,2,6,7,8]"), ("vals.#(b==~false)#.a", "[3,4,5,9,10,11]"),
        ("vals.#(b==~null)#.a", "[10,11]"), ("vals.#(b==~*)#.a", "[1,2,3,4,5,6,7,8,9,10]"),
        // The string "true" equals true as text; the number 0 equals it too, as Go's ParseFloat("true") fails to 0.
        ("vals.#(b==true)#.a", "[1,2,5,8]"),
        ("children.@reverse", #"["Jack","Alex","Sara"]"#), ("children.@reverse.0", #""Jack""#),
        ("friends.#.first|@reverse", #"["Jane","Roger","Dale"]"#),
        ("nested.@flatten", "[1,2,3,4,5,[6,7]]"), (#"nested.@flatten:{"deep":true}"#, "[1,2,3,4,5,6,7]"),
        ("age.@this", "37"), ("name|@valid.first", #""Tom""#), ("embedded.@fromstr.up", "1"),
        ("@timestamp", #""2026-12-02""#), ("friends.9.first", nil),
        // Multipaths and literals (SYNTAX.md's examples).
        (#"{name.first,age,"the_murphys":friends.#(last="Murphy")#.first}"#, #"{"first":"Tom","age":37,"the_murphys":["Dale","Jane"]}"#),
        ("[name.first,age,children.0]", #"["Tom",37,"Sara"]"#),
        (#"{name.first,age,"company":!"Acme"}"#, #"{"first":"Tom","age":37,"company":"Acme"}"#),
        ("!true", "true"), ("!12.5", "12.5"), (#"{"a":!{"b":[1,2]}}.a.b.1"#, "2"),
        ("[name.first,zzz,age]", #"["Tom",37]"#), ("friends.#.{first,age}", #"[{"first":"Dale","age":44},{"first":"Roger","age":68},{"first":"Jane","age":47}]"#),
        ("[children.0,children.1]|@reverse", #"["Alex","Sara"]"#),
    ]

    @Test("every path of GJSON's SYNTAX.md gives its documented value", arguments: cases)
    func path(_ path: String, _ expected: String?) throws {
        let document = try JSONDecoder().decode(JSONValue.self, from: Data(Self.document.utf8))
        let want = try expected.map { try JSONDecoder().decode(JSONValue.self, from: Data($0.utf8)) }
        #expect(GJSONPath.select(path, in: document) == want, "\(path)")
    }

    @Test("paths Tock cannot read are refused with a reason: order-dependent modifiers, a bad literal, an unclosed query or multipath")
    func problems() {
        #expect(GJSONPath.problem("friends.@keys")?.contains("@keys is not supported") == true)
        #expect(GJSONPath.problem("@join") != nil)
        #expect(GJSONPath.problem("[name.first,age]") == nil)
        #expect(GJSONPath.problem("!true") == nil)
        #expect(GJSONPath.problem("!tru")?.contains("not a JSON literal") == true)
        #expect(GJSONPath.problem("[name.first,age")?.contains("unclosed") == true)
        #expect(GJSONPath.problem(#"friends.#(last=="Murphy""#)?.contains("unclosed") == true)
        #expect(GJSONPath.problem(#"friends.#(last=="Murphy")x"#) != nil)
        #expect(GJSONPath.problem(#"friends.#(nets.#(=="fb"))#.first"#) == nil)
        #expect(GJSONPath.problem("hits.@timestamp") == nil, "an @name that is no modifier is a key, as in GJSON")
    }

    @Test("json_query with a query or a modifier picks the objects the json format reads; a refused path fails the configuration")
    func jsonQuery() throws {
        func parse(_ query: String) throws -> [Point] {
            var o = CollectorOptions(collector: "exec", ["data_format": .string("json"), "json_query": .string(query),
                                                         "tag_keys": .strings(["name"])])
            let parser = try DataParser.option(&o)
            try o.finish()
            let text = #"{"sensors": [{"name": "a", "temp": 20}, {"name": "b", "temp": 30}, {"name": "c", "temp": 10}]}"#
            return parser.parse(Array(text.utf8), time: 1, measurement: "exec").points
        }
        #expect(try parse(#"sensors.#(name=="b")"#).map { field($0, "temp") } == [.double(30)])
        #expect(try parse("sensors.#(temp>15)#").map { $0.tags["name"] } == ["a", "b"])
        #expect(try parse("sensors|@reverse").map { $0.tags["name"] } == ["c", "b", "a"])
        #expect {
            var o = CollectorOptions(collector: "exec", ["data_format": .string("json"), "json_query": .string("sensors.@values")])
            _ = try DataParser.option(&o)
        } throws: { ($0 as? CollectorError)?.message.hasPrefix("json_query \"sensors.@values\": the GJSON modifier @values is not supported") == true }
    }
}
