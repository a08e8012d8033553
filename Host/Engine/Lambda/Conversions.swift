import Foundation
import TockModel

/// The cast functions `bool int float string duration`, as Kapacitor converts.
enum Conversions {
    static func bool(_ a: [LValue]) throws -> LValue {
        switch a[0] {
        case .bool(let b): return .bool(b)
        case .string(let s):
            switch s {
            case "1", "t", "T", "TRUE", "true", "True": return .bool(true)
            case "0", "f", "F", "FALSE", "false", "False": return .bool(false)
            default: throw LambdaError("cannot convert string \"\(s)\" to boolean")
            }
        case .int(let i) where i == 0 || i == 1: return .bool(i == 1)
        case .float(let f) where f == 0 || f == 1: return .bool(f == 1)
        case .int(let i): throw LambdaError("cannot convert \(i) to boolean")
        case .float(let f): throw LambdaError("cannot convert \(GoFloat.plain(f)) to boolean")
        case let v: throw LambdaError("cannot convert \(v.type.description) to boolean")
        }
    }

    static func int(_ a: [LValue]) throws -> LValue {
        switch a[0] {
        case .int(let i): return .int(i)
        case .float(let f):
            guard f.isFinite, f > -9.3e18, f < 9.3e18 else { throw LambdaError("cannot convert \(f) to integer") }
            return .int(Int64(f.rounded(.towardZero)))
        case .string(let s):
            guard let i = Int64(s) else { throw LambdaError("cannot convert string \"\(s)\" to integer") }
            return .int(i)
        case .bool(let b): return .int(b ? 1 : 0)
        case .duration(let d): return .int(d)
        case let v: throw LambdaError("cannot convert \(v.type.description) to integer")
        }
    }

    static func float(_ a: [LValue]) throws -> LValue {
        switch a[0] {
        case .int(let i): return .float(Double(i))
        case .float(let f): return .float(f)
        case .string(let s):
            guard let f = Double(s) else { throw LambdaError("cannot convert string \"\(s)\" to float") }
            return .float(f)
        case .bool(let b): return .float(b ? 1 : 0)
        case let v: throw LambdaError("cannot convert \(v.type.description) to float")
        }
    }

    static func string(_ a: [LValue]) throws -> LValue {
        switch a[0] {
        case .int(let i): return .string(String(i))
        case .float(let f): return .string(GoFloat.plain(f))
        case .bool(let b): return .string(b ? "true" : "false")
        case .duration(let d): return .string(formatDuration(d))
        case .string(let s): return .string(s)
        case let v: throw LambdaError("cannot convert \(v.type.description) to string")
        }
    }

    static func duration(_ a: [LValue]) throws -> LValue {
        func unit() throws -> Int64 {
            guard a.count == 2 else { throw LambdaError("duration expects unit argument for int and float values") }
            guard case .duration(let u) = a[1] else { throw LambdaError("invalid duration unit type: \(a[1].type.description)") }
            return u
        }
        switch a[0] {
        case .duration(let d): return .duration(d)
        case .int(let i): return .duration(i &* (try unit()))
        case .float(let f): return .duration(Int64(clamping: Int64(exactly: (f * Double(try unit())).rounded(.towardZero)) ?? 0))
        case .string(let s):
            guard let d = parseDuration(s) else { throw LambdaError("invalid duration string \"\(s)\"") }
            return .duration(d)
        case let v: throw LambdaError("cannot convert \(v.type.description) to duration")
        }
    }

    /// InfluxQL duration literals: `10s`, `1h30m`, `5u`, `2w`.
    static func parseDuration(_ s: String) -> Int64? {
        let b = Array(s.utf8)
        guard !b.isEmpty else { return nil }
        var i = 0, total: Int64 = 0
        while i < b.count {
            var n: Int64 = 0, digits = 0
            while i < b.count, b[i] >= 48, b[i] <= 57 { n = n * 10 + Int64(b[i] - 48); i += 1; digits += 1 }
            guard digits > 0, i < b.count else { return nil }
            let unit: Int64
            if b[i] == UInt8(ascii: "m"), i + 1 < b.count, b[i + 1] == UInt8(ascii: "s") {
                unit = GoDuration.millisecond; i += 2
            } else if b[i] == UInt8(ascii: "n"), i + 1 < b.count, b[i + 1] == UInt8(ascii: "s") {
                unit = 1; i += 2
            } else if b[i] == 0xC2, i + 1 < b.count, b[i + 1] == 0xB5 {
                unit = GoDuration.microsecond; i += 2
            } else {
                switch b[i] {
                case UInt8(ascii: "u"): unit = GoDuration.microsecond
                case UInt8(ascii: "s"): unit = GoDuration.second
                case UInt8(ascii: "m"): unit = GoDuration.minute
                case UInt8(ascii: "h"): unit = GoDuration.hour
                case UInt8(ascii: "d"): unit = 24 * GoDuration.hour
                case UInt8(ascii: "w"): unit = 7 * 24 * GoDuration.hour
                default: return nil
                }
                i += 1
            }
            total += n * unit
        }
        return total
    }

