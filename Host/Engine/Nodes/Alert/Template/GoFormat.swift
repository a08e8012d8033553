import Foundation
import TockModel

/// Go's `fmt` spellings of values: what `{{ .X }}`, `print` and `printf` write in a Go template.
enum GoFormat {
    /// `%v` of a float64: the shortest digits, in exponent form below 1e-4 or from 1e21
    /// (`61`, `0.5`, `1e+06`, `1.234567e+06`, `1e-05`).
    static func floatV(_ v: Double) -> String { floatG(v, precision: nil) }

    /// `%g` with an optional precision (significant digits), as Go's `strconv.FormatFloat(v, 'g', p, 64)`.
    static func floatG(_ v: Double, precision: Int?) -> String {
        if let special = nonFinite(v) { return special }
        var digits: [UInt8]
        var point: Int
        let shortest = precision == nil
        var prec: Int
        if let p = precision {
            prec = max(p, 1)
            (digits, point) = roundedDigits(v, significant: prec)
        } else {
            (digits, point) = GoFloat.digits(v)
            prec = digits.count
        }
        if v == 0 { digits = [0]; point = 1 }
        var eprec = prec
        if eprec > digits.count && digits.count >= point { eprec = digits.count }
        if shortest { eprec = 6 }
        let exp = point - 1
        let sign = v.sign == .minus ? "-" : ""
        if exp < -4 || exp >= eprec {
            if prec > digits.count { prec = digits.count }
            var s = sign + String(digits[0])
            if prec > 1 { s += "." + digits[1..<prec].map { String($0) }.joined() }
            return s + exponentSuffix(exp)
        }
        if prec > point { prec = digits.count }
        return sign + fixed(digits, point: point, decimals: max(prec - point, 0))
    }

    /// `%e` with `precision` decimals (`6.100000e+01`).
    static func floatE(_ v: Double, precision: Int, upper: Bool = false) -> String {
        if let special = nonFinite(v) { return special }
        let s = String(format: "%.\(precision)e", v)
        return upper ? s.uppercased() : s
    }

    /// `%f` with `precision` decimals.
    static func floatF(_ v: Double, precision: Int) -> String {
        if let special = nonFinite(v) { return special }
        return String(format: "%.\(precision)f", v)
    }

    private static func nonFinite(_ v: Double) -> String? {
        if v.isNaN { return "NaN" }
        if v.isInfinite { return v > 0 ? "+Inf" : "-Inf" }
        return nil
    }

    private static func exponentSuffix(_ e: Int) -> String {
        let digits = String(abs(e))
        return (e < 0 ? "e-" : "e+") + (digits.count < 2 ? "0" : "") + digits
    }

    /// The decimal digits of |v| rounded to `significant` digits, trailing zeros removed.
    private static func roundedDigits(_ v: Double, significant: Int) -> ([UInt8], Int) {
        let text = String(format: "%.\(significant - 1)e", abs(v))
        let parts = text.split(separator: "e")
        var digits = parts[0].unicodeScalars.compactMap { $0 == "." ? nil : UInt8($0.value - 48) }
        let exp = Int(parts[1]) ?? 0
        while digits.count > 1, digits.last == 0 { digits.removeLast() }
        return (digits, exp + 1)
    }

    private static func fixed(_ d: [UInt8], point: Int, decimals: Int) -> String {
        var s = ""
        if point <= 0 {
            s = "0"
        } else {
            for i in 0..<point { s += i < d.count ? String(d[i]) : "0" }
        }
        if decimals > 0 {
            s += "."
            for i in 0..<decimals {
                let k = point + i
                s += k >= 0 && k < d.count ? String(d[k]) : "0"
            }
        }
        return s
    }

    /// Go's `time.Time.String()` of a UTC time: `2016-01-01 00:00:10.5 +0000 UTC`.
    static func timeString(_ t: Timestamp) -> String {
        let rfc = RFC3339Nano.format(t)  // 2016-01-01T00:00:10.5Z
        return rfc.dropLast().replacingOccurrences(of: "T", with: " ") + " +0000 UTC"
    }

    /// `fmt.Sprint`: operands joined with a space where neither side is a string.
    static func sprint(_ args: [TemplateValue]) -> String {
        var out = ""
        for (i, a) in args.enumerated() {
            if i > 0, !isString(a), !isString(args[i - 1]) { out += " " }
            out += a.goString
        }
        return out
    }

    /// `fmt.Sprintln`: operands joined with spaces, then a newline.
    static func sprintln(_ args: [TemplateValue]) -> String {
        args.map(\.goString).joined(separator: " ") + "\n"
    }

    private static func isString(_ v: TemplateValue) -> Bool {
        if case .string = v { return true }
        return false
    }

    /// HTML escaping of `" ' & < >` and NUL. `html/template` in text context (`template.HTMLEscapeString`
    /// as it applies it) also escapes `+`; `text/template`'s `html` function does not.
    static func htmlEscape(_ s: String, escapingPlus: Bool = true) -> String {
        var out = ""
        for c in s.unicodeScalars {
            switch c {
            case "\"": out += "&#34;"
            case "'": out += "&#39;"
            case "&": out += "&amp;"
            case "+" where escapingPlus: out += "&#43;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\0": out += "\u{FFFD}"
            default: out.unicodeScalars.append(c)
            }
        }
        return out
    }

    /// `template.JSEscapeString`.
    static func jsEscape(_ s: String) -> String {
        var out = ""
        for c in s.unicodeScalars {
            switch c {
            case "\\": out += "\\\\"
            case "'": out += "\\'"
            case "\"": out += "\\\""
            case "<": out += "\\u003C"
            case ">": out += "\\u003E"
            case "&": out += "\\u0026"
            case "=": out += "\\u003D"
            default:
                if c.value < 0x20 {
                    let hex = String(c.value, radix: 16, uppercase: true)
                    out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
                } else {
                    out.unicodeScalars.append(c)
                }
            }
        }
        return out
    }

    /// `url.QueryEscape`.
    static func queryEscape(_ s: String) -> String {
        var out = ""
        for b in s.utf8 {
            switch b {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
                 UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "_"),
                 UInt8(ascii: "."), UInt8(ascii: "~"):
                out.unicodeScalars.append(Unicode.Scalar(b))
            case UInt8(ascii: " "):
                out += "+"
            default:
                let hex = String(b, radix: 16, uppercase: true)
                out += "%" + (hex.count < 2 ? "0" : "") + hex
            }
        }
        return out
    }

    /// Go's `strconv.Quote` for the characters alert data holds.
    static func quote(_ s: String) -> String {
        var out = "\""
        for c in s.unicodeScalars {
            switch c {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default:
                if c.value < 0x20 || c.value == 0x7f {
                    let hex = String(c.value, radix: 16)
                    out += "\\x" + (hex.count < 2 ? "0" : "") + hex
                } else {
                    out.unicodeScalars.append(c)
                }
            }
        }
        return out + "\""
    }
}
