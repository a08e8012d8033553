import Foundation
import TockModel

/// A built-in lambda function: how many arguments, their static types, and a factory for its (stateful) body.
struct LambdaFunction {
    typealias Body = ([LValue]) throws -> LValue
    var arity: ClosedRange<Int>
    /// Accepted types per argument position; an empty entry accepts anything.
    var argumentTypes: [[LType]]?
    var returns: LType
    var stateful = false
    var make: () -> Body
}

/// The built-in functions of `tick/stateful/functions.go`.
enum LambdaFunctions {
    // Immutable after initialization; the closures it holds capture only constants.
    nonisolated(unsafe) static let table: [String: LambdaFunction] = {
        var t: [String: LambdaFunction] = [:]
        func stateless(_ name: String, _ arity: ClosedRange<Int>, _ types: [[LType]]?, _ returns: LType, _ body: @escaping LambdaFunction.Body) {
            t[name] = LambdaFunction(arity: arity, argumentTypes: types, returns: returns, make: { body })
        }
        // Math on floats only, as Kapacitor: `abs("count")` on an integer field is an error.
        let math1: [(String, (Double) -> Double)] = [
            ("abs", { Swift.abs($0) }), ("acos", acos), ("acosh", acosh), ("asin", asin), ("asinh", asinh), ("atan", atan),
            ("atanh", atanh), ("cbrt", cbrt), ("ceil", { $0.rounded(.up) }), ("cos", cos), ("cosh", cosh), ("erf", erf),
            ("erfc", erfc), ("exp", exp), ("exp2", exp2), ("expm1", expm1), ("floor", { $0.rounded(.down) }),
            ("gamma", tgamma), ("j0", j0), ("j1", j1), ("log", log), ("log10", log10), ("log1p", log1p), ("log2", log2),
            ("logb", logb), ("sin", sin), ("sinh", sinh), ("sqrt", { $0.squareRoot() }), ("tan", tan), ("tanh", tanh),
            ("trunc", { $0.rounded(.towardZero) }), ("y0", y0), ("y1", y1),
        ]
        for (name, f) in math1 {
            stateless(name, 1...1, [[.float]], .float) { a in .float(f(try float(a[0], 1, name))) }
        }
        let math2: [(String, (Double, Double) -> Double)] = [
            ("atan2", atan2), ("hypot", hypot), ("pow", pow), ("mod", fmod),
            ("max", { x, y in x.isNaN || y.isNaN ? .nan : Swift.max(x, y) }),
            ("min", { x, y in x.isNaN || y.isNaN ? .nan : Swift.min(x, y) }),
        ]
        for (name, f) in math2 {
            stateless(name, 2...2, [[.float], [.float]], .float) { a in
                .float(f(try float(a[0], 1, name), try float(a[1], 2, name)))
            }
        }
        for (name, f) in [("jn", jn), ("yn", yn)] as [(String, (Int32, Double) -> Double)] {
            stateless(name, 2...2, [[.int], [.float]], .float) { a in
                .float(f(Int32(clamping: try int(a[0], 1, name)), try float(a[1], 2, name)))
            }
        }
        stateless("pow10", 1...1, [[.int]], .float) { a in .float(pow(10, Double(try int(a[0], 1, "pow10")))) }

        // Strings (byte offsets, as Go's strings package).
        let s2b: [(String, (String, String) -> Bool)] = [
            ("strContains", { $1.isEmpty || GoStrings.index($0, $1) >= 0 }),
            ("strContainsAny", { s, chars in s.unicodeScalars.contains { chars.unicodeScalars.contains($0) } }),
            ("strHasPrefix", { $0.utf8.starts(with: $1.utf8) }),
            ("strHasSuffix", { $0.utf8.reversed().starts(with: $1.utf8.reversed()) }),
        ]
        for (name, f) in s2b {
            stateless(name, 2...2, [[.string], [.string]], .bool) { a in .bool(f(try str(a[0], 1, name), try str(a[1], 2, name))) }
        }
        let s2i: [(String, (String, String) -> Int)] = [
            ("strCount", GoStrings.count), ("strIndex", GoStrings.index), ("strIndexAny", GoStrings.indexAny),
            ("strLastIndex", GoStrings.lastIndex), ("strLastIndexAny", GoStrings.lastIndexAny),
        ]
        for (name, f) in s2i {
            stateless(name, 2...2, [[.string], [.string]], .int) { a in .int(Int64(f(try str(a[0], 1, name), try str(a[1], 2, name)))) }
        }
        let s2s: [(String, (String, String) -> String)] = [
            ("strTrim", { GoStrings.trimRight(GoStrings.trimLeft($0, $1), $1) }), ("strTrimLeft", GoStrings.trimLeft),
            ("strTrimRight", GoStrings.trimRight),
            ("strTrimPrefix", { $0.utf8.starts(with: $1.utf8) ? String(decoding: Array($0.utf8).dropFirst($1.utf8.count), as: UTF8.self) : $0 }),
            ("strTrimSuffix", { $0.utf8.reversed().starts(with: $1.utf8.reversed()) ? String(decoding: Array($0.utf8).dropLast($1.utf8.count), as: UTF8.self) : $0 }),
        ]
        for (name, f) in s2s {
            stateless(name, 2...2, [[.string], [.string]], .string) { a in .string(f(try str(a[0], 1, name), try str(a[1], 2, name))) }
        }
        let s1s: [(String, (String) -> String)] = [
            ("strToLower", { $0.lowercased() }), ("strToUpper", { $0.uppercased() }),
            ("strTrimSpace", { $0.trimmingCharacters(in: .whitespacesAndNewlines) }),
        ]
        for (name, f) in s1s {
            stateless(name, 1...1, [[.string]], .string) { a in .string(f(try str(a[0], 1, name))) }
        }
        stateless("strLength", 1...1, [[.string]], .int) { a in .int(Int64(try str(a[0], 1, "strLength").utf8.count)) }
        stateless("strReplace", 4...4, [[.string], [.string], [.string], [.int]], .string) { a in
            .string(GoStrings.replace(try str(a[0], 1, "strReplace"), try str(a[1], 2, "strReplace"),
                                      try str(a[2], 3, "strReplace"), Int(try int(a[3], 4, "strReplace"))))
        }
        stateless("strSubstring", 3...3, [[.string], [.int], [.int]], .string) { a in
            let s = Array(try str(a[0], 1, "strSubstring").utf8)
            let start = try int(a[1], 2, "strSubstring"), stop = try int(a[2], 3, "strSubstring")
            if start < 0 { throw LambdaError("found negative index for strSubstring: \(start)") }
            if stop < 0 { throw LambdaError("found negative index for strSubstring: \(stop)") }
            if stop > s.count { throw LambdaError("stop index too large for string in strSubstring: \(stop)") }
            if start > stop { throw LambdaError("start index \(start) after stop index \(stop) in strSubstring") }
            return .string(String(decoding: s[Int(start)..<Int(stop)], as: UTF8.self))
        }
        stateless("regexReplace", 3...3, [[.regex], [.string], [.string]], .string) { a in
            guard case .regex(let r) = a[0] else { throw LambdaError("cannot pass \(a[0].type.description) as argument 1 to regexReplace, must be regex") }
            return .string(r.replaceAll(try str(a[1], 2, "regexReplace"), with: try str(a[2], 3, "regexReplace")))
        }

        // Time, in UTC.
        let timeParts: [(String, (Int64) -> Int64)] = [
            ("minute", { RFC3339Nano.floorDivMod($0, GoDuration.hour).1 / GoDuration.minute }),
            ("hour", { RFC3339Nano.floorDivMod($0, 24 * GoDuration.hour).1 / GoDuration.hour }),
            ("weekday", { RFC3339Nano.floorDivMod(RFC3339Nano.floorDivMod($0, 24 * GoDuration.hour).0 + 4, 7).1 }),
            ("day", { RFC3339Nano.civil(fromDays: RFC3339Nano.floorDivMod($0, 24 * GoDuration.hour).0).day }),
            ("month", { RFC3339Nano.civil(fromDays: RFC3339Nano.floorDivMod($0, 24 * GoDuration.hour).0).month }),
            ("year", { RFC3339Nano.civil(fromDays: RFC3339Nano.floorDivMod($0, 24 * GoDuration.hour).0).year }),
            ("unixNano", { $0 }),
        ]
        for (name, f) in timeParts {
            stateless(name, 1...1, [[.time]], .int) { a in
                guard case .time(let t) = a[0] else { throw LambdaError("cannot convert \(a[0].type.description) to time") }
                return .int(f(t))
            }
        }
        stateless("now", 0...0, nil, .time) { _ in
            .time(Int64((Date().timeIntervalSince1970 * 1e9).rounded()))
        }
        stateless("rand", 0...0, nil, .int) { _ in .int(Int64.random(in: 0...Int64.max)) }
        stateless("humanBytes", 1...1, [[.float, .int]], .string) { a in
            switch a[0] {
            case .float(let v):
                // Converting a float past UInt64's range (or NaN) would trap: clamp first.
                let bytes: UInt64 = v.isNaN || v < 0 ? 0 : v >= 18_446_744_073_709_551_615 ? .max : UInt64(v)
                return .string(humanBytes(bytes))
            case .int(let v): return .string(humanBytes(UInt64(bitPattern: v)))
            default: throw LambdaError("cannot convert \(a[0].type.description) to humanBytes")
            }
        }
        stateless("if", 3...3, [[.bool], [], []], .unknown) { a in
            guard case .bool(let c) = a[0] else {
                throw LambdaError("first argument to if must be a condition with type of bool - got \(a[0].type.description)")
            }
            guard a[1].type == a[2].type else {
                throw LambdaError("different return types are not supported: second argument is \(a[1].type.description) and third argument is \(a[2].type.description)")
            }
            return c ? a[1] : a[2]
        }

        // Conversions.
        stateless("bool", 1...1, nil, .bool, Conversions.bool)
        stateless("int", 1...1, nil, .int, Conversions.int)
        stateless("float", 1...1, nil, .float, Conversions.float)
        stateless("string", 1...1, nil, .string, Conversions.string)
        stateless("duration", 1...2, [[], [.duration]], .duration, Conversions.duration)

        // Stateful: one state per Lambda instance.
        t["count"] = LambdaFunction(arity: 0...0, argumentTypes: nil, returns: .int, stateful: true, make: {
            var n: Int64 = 0
            return { _ in n += 1; return .int(n) }
        })
        t["sigma"] = LambdaFunction(arity: 1...1, argumentTypes: [[.float]], returns: .float, stateful: true, make: {
            var n = 0.0, mean = 0.0, m2 = 0.0
            return { a in
                let x = try float(a[0], 1, "sigma")
                n += 1
                let delta = x - mean
                mean += delta / n
                m2 += delta * (x - mean)
                let variance = m2 / (n - 1)
                if n < 2 || variance == 0 { return .float(0) }
                return .float(Swift.abs(x - mean) / variance.squareRoot())
            }
        })
        t["spread"] = LambdaFunction(arity: 1...1, argumentTypes: [[.float]], returns: .float, stateful: true, make: {
            var lo = Double.infinity, hi = -Double.infinity
            return { a in
                let x = try float(a[0], 1, "spread")
                if x < lo { lo = x }
                if x > hi { hi = x }
                return .float(hi - lo)
            }
        })
        return t
    }()

