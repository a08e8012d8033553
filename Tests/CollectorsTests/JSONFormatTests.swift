import Foundation
import Testing
import TockModel
@testable import Collectors

@Suite("json data format: Telegraf's json parser for exec and execd")
struct JSONFormatTests {
    func parse(_ text: String, _ options: [String: CollectorOptions.Value] = [:], time: Timestamp = 5) throws -> (points: [Point], errors: [String]) {
        var o = CollectorOptions(collector: "exec", options.merging(["data_format": .string("json")]) { a, _ in a })
        let parser = try DataParser.option(&o)
        try o.finish()
        return parser.parse(Array(text.utf8), time: time, measurement: "exec")
    }

    @Test("Telegraf's README example: numbers are float fields, nested keys joined by _, tag_keys become tags, listed strings stay")
    func readmeExample() throws {
        let text = #"{"a": 5, "b": {"c": 6, "my_field": "description"}, "my_tag_1": "foo", "name": "my_json", "ignored": "text", "ok": true, "gone": null}"#
        let (points, errors) = try parse(text, ["json_name_key": .string("name"), "tag_keys": .strings(["my_tag_1"]),
                                                "json_string_fields": .strings(["b_my_field"])])
        #expect(errors.isEmpty)
        #expect(points.count == 1)
        let p = points[0]
        #expect(p.name == "my_json")
        #expect(p.tags.dictionary == ["my_tag_1": "foo"])
        #expect(p.fields.map(\.key) == ["a", "b_c", "b_my_field"], "strings and booleans not listed are left out, as in Telegraf")
        #expect(field(p, "a") == .double(5))
        #expect(field(p, "b_c") == .double(6))
        #expect(field(p, "b_my_field") == .string("description"))
        #expect(p.time == 5)
    }

