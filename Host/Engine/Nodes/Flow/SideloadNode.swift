import TockModel

/// `|sideload()`: adds fields and tags to each point from a directory of YAML and JSON files, as Kapacitor's
/// `sideload.go`.
///
/// ```
/// |sideload()
///     .source('file:///etc/tock/sideload')
///     .order('host/{{.host}}.yml', 'default.yml')
///     .field('cpu_threshold', 0.0)
///     .tag('team', 'unknown')
/// ```
/// The `.order()` templates are rendered over the point's tags (a missing tag renders `<no value>`); each key is
/// looked up in those files in order and the first value found is used, converted to the default's type (a number
/// to an int only when whole, a string parsed, a number or bool formatted for a string). Absent, or of a type that
/// does not convert, the default is used (the latter logged). Batch points are sideloaded one by one.
final class SideloadNode: Node {
    let source: SideloadSource
    let order: [(raw: String, nodes: [TemplateNode])]
    let fields: [(name: String, fallback: FieldValue)]
    let tags: [(name: String, fallback: String)]

    init(_ c: NodeConfiguration, sources: SideloadSources = .shared) throws {
        guard let url = c.string("source") else {
            throw NodeConfigurationError("sideload needs a .source('file:///path/to/dir')")
        }
        do {
            source = try sources.source(for: url)
        } catch {
            throw NodeConfigurationError(error.message)
        }
        var order: [(String, [TemplateNode])] = []
        for raw in c.strings("order") {
            var parser = TemplateParser(name: "order", source: raw, functions: AlertTemplate.functions)
            do {
                order.append((raw, try parser.parse()))
            } catch {
                throw NodeConfigurationError("sideload .order('\(raw)'): \(error)")
            }
        }
        self.order = order
        // Later calls for the same name replace earlier ones, as Kapacitor's maps do; script order is kept.
        var fields: [(String, FieldValue)] = []
        for call in c.calls("field") {
            guard case .string(let name) = call[0] else { continue }
            let fallback: FieldValue
            switch call[1] {
            case .float(let f): fallback = .double(f)
            case .int(let i): fallback = .int(i)
            case .string(let s): fallback = .string(s)
            case .bool(let b): fallback = .bool(b)
            default: continue
            }
            fields.removeAll { $0.0 == name }
            fields.append((name, fallback))
        }
        self.fields = fields
        var tags: [(String, String)] = []
        for call in c.calls("tag") {
            guard case .string(let name) = call[0], case .string(let fallback) = call[1] else { continue }
            tags.removeAll { $0.0 == name }
            tags.append((name, fallback))
        }
        self.tags = tags
    }

    func receive(_ message: Message, port: Int, output: any NodeOutput) throws {
        switch message {
        case .point(var p):
            var tags = p.tags
            sideload(fields: &p.fields, tags: &tags, output: output)
            p.tags = tags
            output.emit(.point(p))
        case .batch(var b):
            var points = b.points
            b.points = []
            for i in points.indices {
                var fields = points[i].fields
                var tags = points[i].tags
                sideload(fields: &fields, tags: &tags, output: output)
                points[i].fields = fields
                points[i].tags = tags
            }
            b.points = points
            output.emit(.batch(b))
        }
    }

    private func sideload(fields: inout Fields, tags: inout Tags, output: any NodeOutput) {
        var paths: [String] = []
        paths.reserveCapacity(order.count)
        let root = TemplateValue.anyMap(tags.map { (key: $0.key, value: TemplateValue.string($0.value)) })
        for o in order {
            var execution = TemplateExecution(name: "order", escapeHTML: false, root: root)
            var out = ""
            do {
                try execution.run(o.nodes, dot: root, into: &out)
            } catch {
                output.logger.error("failed to evaluate order template \(o.raw): \(error)")
                return
            }
            paths.append(out)
        }
        for (name, fallback) in self.fields {
            guard let found = source.lookup(paths, name) else {
                fields[name] = fallback
                continue
            }
            if let v = Self.convert(found, like: fallback) {
                fields[name] = v
            } else {
                output.logger.error("failed to load key \(name): expected \(fallback.goTypeName), got \(found.goTypeName)")
                fields[name] = fallback
            }
        }
        for (name, fallback) in self.tags {
            guard let found = source.lookup(paths, name) else {
                tags[name] = fallback
                continue
            }
            if case .string(let s)? = Self.convert(found, like: .string(fallback)) {
                tags[name] = s
            } else {
                output.logger.error("failed to load key \(name): expected string, got \(found.goTypeName)")
                tags[name] = fallback
            }
        }
    }