    static func float(_ v: LValue, _ position: Int, _ name: String) throws -> Double {
        if case .float(let d) = v { return d }
        throw LambdaError("cannot pass \(v.type.description) as argument \(position) to \(name), must be float")
    }

    static func int(_ v: LValue, _ position: Int, _ name: String) throws -> Int64 {
        if case .int(let i) = v { return i }
        throw LambdaError("cannot pass \(v.type.description) as argument \(position) to \(name), must be int")
    }

    static func str(_ v: LValue, _ position: Int, _ name: String) throws -> String {
        if case .string(let s) = v { return s }
        throw LambdaError("cannot pass \(v.type.description) as argument \(position) to \(name), must be string")
    }

    /// go-humanize's `Bytes`: SI units, one decimal below 10 (`82 MB`, `1.5 kB`, `9 B`).
    static func humanBytes(_ s: UInt64) -> String {
        if s < 10 { return "\(s) B" }
        let sizes = ["B", "kB", "MB", "GB", "TB", "PB", "EB"]
        let e = Int((Foundation.log(Double(s)) / Foundation.log(1000.0)).rounded(.down))
        let val = (Double(s) / pow(1000, Double(e)) * 10 + 0.5).rounded(.down) / 10
        return String(format: val < 10 ? "%.1f" : "%.0f", val) + " " + sizes[e]
    }
}
