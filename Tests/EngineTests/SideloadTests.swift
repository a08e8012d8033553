import Foundation
import Testing
import TICKScript
import TockModel
@testable import Engine

/// A directory of sideload files, removed when the test is done with it.
final class SideloadDirectory {
    let path: String
    init(_ files: [String: String]) throws {
        path = NSTemporaryDirectory() + "tock-sideload-" + UUID().uuidString
        for (name, text) in files { try write(name, text) }
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }
    func write(_ name: String, _ text: String) throws {
        let file = path + "/" + name
        try FileManager.default.createDirectory(atPath: (file as NSString).deletingLastPathComponent,
                                                withIntermediateDirectories: true)
        try text.write(toFile: file, atomically: true, encoding: .utf8)
    }
    var url: String { "file://" + path }
    deinit { try? FileManager.default.removeItem(atPath: path) }
}

/// `sideload()` as Kapacitor's sideload.go and services/sideload: files looked up in `.order()`, values converted to
/// the default's type, defaults when absent, reload on demand.
@Suite("sideload")
struct SideloadTests {
    static let hosts = [
        "host/h1.yml": "cpu_threshold: 90\nteam: ops\nenabled: 'false'\n",
        "default.yml": "cpu_threshold: 80\nteam: web\nenabled: true\nlabel: 7\n",
        "host/<no value>.yml": "team: tagless\n",
    ]

    func script(_ dir: SideloadDirectory) -> String {
        """
        stream|from().measurement('cpu')
            |sideload()
                .source('\(dir.url)')
                .order('host/{{.host}}.yml', 'default.yml')
                .field('cpu_threshold', 0.0)
                .field('enabled', FALSE)
                .field('missing', 5)
                .tag('team', 'unknown')
                .tag('label', 'none')
        """
    }

    @Test("values come from the first file of the order that has them; defaults fill the rest")
    func lookupInOrder() throws {
        let dir = try SideloadDirectory(Self.hosts)
        let (c, _) = try run(script(dir), [
            Point(name: "cpu", tags: ["host": "h1"], fields: ["v": .double(1)], time: 1, database: "db", retentionPolicy: "rp"),
            Point(name: "cpu", tags: ["host": "h2"], fields: ["v": .double(2)], time: 2, database: "db", retentionPolicy: "rp"),
        ])
        let p = c.points
        #expect(p.count == 2)
        #expect(p.first?.fields == ["cpu_threshold": .double(90), "enabled": .bool(false), "missing": .int(5), "v": .double(1)])
        #expect(p.first?.tags == ["host": "h1", "label": "7", "team": "ops"])
        #expect(p.last?.fields == ["cpu_threshold": .double(80), "enabled": .bool(true), "missing": .int(5), "v": .double(2)])
        #expect(p.last?.tags == ["host": "h2", "label": "7", "team": "web"])
    }

    @Test("a tag missing from the point renders <no value> in the order path, as Go's templates do")
    func missingTag() throws {
        let dir = try SideloadDirectory(Self.hosts)
        let (c, _) = try run(script(dir), [
            Point(name: "cpu", fields: ["v": .double(1)], time: 1, database: "db", retentionPolicy: "rp"),
        ])
        #expect(c.points.first?.tags["team"] == "tagless")
    }

