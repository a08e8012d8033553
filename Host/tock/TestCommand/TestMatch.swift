import Engine
import Foundation
import Server
import TockModel

/// Compares a case's expectations with what its run produced; each difference is one readable line.
struct TestMatcher {
    let expect: Expectations
    var tolerance: Double { expect.tolerance }

    func differences(_ actual: TestActuals) -> [String] {
        var out: [String] = []
        actual.snapshot { a in
            if let failure = a.taskFailure { out.append("the task failed: \(failure)") }
            for line in a.badLines.prefix(10) { out.append("bad input line: \(line)") }
            if a.truncated { out.append("the run produced more than \(TestActuals.limit) results of one kind; only that many were compared") }
            out += alertDifferences(a.alerts)
            for o in expect.outputs {
                let nodes = o.node.map { [$0] } ?? a.nodeOrder.filter { a.leaves.contains($0) }
                let rows = nodes.flatMap { a.rows[$0] ?? [] }
                let label = o.node.map { "output of \($0)" } ?? "output"
                if let node = o.node, !a.nodes.contains(node) {
                    out.append("\(label): the task has no node \(node) (its nodes: \(a.nodes.joined(separator: ", ")))")
                    continue
                }
                if let node = o.node, a.rows[node] == nil, !o.rows.isEmpty {
                    out.append("\(label): the node emitted nothing (nodes that did: \(a.nodeOrder.joined(separator: ", ")))")
                    continue
                }
                out += rowDifferences(label, expected: o.rows, actual: rows.map { parse($0) })
            }
            for (endpoint, rows, _) in expect.httpOut {
                guard let json = a.httpOut[endpoint] else {
                    let known = a.httpOut.keys.sorted()
                    out.append("httpOut \(endpoint): no result (endpoints with results: \(known.isEmpty ? "none" : known.joined(separator: ", ")))")
                    continue
                }
                let series = parse(json)["series"]?.arrayValue ?? []
                out += rowDifferences("httpOut \(endpoint)", expected: rows, actual: series)
            }
            if let writes = expect.writes { out += writeDifferences(writes, a.writes) }
        }
        return out
    }

    private func parse(_ json: String) -> JSON { (try? JSON.parse(Array(json.utf8))) ?? .null }

    // MARK: Values

    /// Whether `actual` is `expected`: numbers within the tolerance, times by instant (any RFC 3339 spelling).
    func matches(_ expected: TestValue, _ actual: JSON) -> Bool {
        switch (expected, actual) {
        case (.number(let e), _):
            guard let a = actual.doubleValue else { return false }
            return a == e || abs(a - e) <= tolerance
        case (.string(let e), .string(let a)):
            if e == a { return true }
            if let te = RFC3339Nano.parse(e), let ta = RFC3339Nano.parse(a) { return te == ta }
            return false
        case (.bool(let e), .bool(let a)): return e == a
        case (.null, .null): return true
        case (.list(let e), .array(let a)):
            return e.count == a.count && zip(e, a).allSatisfy { matches($0, $1) }
        default: return false
        }
    }

    func matches(_ expected: TestValue, _ actual: FieldValue) -> Bool {
        switch (expected, actual) {
        case (.number(let e), _):
            guard let a = actual.numeric else { return false }
            return a == e || abs(a - e) <= tolerance
        case (.string(let e), .string(let a)): return e == a
        case (.bool(let e), .bool(let a)): return e == a
        default: return false
        }
    }

    /// The tolerance, said after a number that differs.
    private func tolerated(_ expected: TestValue) -> String {
        if case .number = expected, tolerance > 0 { return " (tolerance \(tolerance))" }
        return ""
    }

    private func show(_ v: JSON) -> String { v.serialized }

    // MARK: Series rows

    private func rowDifferences(_ label: String, expected: [ExpectedRow], actual: [JSON]) -> [String] {
        var out: [String] = []
        for (i, e) in expected.enumerated() {
            guard i < actual.count else {
                out.append("\(label): missing series #\(i + 1): \(describe(e))")
                continue
            }
            out += rowDifferences("\(label) series #\(i + 1)", e, actual[i])
        }
        for (i, a) in actual.enumerated().dropFirst(expected.count).prefix(10) {
            out.append("\(label): unexpected series #\(i + 1): \(a.serialized)")
        }
        if actual.count > expected.count + 10 { out.append("\(label): … and \(actual.count - expected.count - 10) more unexpected series") }
        return out
    }

    private func describe(_ e: ExpectedRow) -> String {
        let tags = (e.tags ?? []).map { "\($0)=\($1)" }.joined(separator: ",")
        return "\(e.name ?? "*")\(tags.isEmpty ? "" : "{\(tags)}") columns \(e.columns) values \(e.values.map { "[" + $0.map(\.description).joined(separator: ", ") + "]" }.joined(separator: " "))"
    }

