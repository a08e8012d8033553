/// One value of an alert handler's options: what a TICKscript property sets, or what a topic handler's
/// YAML/JSON `options` hold (Kapacitor's handler option structs decode the same keys from both).
public indirect enum HandlerOption: Sendable, Hashable {
    case string(String)
    case int(Int64)
    case float(Double)
    case bool(Bool)
    /// Nanoseconds.
    case duration(Int64)
    case list([HandlerOption])
    case object([String: HandlerOption])
}

/// A handler's options that a service refuses: `option` names the key at fault, when one is (a script error then
/// points at the property that set it).
public struct HandlerOptionError: Error, Sendable, Hashable, CustomStringConvertible {
    public var option: String?
    public var message: String

    public init(_ message: String, option: String? = nil) {
        self.message = message
        self.option = option
    }

    public var description: String { message }
}

extension HandlerOption {
    /// The string, or `nil` for another type.
    public var string: String? { if case .string(let s) = self { s } else { nil } }

    public var bool: Bool? { if case .bool(let b) = self { b } else { nil } }

    /// An int (or a float that is whole).
    public var int: Int64? {
        switch self {
        case .int(let i): i
        case .float(let f) where f == f.rounded() && abs(f) < 9e18: Int64(f)
        default: nil
        }
    }

    public var double: Double? {
        switch self {
        case .int(let i): Double(i)
        case .float(let f): f
        default: nil
        }
    }

    /// Nanoseconds: a duration, or a Go duration string such as `10s` (topic handler files write them so).
    public var duration: Int64? {
        switch self {
        case .duration(let d): d
        case .int(let i): i
        case .string(let s): GoDuration.parse(s)
        default: nil
        }
    }

    /// A list of strings (a single string counts as a list of one).
    public var strings: [String]? {
        switch self {
        case .string(let s): [s]
        case .list(let items):
            items.allSatisfy { $0.string != nil } ? items.map { $0.string! } : nil
        default: nil
        }
    }

    /// An object of strings (`headers`, `metadata`).
    public var stringMap: [String: String]? {
        guard case .object(let o) = self else { return nil }
        var out: [String: String] = [:]
        for (k, v) in o {
            switch v {
            case .string(let s): out[k] = s
            case .int(let i): out[k] = String(i)
            case .float(let f): out[k] = String(f)
            case .bool(let b): out[k] = String(b)
            default: return nil
            }
        }
        return out
    }
}