    @Test("JSON files are read like YAML ones; batch points are sideloaded one by one")
    func jsonAndBatches() throws {
        let dir = try SideloadDirectory(["h/a.json": #"{"limit": 3, "owner": "ann"}"#])
        let (c, _) = try run("""
            stream|from().measurement('cpu')|window().period(10s).every(10s)
                |sideload().source('\(dir.url)').order('h/{{.host}}.json').field('limit', 0).tag('owner', '?')
            """, [
                Point(name: "cpu", tags: ["host": "a"], fields: ["v": .double(1)], time: 1 * second, database: "db", retentionPolicy: "rp"),
                Point(name: "cpu", tags: ["host": "b"], fields: ["v": .double(1)], time: 2 * second, database: "db", retentionPolicy: "rp"),
                Point(name: "cpu", tags: ["host": "a"], fields: ["v": .double(1)], time: 11 * second, database: "db", retentionPolicy: "rp"),
            ])
        let points = try #require(c.batches.first).points
        #expect(points.map { $0.fields["limit"] } == [.int(3), .int(0)])
        #expect(points.map { $0.tags["owner"] } == ["ann", "?"])
    }

    @Test("values convert to the default's type as Kapacitor's convertType does", arguments: [
        (SideloadValue.number(98), FieldValue.int(0), FieldValue?.some(.int(98))),
        (.number(1.5), .int(0), nil),
        (.string("42"), .int(0), .int(42)),
        (.string("4x"), .int(0), nil),
        (.number(2), .double(0), .double(2)),
        (.string("1.5"), .double(0), .double(1.5)),
        (.bool(true), .double(0), nil),
        (.bool(true), .bool(false), .bool(true)),
        (.string("T"), .bool(false), .bool(true)),
        (.string("yes"), .bool(false), nil),
        (.number(98), .string(""), .string("98")),
        (.number(0.5), .string(""), .string("0.5")),
        (.number(1e21), .string(""), .string("1000000000000000000000")),
        (.number(1.25e-7), .string(""), .string("0.000000125")),
        (.bool(false), .string(""), .string("false")),
        (.other("[]interface {}"), .string(""), nil),
    ])
    func conversions(value: SideloadValue, fallback: FieldValue, expected: FieldValue?) {
        #expect(SideloadNode.convert(value, like: fallback) == expected)
    }

    @Test("a value that does not convert leaves the default and is logged")
    func wrongType() throws {
        let dir = try SideloadDirectory(["d.yml": "n: [1, 2]\n"])
        let node = try SideloadNode(flowConfiguration("sideload", properties: [
            ("source", [.string(dir.url)]), ("order", [.string("d.yml")]), ("field", [.string("n"), .float(1.5)]),
        ]), sources: SideloadSources())
        let out = SignalRecordingOutput()
        try node.receive(.point(hostPoint("a", at: 1)), port: 0, output: out)
        #expect(out.points.first?.fields["n"] == .double(1.5))
        #expect(out.logs.map(\.1) == ["failed to load key n: expected float64, got []interface {}"])
    }

    @Test("reload reads the files again (the /sideload/reload API); a failed reload keeps the old values")
    func reload() throws {
        let dir = try SideloadDirectory(["d.yml": "n: 1\n"])
        let sources = SideloadSources()
        let node = try SideloadNode(flowConfiguration("sideload", properties: [
            ("source", [.string(dir.url)]), ("order", [.string("d.yml")]), ("field", [.string("n"), .int(0)]),
        ]), sources: sources)
        let out = SignalRecordingOutput()
        try node.receive(.point(hostPoint("a", at: 1)), port: 0, output: out)
        try dir.write("d.yml", "n: 2\n")
        try node.receive(.point(hostPoint("a", at: 2)), port: 0, output: out)
        try sources.reload()
        try node.receive(.point(hostPoint("a", at: 3)), port: 0, output: out)
        try dir.write("d.yml", "n: [2\n")
        let error = #expect(throws: SideloadError.self) { try sources.reload() }
        #expect(error?.message.contains("\(dir.path)/d.yml") == true)
        try node.receive(.point(hostPoint("a", at: 4)), port: 0, output: out)
        #expect(out.points.map { $0.fields["n"] } == [.int(1), .int(1), .int(2), .int(2)])
    }

    @Test("a bad source is refused when the task is defined, naming the directory or file and the line")
    func badSources() throws {
        let broken = try SideloadDirectory(["bad.yml": "a: 1\nb: [1, 2\n", "bad.json": "{\n  \"a\": 1,\n  \"b\": \n}\n"])
        let yamlOnly = try SideloadDirectory(["bad.yml": "a: 1\nb: [1, 2\n"])
        let jsonOnly = try SideloadDirectory(["x/bad.json": "{\n  \"a\": 1,\n  \"b\": \n}\n"])
        let list = try SideloadDirectory(["l.json": "[1, 2]"])
        let cases: [(String, [String])] = [
            ("file:///no/such/tock/dir", ["/no/such/tock/dir", "no such file or directory"]),
            ("file://relative/dir", ["names host \"relative\"", "file:///path/to/dir"]),
            ("file:relative/dir", ["sideload source path must be absolute \"relative/dir\""]),
            ("http://127.0.0.1:1/values", ["http and https sources are not supported by Tock"]),
            (yamlOnly.url, ["\(yamlOnly.path)/bad.yml", "line 3"]),
            (jsonOnly.url, ["\(jsonOnly.path)/x/bad.json", "line 4"]),
            (list.url, ["\(list.path)/l.json", "must hold an object"]),
        ]
        _ = broken
        for (source, words) in cases {
            let error = buildError("stream|from()\n  |sideload().source('\(source)').field('a', 0)")
            let e = try #require(error, "\(source)")
            for w in words { #expect(e.message.contains(w), "\(e.message)") }
            #expect(e.position.line == 2 && e.position.column == 3, "\(e.position)")
        }
        let none = try #require(buildError("stream|from()|sideload().field('a', 0)"))
        #expect(none.message.contains("sideload needs a .source('file:///path/to/dir')"))
    }
}
