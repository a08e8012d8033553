import TockModel

/// Writes points as InfluxDB 1.x line protocol that ``LineProtocolParser`` (and InfluxDB) read back unchanged.
///
/// - Escaping as InfluxDB 1.x reads it back: measurement: `,` and space escaped; tag keys, tag values and
///   field keys: `,`, `=` and space escaped. A backslash is written as it is (`C:\temp` stays `C:\temp`,
///   `a\\b` stays `a\\b`); one more is written before a `"` or `=` that InfluxDB would otherwise take it to
///   escape (measurement `a\"b` is written `a\\"b`, field key `a\"b` likewise).
/// - Not expressible, so refused: a measurement, tag key, tag value or field key that ends with a backslash
///   (it would escape the separator after it), and a field key with an odd run of backslashes before `,`, `=` or space.
/// - A line feed cannot appear in a name, key or tag value: it is written as the two characters
///   `\n`, as Telegraf does; such a name does not read back identically.
/// - Tags with an empty value are left out (InfluxDB has no empty tag values).
/// - Floats in the shortest form that reads back exactly (`0.5`, `1e-05`), integers with `i`,
///   unsigned with `u`, strings in double quotes with `"` and `\` escaped, booleans `true`/`false`.
/// - The timestamp is always written, in ``precision`` units (truncated toward zero, as InfluxDB does).
public struct LineProtocolSerializer: Sendable {
    /// The unit of the written timestamps.
    public var precision: Precision

    public init(precision: Precision = .nanoseconds) {
        self.precision = precision
    }

    /// Appends `point` as one line, with its line break, to `out`.
    /// - Throws: when the point cannot be expressed: no fields, an empty measurement or key, a
    ///   measurement starting with `#` (a comment) or a tab, a float that is NaN or infinite, or a backslash
    ///   that InfluxDB would read as an escape (see above).
    public func append(_ point: Point, to out: inout [UInt8]) throws(LineProtocolSerializationError) {
        try check(point)
        let rollback = out.count
        func write(_ s: String, _ kind: IdentifierKind) throws(LineProtocolSerializationError) {
            if let problem = writeIdentifier(s, kind, to: &out) {
                out.removeSubrange(rollback...)
                throw LineProtocolSerializationError(measurement: point.name, message: problem)
            }
        }
        try write(point.name, .measurement)
        for (key, value) in point.tags where !value.isEmpty {
            if key.isEmpty {
                out.removeSubrange(rollback...)
                throw LineProtocolSerializationError(measurement: point.name, message: "a tag key is empty")
            }
            out.append(Byte.comma)
            try write(key, .tagKey)
            out.append(Byte.equals)
            try write(value, .tagValue)
        }
        out.append(Byte.space)
        var first = true
        for (key, value) in point.fields {
            if !first { out.append(Byte.comma) }
            first = false
            try write(key, .fieldKey)
            out.append(Byte.equals)
            writeValue(value, to: &out)
        }
        out.append(Byte.space)
        let unit = precision.nanoseconds
        writeDecimal(unit == 1 ? point.time : point.time / unit, to: &out)
        out.append(Byte.newline)
    }

    /// All `points` as line protocol, one line each.
    public func serialize(_ points: some Sequence<Point>) throws(LineProtocolSerializationError) -> [UInt8] {
        var out: [UInt8] = []
        for point in points { try append(point, to: &out) }
        return out
    }

    /// One point as a line of text, without the line break.
    public func line(_ point: Point) throws(LineProtocolSerializationError) -> String {
        var out: [UInt8] = []
        try append(point, to: &out)
        out.removeLast()
        return String(decoding: out, as: UTF8.self)
    }

    private func check(_ point: Point) throws(LineProtocolSerializationError) {
        func fail(_ message: String) -> LineProtocolSerializationError {
            LineProtocolSerializationError(measurement: point.name, message: message)
        }
        guard let firstByte = point.name.utf8.first else { throw fail("the measurement is empty") }
        if firstByte == Byte.hash { throw fail("a measurement starting with \"#\" would read as a comment") }
        if firstByte == Byte.tab { throw fail("a measurement starting with a tab would lose it") }
        if point.fields.isEmpty { throw fail("a point needs at least one field") }
        for (key, value) in point.fields {
            if key.isEmpty { throw fail("a field key is empty") }
            if case .double(let d) = value, !d.isFinite {
                throw fail("field \"\(key)\" is \(d), which line protocol cannot carry")
            }
        }
    }

