import Foundation
import TockModel

/// A value inside a lambda: the field types plus the durations, times and regexes TICKscript has.
enum LValue {
    case float(Double)
    case int(Int64)
    case string(String)
    case bool(Bool)
    /// Nanoseconds.
    case duration(Int64)
    /// Nanoseconds since the epoch.
    case time(Int64)
    case regex(CompiledRegex)

    init(_ field: FieldValue) {
        switch field {
        case .double(let v): self = .float(v)
        case .int(let v): self = .int(v)
        // Kapacitor's lambdas know no unsigned type; values that fit are ints.
        case .uint(let v): self = v <= UInt64(Int64.max) ? .int(Int64(v)) : .float(Double(v))
        case .string(let v): self = .string(v)
        case .bool(let v): self = .bool(v)
        }
    }

    var type: LType {
        switch self {
        case .float: .float
        case .int: .int
        case .string: .string
        case .bool: .bool
        case .duration: .duration
        case .time: .time
        case .regex: .regex
        }
    }

    /// The value as a field; durations and times become integer nanoseconds.
    func fieldValue() throws -> FieldValue {
        switch self {
        case .float(let v): return .double(v)
        case .int(let v): return .int(v)
        case .string(let v): return .string(v)
        case .bool(let v): return .bool(v)
        case .duration(let v): return .int(v)
        case .time(let v): return .int(v)
        case .regex: throw LambdaError("a regex cannot be a field value")
        }
    }
}

/// The static type of a lambda expression; `unknown` where it depends on the data (a field reference).
enum LType: String, Equatable {
    case float, int, string, bool = "boolean", duration, time, regex, unknown = "missing"

    var description: String { rawValue }
}

/// A lambda failed on a point: a missing field, a type mismatch, a bad conversion.
public struct LambdaError: Error, Sendable, Hashable, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// A regex compiled once from TICKscript's RE2 syntax.
final class CompiledRegex: @unchecked Sendable {
    let pattern: String
    let regex: NSRegularExpression

    /// Compiles `pattern` (as written between the slashes); `\/` stands for `/`, `(?P<name>` for a named group.
    init(_ pattern: String) throws {
        self.pattern = pattern
        let icu = pattern.replacingOccurrences(of: "\\/", with: "/").replacingOccurrences(of: "(?P<", with: "(?<")
        do {
            regex = try NSRegularExpression(pattern: icu)
        } catch {
            throw LambdaError("invalid regex /\(pattern)/")
        }
    }

    func matches(_ s: String) -> Bool {
        let ns = s as NSString
        return regex.firstMatch(in: s, range: NSRange(location: 0, length: ns.length)) != nil
    }

    /// Replaces every match, expanding `$1` and `${1}` in `template` as Go's `ReplaceAllString` does.
    func replaceAll(_ s: String, with template: String) -> String {
        var t = ""
        var chars = template[...]
        while let c = chars.first {
            chars = chars.dropFirst()
            if c == "\\" {
                t += "\\\\"
            } else if c == "$", chars.first == "{", let close = chars.firstIndex(of: "}") {
                t += "$" + chars[chars.index(after: chars.startIndex)..<close]
                chars = chars[chars.index(after: close)...]
            } else {
                t.append(c)
            }
        }
        let ns = s as NSString
        return regex.stringByReplacingMatches(in: s, range: NSRange(location: 0, length: ns.length), withTemplate: t)
    }
}