    /// Kapacitor's `convertType`: `value` as the default's type, or nil when it does not convert.
    static func convert(_ value: SideloadValue, like fallback: FieldValue) -> FieldValue? {
        switch (fallback, value) {
        case (.int, .number(let d)):
            guard d.rounded(.towardZero) == d, d >= -9.223372036854775808e18, d < 9.223372036854775808e18 else { return nil }
            return .int(Int64(d))
        case (.int, .string(let s)):
            return GoParse.atoi(s).map { .int($0) }
        case (.double, .number(let d)):
            return .double(d)
        case (.double, .string(let s)):
            return GoParse.parseFloat(s).map { .double($0) }
        case (.bool, .bool(let b)):
            return .bool(b)
        case (.bool, .string(let s)):
            return GoParse.parseBool(s).map { .bool($0) }
        case (.string, .number(let d)):
            return .string(GoParse.formatFloat(d))
        case (.string, .bool(let b)):
            return .string(b ? "true" : "false")
        case (.string, .string(let s)):
            return .string(s)
        default:
            return nil
        }
    }
}

extension SideloadValue {
    /// Go's name of the value's type (`%T`), for the log line of a value that does not convert.
    var goTypeName: String {
        switch self {
        case .number: "float64"
        case .string: "string"
        case .bool: "bool"
        case .other(let t): t
        }
    }
}

/// Go's `strconv` parsing and formatting, as Kapacitor's sideload conversions use them.
enum GoParse {
    /// `strconv.Atoi`: an optional sign and decimal digits, nothing else.
    static func atoi(_ s: String) -> Int64? {
        var body = Substring(s)
        var negative = false
        if let sign = body.first, sign == "+" || sign == "-" {
            negative = sign == "-"
            body = body.dropFirst()
        }
        guard !body.isEmpty, body.allSatisfy({ $0.isASCII && $0.isNumber }) else { return nil }
        return Int64((negative ? "-" : "") + body)
    }

    /// `strconv.ParseFloat(s, 64)` for decimal forms and Inf/NaN.
    static func parseFloat(_ s: String) -> Double? {
        switch s.lowercased() {
        case "inf", "+inf", "infinity", "+infinity": return .infinity
        case "-inf", "-infinity": return -.infinity
        case "nan": return .nan
        default: break
        }
        guard !s.isEmpty, s.allSatisfy({ "0123456789+-.eE".contains($0) }) else { return nil }
        return Double(s)
    }

    /// `strconv.ParseBool`.
    static func parseBool(_ s: String) -> Bool? {
        switch s {
        case "1", "t", "T", "TRUE", "true", "True": true
        case "0", "f", "F", "FALSE", "false", "False": false
        default: nil
        }
    }

    /// `strconv.FormatFloat(d, 'f', -1, 64)`: the shortest decimal that reads back as `d`, never with an exponent.
    static func formatFloat(_ d: Double) -> String {
        if d.isNaN { return "NaN" }
        if d.isInfinite { return d < 0 ? "-Inf" : "+Inf" }
        let shortest = "\(d)"
        guard let e = shortest.firstIndex(where: { $0 == "e" || $0 == "E" }) else {
            return shortest.hasSuffix(".0") ? String(shortest.dropLast(2)) : shortest
        }
        let exponent = Int(shortest[shortest.index(after: e)...])!
        var mantissa = String(shortest[..<e])
        let negative = mantissa.hasPrefix("-")
        if negative { mantissa.removeFirst() }
        let parts = mantissa.split(separator: ".", omittingEmptySubsequences: false)
        var digits = String(parts[0]) + (parts.count > 1 ? String(parts[1]) : "")
        let point = parts[0].count + exponent
        if digits.hasSuffix("0") && digits.count > 1 { digits = String(digits.reversed().drop(while: { $0 == "0" }).reversed()) }
        let out: String
        if point <= 0 {
            out = "0." + String(repeating: "0", count: -point) + digits
        } else if point >= digits.count {
            out = digits + String(repeating: "0", count: point - digits.count)
        } else {
            out = String(digits.prefix(point)) + "." + String(digits.dropFirst(point))
        }
        return (negative ? "-" : "") + out
    }
}