    private func rowDifferences(_ label: String, _ e: ExpectedRow, _ a: JSON) -> [String] {
        var out: [String] = []
        let name = a["name"]?.stringValue ?? ""
        if let en = e.name, en != name { out.append("\(label): name is \"\(name)\", expected \"\(en)\"") }
        if let tags = e.tags {
            let actualTags = Dictionary((a["tags"]?.objectValue ?? []).map { ($0.0, $0.1.stringValue ?? $0.1.serialized) }, uniquingKeysWith: { x, _ in x })
            let expectedTags = Dictionary(tags, uniquingKeysWith: { x, _ in x })
            if actualTags != expectedTags {
                out.append("\(label): tags are \(sorted(actualTags)), expected \(sorted(expectedTags))")
            }
        }
        let columns = (a["columns"]?.arrayValue ?? []).map { $0.stringValue ?? $0.serialized }
        if columns != e.columns {
            out.append("\(label): columns are \(columns), expected \(e.columns)")
            return out
        }
        let values = a["values"]?.arrayValue ?? []
        for (r, expectedRow) in e.values.enumerated() {
            guard r < values.count, let actualRow = values[r].arrayValue else {
                out.append("\(label): missing row \(r + 1): [\(expectedRow.map(\.description).joined(separator: ", "))]")
                continue
            }
            for (c, ev) in expectedRow.enumerated() where c < actualRow.count && !matches(ev, actualRow[c]) {
                out.append("\(label) row \(r + 1) \(columns[c]): \(show(actualRow[c])), expected \(ev)\(tolerated(ev))")
            }
        }
        for r in values.indices.dropFirst(e.values.count).prefix(10) {
            out.append("\(label): unexpected row \(r + 1): \(values[r].serialized)")
        }
        return out
    }

    private func sorted(_ tags: [String: String]) -> String {
        "{" + tags.keys.sorted().map { "\($0)=\(tags[$0]!)" }.joined(separator: ",") + "}"
    }

    // MARK: Alerts

    /// What differs between an expected alert and an actual one (empty: it matches).
    func alertDifferences(_ e: AlertExpectation, _ a: JSON) -> [String] {
        var out: [String] = []
        let id = a["id"]?.stringValue ?? ""
        if let eid = e.id, eid != id { out.append("id is \"\(id)\", expected \"\(eid)\"") }
        let level = a["level"]?.stringValue ?? ""
        if let el = e.level, el != level { out.append("level is \(level), expected \(el)") }
        let time = a["time"]?.stringValue ?? ""
        if let et = e.time, RFC3339Nano.parse(time) != et { out.append("time is \(time), expected \(RFC3339Nano.format(et))") }
        let message = a["message"]?.stringValue ?? ""
        if let em = e.message, !message.contains(em) { out.append("message \"\(message)\" does not contain \"\(em)\"") }
        let series = a["data"]?["series"]?.arrayValue?.first
        if !e.tags.isEmpty {
            let tags = series?["tags"]
            for (k, v) in e.tags where tags?[k]?.stringValue != v {
                out.append("tag \(k) is \(tags?[k]?.serialized ?? "absent"), expected \"\(v)\"")
            }
        }
        if !e.fields.isEmpty {
            let columns = (series?["columns"]?.arrayValue ?? []).map { $0.stringValue ?? "" }
            let row = series?["values"]?.arrayValue?.first?.arrayValue ?? []
            for (k, v) in e.fields {
                guard let c = columns.firstIndex(of: k), c < row.count else {
                    out.append("field \(k) is absent (the alert's data has \(columns.joined(separator: ", "))), expected \(v)")
                    continue
                }
                if !matches(v, row[c]) { out.append("field \(k) is \(row[c].serialized), expected \(v)\(tolerated(v))") }
            }
        }
        return out
    }

    private func summary(_ a: JSON) -> String {
        "\(a["id"]?.stringValue ?? "?") \(a["level"]?.stringValue ?? "?") at \(a["time"]?.stringValue ?? "?"): \(a["message"]?.stringValue ?? "")"
    }

    private func describe(_ e: AlertExpectation) -> String {
        var parts: [String] = []
        if let id = e.id { parts.append("id \(id)") }
        if let l = e.level { parts.append(l) }
        if let t = e.time { parts.append("at \(RFC3339Nano.format(t))") }
        if let m = e.message { parts.append("message containing \"\(m)\"") }
        if !e.fields.isEmpty { parts.append("fields " + e.fields.map { "\($0)=\($1)" }.joined(separator: ",")) }
        return parts.isEmpty ? "any alert" : parts.joined(separator: " ")
    }

