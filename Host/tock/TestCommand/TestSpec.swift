import Engine
import Foundation
import LineProtocol
import TICKScript
import TockModel

/// A value written in a test file's expectations.
enum TestValue: Equatable, CustomStringConvertible {
    case number(Double)
    case string(String)
    case bool(Bool)
    case null
    case list([TestValue])

    var description: String {
        switch self {
        case .number(let d): d == d.rounded() && abs(d) < 1e15 ? String(Int64(d)) : String(d)
        case .string(let s): "\"\(s)\""
        case .bool(let b): String(b)
        case .null: "null"
        case .list(let items): "[" + items.map(\.description).joined(separator: ", ") + "]"
        }
    }
}

/// A `tock test` file: the task under test and its cases.
struct TockTestFile {
    var path: String
    /// The TICKscript's source, and the file it came from (nil when inline).
    var script: String
    var scriptPath: String?
    /// For an inline (block) script, the test file's line just before the script's first line.
    var scriptLineOffset: Int?
    /// From the file's `type`; nil: as the script says.
    var isBatch: Bool?
    /// From the file's `dbrp`; empty: the script's own.
    var dbrps: [DBRP]
    var variables: [String: Value]
    var config: String?
    var cases: [TestCase]

    /// A script error as `FILE:LINE:COLUMN: …` with the offending line: the script's file, or the test file's
    /// line for an inline script.
    func render(_ error: ScriptError) -> String {
        var text = error.rendered(source: script)
        guard let offset = scriptLineOffset else { return "\(scriptPath ?? path):\(text)" }
        if let colon = text.firstIndex(of: ":"), let line = Int(text[..<colon]) {
            text = "\(line + offset)" + text[colon...]
        }
        return "\(path):\(text)"
    }

    var taskID: String {
        let base = URL(fileURLWithPath: scriptPath ?? path).lastPathComponent
        return base.split(separator: ".").first.map(String.init) ?? base
    }
}

struct TestCase {
    var name: String
    var input: TestInput
    var expect: Expectations
    var location: TestLocation
}

/// What a case feeds the task.
enum TestInput {
    /// Line protocol, inline or from a file (plain or gzip), written to `dbrp` (default: the task's first).
    case lineProtocol(text: String?, file: String?, precision: Precision, dbrp: DBRP?)
    /// A Kapacitor recording (`.srpl` or `.brpl`, told by content).
    case recording(path: String)
}

struct Expectations {
    var alerts: [AlertExpectation]?
    var alertCount: Int?
    var outputs: [OutputExpectation] = []
    var httpOut: [(endpoint: String, rows: [ExpectedRow], location: TestLocation)] = []
    var writes: [ExpectedWrite]?
    var tolerance = 1e-9
}

struct AlertExpectation {
    var id: String?
    var level: String?
    var time: Timestamp?
    var message: String?
    var fields: [(String, TestValue)] = []
    var tags: [(String, String)] = []
    var location: TestLocation
}

struct ExpectedRow {
    var name: String?
    var tags: [(String, String)]?
    var columns: [String]
    var values: [[TestValue]]
    var location: TestLocation
}

struct OutputExpectation {
    /// A node's name (`mean2`, as `tock show`/`show-graph` name them); nil: the task's leaves.
    var node: String?
    var rows: [ExpectedRow]
    var location: TestLocation
}

struct ExpectedWrite {
    var database: String?
    var retentionPolicy: String?
    var measurement: String
    var tags: [(String, String)]
    var fields: [(String, TestValue)]
    var time: Timestamp?
    var location: TestLocation
}

// MARK: - Reading a test file

extension TockTestFile {
    static func read(path: String) throws(TestFileError) -> TockTestFile {
        let root = try TestNode.read(path: path)
        var keys = try TestKeys(root, "a test file")
        let dir = (path as NSString).deletingLastPathComponent
        func resolve(_ p: String) -> String { p.hasPrefix("/") || dir.isEmpty ? p : (dir as NSString).appendingPathComponent(p) }

        var script: String, scriptPath: String?, scriptLineOffset: Int?
        switch (keys.optional("script"), keys.optional("tickscript")) {
        case (let file?, nil):
            let p = resolve(try file.string())
            guard let text = try? String(contentsOfFile: p, encoding: .utf8) else {
                throw TestFileError(file.location, "cannot read the TICKscript \(p)")
            }
            (script, scriptPath) = (text, p)
        case (nil, let inline?):
            (script, scriptPath) = (try inline.string(), nil)
            if case .scalar(_, true, let at) = inline, let line = at.line { scriptLineOffset = line }
        case (_?, _?): throw TestFileError(keys.location, "give either \"script\" (a file) or \"tickscript\" (inline), not both")
        case (nil, nil): throw TestFileError(keys.location, "missing \"script\" (the TICKscript file) or \"tickscript\" (inline)")
        }
        var isBatch: Bool?
        if let type = keys.optional("type") {
            switch try type.string() {
            case "stream": isBatch = false
            case "batch": isBatch = true
            case let other: throw TestFileError(type.location, "type must be stream or batch, got \"\(other)\"")
            }
        }
        var dbrps: [DBRP] = []
        if let d = keys.optional("dbrp") ?? keys.optional("dbrps") {
            for item in d.items() {
                guard let dbrp = DBRP(parsing: try item.string()) else {
                    throw TestFileError(item.location, "a dbrp is database.retention_policy, got \"\(try item.string())\"")
                }
                dbrps.append(dbrp)
            }
        }
        var variables: [String: Value] = [:]
        if let vars = keys.optional("vars") {
            for (name, v) in try vars.mapping("vars: name → value") { variables[name] = try variable(v) }
        }
        let config = try keys.optional("config").map { node throws(TestFileError) in resolve(try node.string()) }
        var cases: [TestCase] = []
        let casesNode = try keys.required("cases")
        for (i, c) in casesNode.items().enumerated() { cases.append(try TestCase.read(c, index: i, resolve: resolve)) }
        if cases.isEmpty { throw TestFileError(casesNode.location, "no cases") }
        try keys.finish()
        return TockTestFile(path: path, script: script, scriptPath: scriptPath, scriptLineOffset: scriptLineOffset, isBatch: isBatch, dbrps: dbrps,
                            variables: variables, config: config, cases: cases)
    }