    /// InfluxQL's duration spelling: the largest unit that divides evenly (`1w`, `90m`, `1500ms`).
    static func formatDuration(_ d: Int64) -> String {
        if d == 0 { return "0s" }
        let units: [(Int64, String)] = [
            (7 * 24 * GoDuration.hour, "w"), (24 * GoDuration.hour, "d"), (GoDuration.hour, "h"), (GoDuration.minute, "m"),
            (GoDuration.second, "s"), (GoDuration.millisecond, "ms"), (GoDuration.microsecond, "u"),
        ]
        for (u, name) in units where d % u == 0 { return "\(d / u)\(name)" }
        return "\(d)ns"
    }
}

/// Go's `strings` functions on UTF-8 bytes (indexes are byte offsets).
enum GoStrings {
    static func index(_ s: String, _ sub: String) -> Int {
        let a = Array(s.utf8), b = Array(sub.utf8)
        if b.isEmpty { return 0 }
        guard a.count >= b.count else { return -1 }
        for i in 0...(a.count - b.count) where a[i] == b[0] && Array(a[i..<(i + b.count)]) == b { return i }
        return -1
    }

    static func lastIndex(_ s: String, _ sub: String) -> Int {
        let a = Array(s.utf8), b = Array(sub.utf8)
        if b.isEmpty { return a.count }
        guard a.count >= b.count else { return -1 }
        for i in stride(from: a.count - b.count, through: 0, by: -1) where Array(a[i..<(i + b.count)]) == b { return i }
        return -1
    }

    static func indexAny(_ s: String, _ chars: String) -> Int {
        var offset = 0
        for c in s.unicodeScalars {
            if chars.unicodeScalars.contains(c) { return offset }
            offset += String(c).utf8.count
        }
        return -1
    }

    static func lastIndexAny(_ s: String, _ chars: String) -> Int {
        var offset = 0, found = -1
        for c in s.unicodeScalars {
            if chars.unicodeScalars.contains(c) { found = offset }
            offset += String(c).utf8.count
        }
        return found
    }

    static func count(_ s: String, _ sub: String) -> Int {
        if sub.isEmpty { return s.unicodeScalars.count + 1 }
        var n = 0
        var rest = Substring(s)
        while let r = rest.range(of: sub) {
            n += 1
            rest = rest[r.upperBound...]
        }
        return n
    }

    static func replace(_ s: String, _ old: String, _ new: String, _ n: Int) -> String {
        if n == 0 || old == new { return s }
        if old.isEmpty {
            var out = "", done = 0
            for c in s.unicodeScalars {
                if n < 0 || done < n { out += new; done += 1 }
                out.unicodeScalars.append(c)
            }
            if n < 0 || done < n { out += new }
            return out
        }
        var out = "", done = 0
        var rest = Substring(s)
        while n < 0 || done < n, let r = rest.range(of: old) {
            out += rest[..<r.lowerBound]
            out += new
            rest = rest[r.upperBound...]
            done += 1
        }
        return out + rest
    }

    static func trimLeft(_ s: String, _ cutset: String) -> String {
        let scalars = s.unicodeScalars
        let start = scalars.firstIndex { !cutset.unicodeScalars.contains($0) } ?? scalars.endIndex
        return String(scalars[start...])
    }

    static func trimRight(_ s: String, _ cutset: String) -> String {
        let scalars = s.unicodeScalars
        guard let last = scalars.lastIndex(where: { !cutset.unicodeScalars.contains($0) }) else { return "" }
        return String(scalars[...last])
    }
}
