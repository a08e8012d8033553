import Foundation
import LineProtocol
import Testing
import TICKScript
import TockModel
@testable import Engine

/// One conformance case: a TICKscript, the points it is given and what its leaves must emit, written by hand
/// from Kapacitor's source (the file each suite names).
///
/// `input` is line protocol with times in **seconds** (one point a line, indentation ignored); the points
/// come from database `db`, retention policy `rp`. `expected` lists what the leaves emit, one message after
/// another, in the form ``ConformanceRendering`` writes:
///
/// ```
/// cpu,host=a value=1.5,n=2i 10s group(host=a)    a point: line protocol, time in s/ms/ns, its group if any
/// batch cpu,host=a tmax=10s group(host=a)         a batch: name, group tags, tmax, group
///   cpu,host=a value=1.0 5s                       … then each of its points, indented
/// ```
/// Floats print as Swift prints a `Double` (`1.0`, `0.5`), integers with `i`, strings quoted; a group by
/// measurement shows as `group(cpu;host=a)`. `logs` are fragments that must each appear in some log line of
/// the task; `alerts` are the alert events as `LEVEL id time` lines.
struct ConformanceCase: Sendable, CustomTestStringConvertible {
    var name: String
    var script: String
    var input: String
    var expected: String
    var logs: [String] = []
    var alerts: String? = nil

    var testDescription: String { name }
}

/// A script Kapacitor refuses when the task is defined: the error's `line:column` and a fragment of its message.
struct ConformanceError: Sendable, CustomTestStringConvertible {
    var name: String
    var script: String
    /// `"3:6"`.
    var at: String
    var message: String

    var testDescription: String { name }
}

enum Conformance {
    /// The points of `input` (line protocol, seconds).
    static func points(_ input: String, sourceLocation: SourceLocation = #_sourceLocation) -> [Point] {
        let text = lines(input).joined(separator: "\n")
        var parser = LineProtocolParser(precision: .seconds, defaultTime: 0, database: "db", retentionPolicy: "rp")
        var points: [Point] = []
        let errors = parser.parse(text, into: &points)
        #expect(errors.isEmpty, "bad input line protocol: \(errors)", sourceLocation: sourceLocation)
        return points
    }

    /// Runs a case and checks every expectation it states.
    static func check(_ c: ConformanceCase, sourceLocation: SourceLocation = #_sourceLocation) throws {
        let (collector, _) = try run(c.script, points(c.input, sourceLocation: sourceLocation))
        let actual = collector.outputs.flatMap { ConformanceRendering.lines($0.message) }
        #expect(actual == lines(c.expected), sourceLocation: sourceLocation)
        let logs = collector.logs.map { "\($0.0.rawValue) \($0.1): \($0.2)" }
        for fragment in c.logs {
            #expect(logs.contains { $0.contains(fragment) }, "no log line contains \"\(fragment)\"; logs: \(logs)",
                    sourceLocation: sourceLocation)
        }
        if let alerts = c.alerts {
            let events = collector.events.compactMap { e -> String? in
                guard case .alert(let json) = e.event else { return nil }
                return ConformanceRendering.alert(json)
            }
            #expect(events == lines(alerts), sourceLocation: sourceLocation)
        }
    }

    /// Checks that a script fails to build at `at` with `message` in its text.
    static func check(_ c: ConformanceError, sourceLocation: SourceLocation = #_sourceLocation) {
        guard let error = buildError(c.script, sourceLocation: sourceLocation) else {
            Issue.record("\(c.name): the script built, expected an error at \(c.at)", sourceLocation: sourceLocation)
            return
        }
        #expect("\(error.position)" == c.at, "\(error)", sourceLocation: sourceLocation)
        #expect(error.message.contains(c.message), "\(error)", sourceLocation: sourceLocation)
    }

    /// The non-empty lines of a block without their indentation (which only helps the eye: a batch's points
    /// follow its `batch` line).
    static func lines(_ text: String) -> [String] {
        text.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
    }
}

/// Writes messages and alert events in the compact form the conformance cases are written in.
enum ConformanceRendering {
    static func lines(_ message: Message) -> [String] {
        switch message {
        case .point(let p):
            return [line(p.name, p.tags, p.fields, p.time) + group(p.group)]
        case .batch(let b):
            let header = "batch " + series(b.name, b.tags) + " tmax=" + time(b.tmax) + group(b.group)
            return [header] + b.points.map { line(b.name, $0.tags, $0.fields, $0.time) }
        }
    }

    static func line(_ name: String, _ tags: Tags, _ fields: Fields, _ t: Timestamp) -> String {
        let f = fields.map { "\($0.key)=\(value($0.value))" }.joined(separator: ",")
        return series(name, tags) + (f.isEmpty ? "" : " " + f) + " " + time(t)
    }

    static func series(_ name: String, _ tags: Tags) -> String {
        ([name] + tags.map { "\($0.key)=\($0.value)" }).joined(separator: ",")
    }

    static func group(_ g: GroupID) -> String {
        g == .none ? "" : " group(\(g.rawValue.replacingOccurrences(of: "\n", with: ";")))"
    }

    static func value(_ v: FieldValue) -> String {
        switch v {
        case .double(let d): "\(d)"
        case .int(let i): "\(i)i"
        case .uint(let u): "\(u)u"
        case .string(let s): "\"\(s)\""
        case .bool(let b): "\(b)"
        }
    }

    static func time(_ t: Timestamp) -> String {
        if t % GoDuration.second == 0 { return "\(t / GoDuration.second)s" }
        if t % 1_000_000 == 0 { return "\(t / 1_000_000)ms" }
        return "\(t)ns"
    }

    /// `LEVEL id time` of an alert event's JSON.
    static func alert(_ json: String) -> String {
        guard let object = try? JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any] else { return json }
        return "\(object["level"] ?? "?") \(object["id"] ?? "?") \(object["time"] ?? "?")"
    }
}