    /// A var: a plain scalar (int, float, bool or string by how it is written) or Kapacitor's `{type, value}`.
    static func variable(_ node: TestNode) throws(TestFileError) -> Value {
        if case .map = node {
            var keys = try TestKeys(node, "a var")
            let typeNode = try keys.required("type"), v = try keys.required("value")
            try keys.finish()
            let type = try typeNode.string()
            switch type {
            case "string": return .string(try v.string())
            case "regex": return .regex(try v.string())
            case "float": return .float(try v.double())
            case "int": return .int(Int64(try v.int()))
            case "bool":
                guard case .bool(let b) = try v.value() else { throw TestFileError(v.location, "expected true or false") }
                return .bool(b)
            case "duration":
                guard let ns = GoDuration.parse(try v.string()) else { throw TestFileError(v.location, "expected a duration such as 5m") }
                return .duration(ns)
            case "star": return .star
            case "lambda":
                let text = try v.string()
                do { return .lambda(try Program.parseLambda(text)) } catch {
                    throw TestFileError(v.location, "not a lambda expression: \(error)")
                }
            default:
                throw TestFileError(typeNode.location, "type must be string, regex, float, int, bool, duration, star or lambda, got \"\(type)\"")
            }
        }
        switch node {
        case .scalar(let s, let quoted, _):
            if !quoted, let i = Int64(s) { return .int(i) }
            if !quoted, let d = Double(s) { return .float(d) }
            if !quoted, s == "true" || s == "false" { return .bool(s == "true") }
            return .string(s)
        case .list(let items, _):
            var values: [Value] = []
            for item in items { values.append(try variable(item)) }
            return .list(values)
        case .map: fatalError("handled above")
        }
    }
}

extension TestCase {
    static func read(_ node: TestNode, index: Int, resolve: (String) -> String) throws(TestFileError) -> TestCase {
        var keys = try TestKeys(node, "a case")
        let name = try keys.optional("name")?.string() ?? "case \(index + 1)"
        let inputNode = try keys.required("input")
        let input = try readInput(inputNode, resolve: resolve)
        let expect = try readExpectations(try keys.required("expect"))
        try keys.finish()
        return TestCase(name: name, input: input, expect: expect, location: node.location)
    }

    static func readInput(_ node: TestNode, resolve: (String) -> String) throws(TestFileError) -> TestInput {
        var keys = try TestKeys(node, "an input (lines, file or recording)")
        let lines = keys.optional("lines"), file = keys.optional("file"), recording = keys.optional("recording")
        var precision = Precision.nanoseconds
        if let p = keys.optional("precision") {
            guard let parsed = Precision(try p.string()) else {
                throw TestFileError(p.location, "precision must be n, u, ms, s, m or h")
            }
            precision = parsed
        }
        var dbrp: DBRP?
        if let d = keys.optional("dbrp") {
            guard let parsed = DBRP(parsing: try d.string()) else { throw TestFileError(d.location, "a dbrp is database.retention_policy") }
            dbrp = parsed
        }
        try keys.finish()
        switch (lines, file, recording) {
        case (let l?, nil, nil): return .lineProtocol(text: try l.string(), file: nil, precision: precision, dbrp: dbrp)
        case (nil, let f?, nil): return .lineProtocol(text: nil, file: resolve(try f.string()), precision: precision, dbrp: dbrp)
        case (nil, nil, let r?): return .recording(path: resolve(try r.string()))
        default: throw TestFileError(node.location, "give exactly one of \"lines\" (inline line protocol), \"file\" (a line-protocol file) or \"recording\" (.srpl/.brpl)")
        }
    }