    @Test("arrays: a top-level array is one point per object; a nested array's elements are fields by index")
    func arrays() throws {
        let (points, errors) = try parse(#"[{"host": "a", "load": [0.5, 0.25]}, {"host": "b", "load": [1, 2]}]"#, ["tag_keys": .strings(["host"])])
        #expect(errors.isEmpty)
        #expect(points.map { $0.tags["host"] } == ["a", "b"])
        #expect(points.map { $0.name } == ["exec", "exec"])
        #expect(field(points[0], "load_0") == .double(0.5))
        #expect(field(points[1], "load_1") == .double(2))
    }

    @Test("tag_keys and json_string_fields take globs; numbers and booleans as tags are written as Go writes them")
    func globs() throws {
        let (points, _) = try parse(#"{"tag_dc": "par1", "tag_rack": 12, "tag_on": true, "state_a": "up", "ok": false, "v": 1.5e-7}"#,
                                    ["tag_keys": .strings(["tag_*"]), "json_string_fields": .strings(["state_*", "ok"])])
        let p = try #require(points.first)
        #expect(p.tags.dictionary == ["tag_dc": "par1", "tag_rack": "12", "tag_on": "true"])
        #expect(field(p, "state_a") == .string("up"))
        #expect(field(p, "ok") == .bool(false))
        #expect(field(p, "v") == .double(1.5e-7))
    }

    @Test("json_query picks a part of the document with a GJSON path: an object, an array, an element, every element's key")
    func query() throws {
        let doc = #"{"status": {"services": [{"name": "web", "up": 1}, {"name": "db", "up": 0}], "total": {"count": 2}}}"#
        let services = try parse(doc, ["json_query": .string("status.services"), "tag_keys": .strings(["name"])]).points
        #expect(services.map { $0.tags["name"] } == ["web", "db"])
        #expect(services.map { field($0, "up") } == [.double(1), .double(0)])
        let total = try parse(doc, ["json_query": .string("status.total")]).points
        #expect(total.count == 1 && field(total[0], "count") == .double(2))
        let second = try parse(doc, ["json_query": .string("status.services.1")]).points
        #expect(second.count == 1 && field(second[0], "up") == .double(0))
        let value = try JSONDecoder().decode(JSONValue.self, from: Data(doc.utf8))
        #expect(GJSONPath.select("status.services.#.name", in: value) == .array([.string("web"), .string("db")]))
        #expect(GJSONPath.select("status.services.#", in: value) == .number(2))
        #expect(GJSONPath.select("status.nothing", in: value) == nil)
        #expect(GJSONPath.select(#"a\.b"#, in: .object(["a.b": .number(1)])) == .number(1))
        let missing = try parse(doc, ["json_query": .string("status.nothing")])
        #expect(missing.points.isEmpty && missing.errors.count == 1)
    }

    @Test("json_time_key with unix, unix_ms, unix_us, unix_ns, RFC3339 and a Go layout; the key is not a field")
    func times() throws {
        func time(_ value: String, _ format: String, zone: String? = nil) throws -> Timestamp? {
            var options: [String: CollectorOptions.Value] = ["json_time_key": .string("t"), "json_time_format": .string(format)]
            if let zone { options["json_timezone"] = .string(zone) }
            let points = try parse(#"{"t": \#(value), "v": 1}"#, options).points
            #expect(points.first.flatMap { field($0, "t") } == nil)
            return points.first?.time
        }
        #expect(try time("1700000000", "unix") == 1_700_000_000_000_000_000)
        #expect(try time("\"1700000000.5\"", "unix") == 1_700_000_000_500_000_000)
        #expect(try time("1700000000123", "unix_ms") == 1_700_000_000_123_000_000)
        #expect(try time("1700000000123456", "unix_us") == 1_700_000_000_123_456_000)
        #expect(try time("1700000000123456789", "unix_ns").map { abs($0 - 1_700_000_000_123_456_789) < 1_000 } == true)
        #expect(try time("\"2023-11-14T22:13:20Z\"", "RFC3339") == 1_700_000_000_000_000_000)
        #expect(try time("\"2023-11-15T00:13:20.25+02:00\"", "2006-01-02T15:04:05Z07:00") == 1_700_000_000_250_000_000)
        #expect(try time("\"14 Nov 23 22:13 +0000\"", "RFC822Z") == 1_699_999_980_000_000_000)
        #expect(try time("\"Tue Nov 14 22:13:20 2023\"", "Mon Jan _2 15:04:05 2006") == 1_700_000_000_000_000_000)
        #expect(try time("\"2023-11-14 11:13:20 PM\"", "2006-01-02 03:04:05 PM", zone: "Europe/Paris") == 1_700_000_000_000_000_000)
        // A time that does not fit its layout fails that object, with the reason.
        let bad = try parse(#"{"t": "yesterday", "v": 1}"#, ["json_time_key": .string("t"), "json_time_format": .string("RFC3339")])
        #expect(bad.points.isEmpty)
        #expect(bad.errors.first?.contains("cannot parse \"yesterday\"") == true)
        let absent = try parse(#"{"v": 1}"#, ["json_time_key": .string("t"), "json_time_format": .string("unix")])
        #expect(absent.errors == ["JSON time key could not be found"])
    }

    @Test("bad input gives errors, never a crash: broken JSON, a scalar, an array of non-objects (json_strict)")
    func badInput() throws {
        #expect(try parse("{\"a\": ").errors.first?.hasPrefix("unable to parse out as JSON") == true)
        #expect(try parse("42").errors == ["the JSON document is neither an object nor an array of objects"])
        #expect(try parse("").points.isEmpty)
        let mixed = #"[{"a": 1}, 7]"#
        #expect(try parse(mixed).points.isEmpty, "json_strict (the default) drops the whole array")
        let lenient = try parse(mixed, ["json_strict": .bool(false)])
        #expect(lenient.points.count == 1 && lenient.errors.count == 1)
        #expect(try parse(#"{"only": "strings"}"#).points.isEmpty, "an object without numbers makes no point")
    }

    @Test("options: json options need data_format json; a time key needs a format; name_override renames every point")
    func options() throws {
        var influx = CollectorOptions(collector: "exec", ["json_query": .string("a")])
        _ = try DataParser.option(&influx)
        #expect(throws: CollectorError.self) { try influx.finish() }
        #expect(throws: CollectorError("exec", "use of 'json_time_key' requires 'json_time_format'")) { try parse("{}", ["json_time_key": .string("t")]) }
        #expect(throws: CollectorError.self) { try parse("{}", ["json_time_format": .string("yyyy-MM-dd")]) }
        #expect(throws: CollectorError.self) { try parse("{}", ["json_timezone": .string("Mars/Olympus")]) }
        let renamed = try parse(#"{"v": 1}"#, ["name_override": .string("queue")]).points
        #expect(renamed.map(\.name) == ["queue"])
    }

    @Test("exec with data_format json runs a command and reads its JSON")
    func exec() throws {
        var exec = try ExecCollector.make(["commands": .strings([#"printf '{"disk":{"free":12,"used":3},"mount":"/"}'"#]),
                                           "data_format": .string("json"), "tag_keys": .strings(["mount"])])
        let points = try exec.gather(GatherContext(time: 3))
        #expect(points.count == 1)
        #expect(points[0].name == "exec")
        #expect(points[0].tags.dictionary == ["mount": "/"])
        #expect(points[0].fields.map(\.key) == ["disk_free", "disk_used"])
    }
}