    enum IdentifierKind {
        case measurement, tagKey, tagValue, fieldKey

        var name: String {
            switch self {
            case .measurement: "measurement"
            case .tagKey: "tag key"
            case .tagValue: "tag value"
            case .fieldKey: "field key"
            }
        }
    }

    /// Writes a name or key escaped for `kind`; returns why it cannot be written (and writes part of it) instead.
    private func writeIdentifier(_ s: String, _ kind: IdentifierKind, to out: inout [UInt8]) -> String? {
        let escapesEquals = kind != .measurement
        let original = s
        var s = s
        return s.withUTF8 { bytes -> String? in
            var needsWork = false
            for b in bytes where b == Byte.comma || b == Byte.space || b == Byte.backslash
                || b == Byte.newline || (escapesEquals && b == Byte.equals) {
                needsWork = true
                break
            }
            if !needsWork {
                out.append(contentsOf: bytes)
                return nil
            }
            var k = 0
            while k < bytes.count {
                let b = bytes[k]
                k += 1
                switch b {
                case Byte.comma, Byte.space:
                    out.append(Byte.backslash)
                    out.append(b)
                case Byte.equals where escapesEquals:
                    out.append(Byte.backslash)
                    out.append(b)
                case Byte.newline:
                    out.append(Byte.backslash)
                    out.append(0x6E) // n
                case Byte.backslash:
                    // A run of backslashes is kept as it is, except where InfluxDB would take its last one as an escape.
                    var run = 1
                    while k < bytes.count && bytes[k] == Byte.backslash {
                        run += 1
                        k += 1
                    }
                    guard k < bytes.count else {
                        return "\(kind.name) \"\(original)\" ends with a backslash, which InfluxDB would read as escaping the character after it"
                    }
                    let next = bytes[k]
                    if next == Byte.comma || next == Byte.space || (escapesEquals && next == Byte.equals) {
                        // Written before the escaped character: the reader drops only the escaping backslash. Field keys
                        // are scanned by pairs, so only an even run can stand before an escape there.
                        if kind == .fieldKey && run % 2 == 1 {
                            return "field key \"\(original)\" has a backslash before \"\(Character(Unicode.Scalar(next)))\", which line protocol cannot carry"
                        }
                    } else if (kind == .measurement || kind == .fieldKey) && next == Byte.quote
                                || kind == .measurement && next == Byte.equals {
                        // InfluxDB drops a backslash before `"` (and `=` in a measurement): one more keeps the run whole.
                        run += 1
                    }
                    out.append(contentsOf: repeatElement(Byte.backslash, count: run))
                default:
                    out.append(b)
                }
            }
            return nil
        }
    }

    private func writeValue(_ value: FieldValue, to out: inout [UInt8]) {
        switch value {
        case .double(let d):
            out.append(contentsOf: d.description.utf8)
        case .int(let i):
            writeDecimal(i, to: &out)
            out.append(0x69) // i
        case .uint(let u):
            out.append(contentsOf: String(u).utf8)
            out.append(0x75) // u
        case .string(let s):
            out.append(Byte.quote)
            for b in s.utf8 {
                if b == Byte.quote || b == Byte.backslash { out.append(Byte.backslash) }
                out.append(b)
            }
            out.append(Byte.quote)
        case .bool(let b):
            out.append(contentsOf: (b ? "true" : "false").utf8)
        }
    }

    private func writeDecimal(_ v: Int64, to out: inout [UInt8]) {
        if v == 0 {
            out.append(Byte.zero)
            return
        }
        var digits: (UInt64, UInt64, UInt64) = (0, 0, 0) // 24 bytes of scratch
        var magnitude = v.magnitude
        var n = 0
        withUnsafeMutableBytes(of: &digits) { buffer in
            while magnitude > 0 {
                buffer[23 - n] = Byte.zero + UInt8(magnitude % 10)
                magnitude /= 10
                n += 1
            }
            if v < 0 { out.append(Byte.minus) }
            out.append(contentsOf: buffer[(24 - n)...])
        }
    }
}
