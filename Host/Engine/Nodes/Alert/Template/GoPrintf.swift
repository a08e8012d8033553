/// Go's `fmt.Sprintf` for the verbs alert templates use: `%v %s %q %d %x %X %o %b %c %f %F %e %E %g %G %t %%`,
/// with flags `+ - # 0 space`, width and precision. Mismatches print as Go does: `%!d(float64=1.5)`.
enum GoPrintf {
    static func format(_ format: String, _ args: [TemplateValue]) -> String {
        let f = Array(format.unicodeScalars)
        var out = ""
        var argIndex = 0
        var i = 0
        while i < f.count {
            let c = f[i]
            if c != "%" {
                out.unicodeScalars.append(c)
                i += 1
                continue
            }
            i += 1
            guard i < f.count else { out += "%!(NOVERB)"; break }
            var spec = Spec()
            flags: while i < f.count {
                switch f[i] {
                case "+": spec.plus = true
                case "-": spec.minus = true
                case "#": spec.sharp = true
                case "0": spec.zero = true
                case " ": spec.space = true
                default: break flags
                }
                i += 1
            }
            spec.width = readNumber(f, &i)
            if i < f.count && f[i] == "." {
                i += 1
                spec.precision = readNumber(f, &i) ?? 0
            }
            guard i < f.count else { out += "%!(NOVERB)"; break }
            let verb = f[i]
            i += 1
            if verb == "%" {
                out += "%"
                continue
            }
            guard argIndex < args.count else {
                out += "%!\(verb)(MISSING)"
                continue
            }
            out += formatOne(args[argIndex], verb: verb, spec: spec)
            argIndex += 1
        }
        if argIndex < args.count {
            out += "%!(EXTRA " + args[argIndex...].map { "\($0.goTypeName)=\($0.goString)" }.joined(separator: ", ") + ")"
        }
        return out
    }

    private struct Spec {
        var plus = false, minus = false, sharp = false, zero = false, space = false
        var width: Int?
        var precision: Int?
    }

    private static func readNumber(_ f: [Unicode.Scalar], _ i: inout Int) -> Int? {
        var n: Int? = nil
        while i < f.count, f[i] >= "0", f[i] <= "9" {
            // Go refuses widths and precisions past 1e6; clamping there keeps a hostile one from overflowing.
            n = Swift.min((n ?? 0) * 10 + Int(f[i].value - 48), 1_000_000)
            i += 1
        }
        return n
    }

    private static func bad(_ verb: Unicode.Scalar, _ v: TemplateValue) -> String {
        if case .null = v { return "%!\(verb)(<nil>)" }
        return "%!\(verb)(\(v.goTypeName)=\(v.goString))"
    }

    private static func formatOne(_ v: TemplateValue, verb: Unicode.Scalar, spec: Spec) -> String {
        switch verb {
        case "v":
            switch v {
            case .int(let n): return pad(signed(String(n.magnitude), negative: n < 0, spec), spec, numeric: true)
            case .float(let d): return pad(signed(GoFormat.floatV(d.magnitude), negative: d.sign == .minus, spec), spec, numeric: true)
            default: return pad(v.goString, spec, numeric: false)
            }
        case "s":
            switch v {
            case .string, .duration, .time, .stringMap, .anyMap, .record:
                var s = v.goString
                if let p = spec.precision { s = String(s.unicodeScalars.prefix(p)) }
                return pad(s, spec, numeric: false)
            default: return bad(verb, v)
            }
        case "q":
            if case .string(let s) = v { return pad(GoFormat.quote(s), spec, numeric: false) }
            return bad(verb, v)
        case "t":
            if case .bool(let b) = v { return pad(b ? "true" : "false", spec, numeric: false) }
            return bad(verb, v)
        case "d", "x", "X", "o", "b", "c":
            let n: (UInt64, Bool)?
            switch v {
            case .int(let i): n = (i.magnitude, i < 0)
            case .duration(let i): n = (i.magnitude, i < 0)
            case .uint(let u): n = (u, false)
            default: n = nil
            }
            if let (mag, negative) = n {
                var digits: String
                switch verb {
                case "x": digits = String(mag, radix: 16)
                case "X": digits = String(mag, radix: 16, uppercase: true)
                case "o": digits = String(mag, radix: 8)
                case "b": digits = String(mag, radix: 2)
                case "c": return pad(Unicode.Scalar(UInt32(truncatingIfNeeded: mag)).map { String($0) } ?? "\u{FFFD}", spec, numeric: false)
                default: digits = String(mag)
                }
                if spec.sharp && (verb == "x" || verb == "X") { digits = (verb == "x" ? "0x" : "0X") + digits }
                if let p = spec.precision, digits.count < p { digits = String(repeating: "0", count: p - digits.count) + digits }
                return pad(signed(digits, negative: negative, spec), spec, numeric: spec.precision == nil)
            }
            if case .string(let s) = v, verb == "x" || verb == "X" {
                let hex = s.utf8.map { b -> String in
                    let h = String(b, radix: 16, uppercase: verb == "X")
                    return h.count < 2 ? "0" + h : h
                }.joined()
                return pad(hex, spec, numeric: false)
            }
            return bad(verb, v)
        case "f", "F", "e", "E", "g", "G":
            let d: Double
            switch v {
            case .float(let x): d = x
            default: return bad(verb, v)
            }
            let body: String
            switch verb {
            case "f", "F": body = GoFormat.floatF(d.magnitude, precision: spec.precision ?? 6)
            case "e", "E": body = GoFormat.floatE(d.magnitude, precision: spec.precision ?? 6, upper: verb == "E")
            default:
                let g = GoFormat.floatG(d.magnitude, precision: spec.precision)
                body = verb == "G" ? g.uppercased() : g
            }
            return pad(signed(body, negative: d.sign == .minus && !d.isNaN, spec), spec, numeric: d.isFinite)
        default:
            return bad(verb, v)
        }
    }

    private static func signed(_ digits: String, negative: Bool, _ spec: Spec) -> String {
        if negative { return "-" + digits }
        if spec.plus { return "+" + digits }
        if spec.space { return " " + digits }
        return digits
    }

    /// Pads to the width: spaces on the left (or right with `-`), zeros after the sign with `0`.
    private static func pad(_ s: String, _ spec: Spec, numeric: Bool) -> String {
        guard let w = spec.width else { return s }
        let n = s.unicodeScalars.count
        guard n < w else { return s }
        let fill = w - n
        if spec.minus { return s + String(repeating: " ", count: fill) }
        if spec.zero && numeric {
            if let first = s.first, first == "-" || first == "+" || first == " " {
                return String(first) + String(repeating: "0", count: fill) + s.dropFirst()
            }
            return String(repeating: "0", count: fill) + s
        }
        return String(repeating: " ", count: fill) + s
    }
}
