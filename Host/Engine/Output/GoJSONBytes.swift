import TockModel

/// The byte-buffer half of ``GoJSON``: the same spellings appended as UTF-8 to a `[UInt8]`, for output written
/// once per point (`tock run`, httpOut rows, alert events) without building intermediate strings.
extension GoJSON {
    /// Appends `s` as a JSON string literal, escaped as the `String` version escapes it.
    public static func appendString(_ s: String, to out: inout [UInt8]) {
        out.append(UInt8(ascii: "\""))
        if let done: Void = s.utf8.withContiguousStorageIfAvailable({ appendEscaped($0, to: &out) }) {
            _ = done
        } else {
            appendEscaped(Array(s.utf8), to: &out)
        }
        out.append(UInt8(ascii: "\""))
    }

    /// Appends the UTF-8 of a string's contents, JSON-escaped (no quotes).
    @usableFromInline
    static func appendEscaped(_ bytes: some RandomAccessCollection<UInt8>, to out: inout [UInt8]) {
        var plainStart = bytes.startIndex
        var i = bytes.startIndex
        while i != bytes.endIndex {
            let c = bytes[i]
            // Most bytes need nothing: printable ASCII other than " \ < > &, and UTF-8 other than U+2028/2029.
            if c >= 0x20 && c != 0x22 && c != 0x5C && c != 0x3C && c != 0x3E && c != 0x26 && c != 0xE2 {
                i = bytes.index(after: i)
                continue
            }
            var length = 1
            let escape: StaticString
            switch c {
            case 0x22: escape = "\\\""
            case 0x5C: escape = "\\\\"
            case 0x0A: escape = "\\n"
            case 0x0D: escape = "\\r"
            case 0x09: escape = "\\t"
            case 0x3C: escape = "\\u003c"
            case 0x3E: escape = "\\u003e"
            case 0x26: escape = "\\u0026"
            case 0xE2:
                // U+2028 and U+2029 are E2 80 A8 and E2 80 A9.
                let second = bytes.index(after: i)
                guard second != bytes.endIndex, bytes[second] == 0x80 else { i = second; continue }
                let third = bytes.index(after: second)
                guard third != bytes.endIndex, bytes[third] == 0xA8 || bytes[third] == 0xA9 else {
                    i = second
                    continue
                }
                escape = bytes[third] == 0xA8 ? "\\u2028" : "\\u2029"
                length = 3
            default:
                // Other control characters: \u00XX with lowercase hex, as Go writes them.
                out.append(contentsOf: bytes[plainStart..<i])
                out.append(contentsOf: [0x5C, 0x75, 0x30, 0x30, hexDigit(c >> 4), hexDigit(c & 0xF)])
                i = bytes.index(after: i)
                plainStart = i
                continue
            }
            out.append(contentsOf: bytes[plainStart..<i])
            escape.withUTF8Buffer { out.append(contentsOf: $0) }
            i = bytes.index(i, offsetBy: length)
            plainStart = i
        }
        out.append(contentsOf: bytes[plainStart..<bytes.endIndex])
    }

    private static func hexDigit(_ v: UInt8) -> UInt8 { v < 10 ? 0x30 + v : 0x61 + v - 10 }

    /// Appends a float as ``float(_:)`` spells it (Go's shortest form; NaN and infinities as `null`).
    public static func appendFloat(_ v: Double, to out: inout [UInt8]) {
        guard v.isFinite else {
            appendLiteral("null", to: &out)
            return
        }
        if v == 0 {
            out.append(UInt8(ascii: "0"))
            return
        }
        let a = abs(v)
        if a >= 1e-6 && a < 1e21 {
            // Swift's shortest round-trip description, when it has no exponent, is Go's 'f' form plus a ".0" on whole
            // numbers: the same digits, so copy them (a short description is a small string: no allocation).
            let text = v.description
            var plain = false
            _ = text.utf8.withContiguousStorageIfAvailable { b in
                guard !b.contains(UInt8(ascii: "e")) else { return }
                plain = true
                var end = b.count
                if end >= 2 && b[end - 2] == UInt8(ascii: ".") && b[end - 1] == UInt8(ascii: "0") { end -= 2 }
                out.append(contentsOf: b[0..<end])
            }
            if plain { return }
        }
        out.append(contentsOf: float(v).utf8)
    }

    /// Appends an integer in decimal.
    public static func appendInt(_ v: Int64, to out: inout [UInt8]) {
        if v < 0 {
            out.append(UInt8(ascii: "-"))
            appendUInt(v.magnitude, to: &out)
        } else {
            appendUInt(UInt64(v), to: &out)
        }
    }

    /// Appends an unsigned integer in decimal.
    public static func appendUInt(_ v: UInt64, to out: inout [UInt8]) {
        if v < 10 {
            out.append(0x30 + UInt8(v))
            return
        }
        // At most 20 digits, written backwards into a fixed buffer.
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 20) { buffer in
            var n = v, at = 20
            while n > 0 {
                at -= 1
                buffer[at] = 0x30 + UInt8(n % 10)
                n /= 10
            }
            out.append(contentsOf: UnsafeBufferPointer(rebasing: buffer[at..<20]))
        }
    }

    /// Appends a field value as the `String` version spells it.
    public static func appendField(_ v: FieldValue, to out: inout [UInt8]) {
        switch v {
        case .double(let d): appendFloat(d, to: &out)
        case .int(let i): appendInt(i, to: &out)
        case .uint(let u): appendUInt(u, to: &out)
        case .string(let s): appendString(s, to: &out)
        case .bool(let b): appendLiteral(b ? "true" : "false", to: &out)
        }
    }

    /// Appends `text` as it is (JSON punctuation, keys known not to need escaping).
    @inlinable
    public static func appendLiteral(_ text: StaticString, to out: inout [UInt8]) {
        text.withUTF8Buffer { out.append(contentsOf: $0) }
    }

    /// Appends a time as a JSON string in RFC 3339 with nanoseconds (`"2026-11-22T00:24:18.5Z"`).
    public static func appendTime(_ t: Timestamp, to out: inout [UInt8]) {
        out.append(UInt8(ascii: "\""))
        RFC3339Nano.append(t, to: &out)
        out.append(UInt8(ascii: "\""))
    }
}