    static func readExpectations(_ node: TestNode) throws(TestFileError) -> Expectations {
        var keys = try TestKeys(node, "expectations")
        var e = Expectations()
        if let t = keys.optional("tolerance") { e.tolerance = try t.double() }
        if let a = keys.optional("alerts") {
            var alerts: [AlertExpectation] = []
            for item in a.items() { alerts.append(try readAlert(item)) }
            e.alerts = alerts
        }
        if let c = keys.optional("alertCount") ?? keys.optional("alert_count") { e.alertCount = try c.int() }
        if let o = keys.optional("output") {
            for item in o.items() {
                var k = try TestKeys(item, "an output expectation (node, series)")
                let nodeName = try k.optional("node")?.string()
                let rows = try readRows(try k.required("series"))
                try k.finish()
                e.outputs.append(OutputExpectation(node: nodeName, rows: rows, location: item.location))
            }
        }
        if let h = keys.optional("httpOut") {
            for (endpoint, value) in try h.mapping("httpOut: endpoint → series") {
                var rowsNode = value
                if case .map = value {
                    var k = try TestKeys(value, "an httpOut result")
                    rowsNode = try k.required("series")
                    try k.finish()
                }
                e.httpOut.append((endpoint, try readRows(rowsNode), value.location))
            }
        }
        if let w = keys.optional("writes") {
            var writes: [ExpectedWrite] = []
            for item in w.items() { writes.append(try readWrite(item)) }
            e.writes = writes
        }
        try keys.finish()
        return e
    }

    static func time(_ node: TestNode) throws(TestFileError) -> Timestamp {
        let s = try node.string()
        if let t = RFC3339Nano.parse(s) ?? Int64(s) { return t }
        throw TestFileError(node.location, "a time is RFC 3339 (2016-01-01T00:05:00Z) or nanoseconds, got \"\(s)\"")
    }

    static func pairs(_ node: TestNode?) throws(TestFileError) -> [(String, TestValue)] {
        guard let node else { return [] }
        var out: [(String, TestValue)] = []
        for (k, v) in try node.mapping("name → value") { out.append((k, try v.value())) }
        return out
    }

    static func tags(_ node: TestNode?) throws(TestFileError) -> [(String, String)] {
        guard let node else { return [] }
        var out: [(String, String)] = []
        for (k, v) in try node.mapping("tag → value") { out.append((k, try v.string())) }
        return out
    }

    static func readAlert(_ node: TestNode) throws(TestFileError) -> AlertExpectation {
        var k = try TestKeys(node, "an alert expectation")
        var a = AlertExpectation(location: node.location)
        a.id = try k.optional("id")?.string()
        if let l = k.optional("level") {
            let level = try l.string().uppercased()
            guard ["OK", "INFO", "WARNING", "CRITICAL"].contains(level) else {
                throw TestFileError(l.location, "level must be OK, INFO, WARNING or CRITICAL, got \"\(try l.string())\"")
            }
            a.level = level
        }
        a.time = try k.optional("time").map { n throws(TestFileError) in try time(n) }
        a.message = try k.optional("message")?.string()
        a.fields = try pairs(k.optional("fields"))
        a.tags = try tags(k.optional("tags"))
        try k.finish()
        return a
    }

    static func readRows(_ node: TestNode) throws(TestFileError) -> [ExpectedRow] {
        var rows: [ExpectedRow] = []
        for item in node.items() {
            var k = try TestKeys(item, "a series (name, tags, columns, values)")
            let name = try k.optional("name")?.string()
            let tagNode = k.optional("tags")
            var columns: [String] = []
            for c in try k.required("columns").items() { columns.append(try c.string()) }
            var values: [[TestValue]] = []
            for row in try k.required("values").items() {
                guard case .list(let cells, _) = row else { throw TestFileError(row.location, "a row of values is a list") }
                var r: [TestValue] = []
                for cell in cells { r.append(try cell.value()) }
                guard r.count == columns.count else {
                    throw TestFileError(row.location, "\(r.count) values for \(columns.count) columns")
                }
                values.append(r)
            }
            try k.finish()
            rows.append(ExpectedRow(name: name, tags: tagNode == nil ? nil : try tags(tagNode), columns: columns,
                                    values: values, location: item.location))
        }
        return rows
    }

    static func readWrite(_ node: TestNode) throws(TestFileError) -> ExpectedWrite {
        var k = try TestKeys(node, "a write expectation (database, retentionPolicy, measurement, tags, fields, time)")
        let database = try k.optional("database")?.string()
        let rp = try k.optional("retentionPolicy")?.string()
        let measurement = try k.required("measurement").string()
        let tagList = try tags(k.optional("tags"))
        let fieldList = try pairs(k.optional("fields"))
        let t = try k.optional("time").map { n throws(TestFileError) in try time(n) }
        try k.finish()
        return ExpectedWrite(database: database, retentionPolicy: rp, measurement: measurement, tags: tagList,
                             fields: fieldList, time: t, location: node.location)
    }
}
