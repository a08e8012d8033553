import TockModel

/// JSON spelled the way Go's `encoding/json` spells it, so Tock's output is byte-compatible with Kapacitor's:
/// floats in shortest form (`90`, `0.5`, `1e-7`, `1e+21`), HTML-sensitive characters escaped (`\u003c`).
public enum GoJSON {
    /// Appends `s` as a JSON string literal.
    public static func appendString(_ s: String, to out: inout String) {
        out.append("\"")
        var plainStart = s.unicodeScalars.startIndex
        let scalars = s.unicodeScalars
        var i = scalars.startIndex
        while i < scalars.endIndex {
            let c = scalars[i]
            let escape: String?
            switch c {
            case "\"": escape = "\\\""
            case "\\": escape = "\\\\"
            case "\n": escape = "\\n"
            case "\r": escape = "\\r"
            case "\t": escape = "\\t"
            case "<": escape = "\\u003c"
            case ">": escape = "\\u003e"
            case "&": escape = "\\u0026"
            case "\u{2028}": escape = "\\u2028"
            case "\u{2029}": escape = "\\u2029"
            default:
                if c.value < 0x20 {
                    let hex = String(c.value, radix: 16)
                    escape = "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
                } else {
                    escape = nil
                }
            }
            if let escape {
                out.append(contentsOf: s[plainStart..<i])
                out.append(escape)
                plainStart = scalars.index(after: i)
            }
            i = scalars.index(after: i)
        }
        // Appended as a Substring of `s` (the scalar indices are String indices): appending through
        // `out.unicodeScalars` copied all of `out` on every call in debug builds, quadratic for a big httpOut.
        out.append(contentsOf: s[plainStart..<scalars.endIndex])
        out.append("\"")
    }

    /// `s` as a JSON string literal.
    public static func string(_ s: String) -> String {
        var out = ""
        appendString(s, to: &out)
        return out
    }

    /// A float as Go's JSON encoder writes it; NaN and infinities (which Go refuses) as `null`.
    public static func float(_ v: Double) -> String {
        guard v.isFinite else { return "null" }
        let a = abs(v)
        if a != 0 && (a < 1e-6 || a >= 1e21) {
            return GoFloat.exponent(v, minExponentDigits: 1)
        }
        return GoFloat.plain(v)
    }

    /// A field value as JSON: ints as integers, floats as Go prints them.
    public static func appendField(_ v: FieldValue, to out: inout String) {
        switch v {
        case .double(let d): out += float(d)
        case .int(let i): out += String(i)
        case .uint(let u): out += String(u)
        case .string(let s): appendString(s, to: &out)
        case .bool(let b): out += b ? "true" : "false"
        }
    }
}

/// Go's `strconv.FormatFloat(v, 'f'|'e', -1, 64)`: the shortest digits that read back as `v`.
public enum GoFloat {
    /// Shortest digits and the decimal exponent: `v = 0.d1d2d3… × 10^exp` (sign dropped).
    static func digits(_ v: Double) -> (digits: [UInt8], exponent: Int) {
        // Swift's description is the shortest round-trip form; re-read its digits and exponent.
        let text = Array(abs(v).description.utf8)
        var digits: [UInt8] = []
        var pointAt: Int? = nil
        var exp = 0
        var i = 0
        while i < text.count {
            let c = text[i]
            if c == UInt8(ascii: ".") {
                pointAt = digits.count
            } else if c == UInt8(ascii: "e") || c == UInt8(ascii: "E") {
                exp = Int(String(decoding: text[(i + 1)...], as: UTF8.self)) ?? 0
                break
            } else {
                digits.append(c - 48)
            }
            i += 1
        }
        var point = (pointAt ?? digits.count) + exp
        // Drop leading zeros (moving the point) and trailing zeros.
        while digits.count > 1, digits.first == 0 { digits.removeFirst(); point -= 1 }
        while digits.count > 1, digits.last == 0 { digits.removeLast() }
        if digits == [0] { point = 1 }
        return (digits, point)
    }

    /// `'f'` format, e.g. `90`, `0.001`, `123456789012345680000`.
    public static func plain(_ v: Double) -> String {
        guard v.isFinite else { return v.isNaN ? "NaN" : (v > 0 ? "+Inf" : "-Inf") }
        let (d, point) = digits(v)
        var s = v.sign == .minus && v != 0 ? "-" : ""
        if point <= 0 {
            s += "0." + String(repeating: "0", count: -point)
            s += d.map { String($0) }.joined()
        } else if point >= d.count {
            s += d.map { String($0) }.joined() + String(repeating: "0", count: point - d.count)
        } else {
            s += d[..<point].map { String($0) }.joined() + "." + d[point...].map { String($0) }.joined()
        }
        return s
    }

    /// `'e'` format with at least `minExponentDigits` exponent digits (Go's strconv uses 2, its JSON 1).
    public static func exponent(_ v: Double, minExponentDigits: Int = 2) -> String {
        let (d, point) = digits(v)
        var s = v.sign == .minus ? "-" : ""
        s += String(d[0])
        if d.count > 1 { s += "." + d[1...].map { String($0) }.joined() }
        let e = point - 1
        s += e < 0 ? "e-" : "e+"
        let ed = String(abs(e))
        s += String(repeating: "0", count: max(0, minExponentDigits - ed.count)) + ed
        return s
    }
}