    private func alertDifferences(_ actualJSON: [String]) -> [String] {
        var out: [String] = []
        let actual = actualJSON.map { parse($0) }
        if let count = expect.alertCount, count != actual.count {
            out.append("alerts: \(actual.count) alert\(actual.count == 1 ? "" : "s"), expected \(count)")
        }
        guard let expected = expect.alerts else { return out }
        if expect.alertCount == nil {
            // Without a count, the list is every alert, in order.
            for (i, e) in expected.enumerated() {
                guard i < actual.count else {
                    out.append("alerts: missing alert #\(i + 1): \(describe(e))")
                    continue
                }
                out += alertDifferences(e, actual[i]).map { "alert #\(i + 1) (\(summary(actual[i]))): \($0)" }
            }
            for (i, a) in actual.enumerated().dropFirst(expected.count).prefix(10) {
                out.append("alerts: unexpected alert #\(i + 1): \(summary(a))")
            }
            if actual.count > expected.count + 10 { out.append("alerts: … and \(actual.count - expected.count - 10) more unexpected alerts") }
            return out
        }
        // With a count, each expected alert is one of them, in order.
        var next = 0
        for (i, e) in expected.enumerated() {
            if let found = actual.indices.dropFirst(next).first(where: { alertDifferences(e, actual[$0]).isEmpty }) {
                next = found + 1
                continue
            }
            let candidates = actual.indices.dropFirst(next)
            if let closest = candidates.min(by: { alertDifferences(e, actual[$0]).count < alertDifferences(e, actual[$1]).count }) {
                out.append("alerts: expected alert #\(i + 1) (\(describe(e))) not found; closest is #\(closest + 1) (\(summary(actual[closest]))): "
                           + alertDifferences(e, actual[closest]).joined(separator: "; "))
            } else {
                out.append("alerts: expected alert #\(i + 1) (\(describe(e))) not found: no alert left after #\(next)")
            }
        }
        return out
    }

    // MARK: influxDBOut writes

    private func writeDifferences(_ expected: [ExpectedWrite], _ actual: [(write: InfluxWrite, point: Point)]) -> [String] {
        var out: [String] = []
        for (i, e) in expected.enumerated() {
            guard i < actual.count else {
                out.append("writes: missing write #\(i + 1): \(e.measurement) \(e.fields.map { "\($0)=\($1)" }.joined(separator: ","))")
                continue
            }
            out += writeDifferences(e, actual[i].write, actual[i].point).map { "write #\(i + 1): \($0)" }
        }
        for (i, a) in actual.enumerated().dropFirst(expected.count).prefix(10) {
            out.append("writes: unexpected write #\(i + 1): \(describe(a.write, a.point))")
        }
        if actual.count > expected.count + 10 { out.append("writes: … and \(actual.count - expected.count - 10) more unexpected writes") }
        return out
    }

    private func describe(_ w: InfluxWrite, _ p: Point) -> String {
        let tags = p.tags.map { "\($0.key)=\($0.value)" }.joined(separator: ",")
        let fields = p.fields.map { "\($0.key)=\(fieldText($0.value))" }.joined(separator: ",")
        return "\(w.database).\(w.retentionPolicy) \(p.name)\(tags.isEmpty ? "" : "{\(tags)}") \(fields) at \(RFC3339Nano.format(p.time))"
    }

    private func fieldText(_ v: FieldValue) -> String {
        switch v {
        case .double(let d): String(d)
        case .int(let i): "\(i)i"
        case .uint(let u): "\(u)u"
        case .string(let s): "\"\(s)\""
        case .bool(let b): String(b)
        }
    }

    /// Tags and fields are compared as whole sets; database, retention policy and time when given.
    func writeDifferences(_ e: ExpectedWrite, _ w: InfluxWrite, _ p: Point) -> [String] {
        var out: [String] = []
        if let db = e.database, db != w.database { out.append("database is \"\(w.database)\", expected \"\(db)\"") }
        if let rp = e.retentionPolicy, rp != w.retentionPolicy { out.append("retention policy is \"\(w.retentionPolicy)\", expected \"\(rp)\"") }
        if p.name != e.measurement { out.append("measurement is \"\(p.name)\", expected \"\(e.measurement)\"") }
        let expectedTags = Dictionary(e.tags, uniquingKeysWith: { x, _ in x })
        if p.tags.dictionary != expectedTags { out.append("tags are \(sorted(p.tags.dictionary)), expected \(sorted(expectedTags))") }
        for (k, v) in e.fields {
            guard let actual = p.fields[k] else {
                out.append("field \(k) is absent, expected \(v)")
                continue
            }
            if !matches(v, actual) { out.append("field \(k) is \(fieldText(actual)), expected \(v)\(tolerated(v))") }
        }
        for f in p.fields where !e.fields.contains(where: { $0.0 == f.key }) {
            out.append("unexpected field \(f.key)=\(fieldText(f.value))")
        }
        if let t = e.time, t != p.time { out.append("time is \(RFC3339Nano.format(p.time)), expected \(RFC3339Nano.format(t))") }
        return out
    }
}
