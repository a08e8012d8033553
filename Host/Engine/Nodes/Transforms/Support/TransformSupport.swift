import TockModel

/// Time arithmetic as Go's `time.Time` does it, which Kapacitor uses for tolerances and sampling.
///
/// Go rounds and truncates relative to its zero time (January 1 of year 1, UTC), not the Unix epoch;
/// for durations that divide a day the result is the same, for others (`7s`) it differs.
enum GoTime {
    /// Nanoseconds from Go's zero time to the Unix epoch.
    static let zeroToUnix: Int128 = 62_135_596_800 * 1_000_000_000

    /// The remainder of `t` (Unix ns) modulo `d`, counted from Go's zero time.
    static func remainder(_ t: Timestamp, _ d: Int64) -> Int64 {
        let r = (Int128(t) + zeroToUnix) % Int128(d)
        return Int64(r)
    }

    /// `t.Truncate(d)`: `t` unchanged when `d <= 0`.
    static func truncate(_ t: Timestamp, _ d: Int64) -> Timestamp {
        guard d > 0 else { return t }
        return t.saturatingSubtract(remainder(t, d))
    }

    /// `t.Round(d)`: the nearest multiple of `d`, halfway values rounding up; `t` unchanged when `d <= 0`.
    static func round(_ t: Timestamp, _ d: Int64) -> Timestamp {
        guard d > 0 else { return t }
        let r = remainder(t, d)
        if UInt64(r) + UInt64(r) < UInt64(d) { return t.saturatingSubtract(r) }
        return t.saturatingAdd(d - r)
    }
}

extension NodeConfiguration {
    /// The edge type a node emits, given what its spec provides.
    func outputType(_ provides: Provides) -> EdgeType {
        switch provides {
        case .stream: .stream
        case .batch: .batch
        case .same, .none: inputType
        }
    }

    /// The string positional argument at `index`.
    func stringArgument(_ index: Int) -> String? {
        guard index < arguments.count, case .string(let s) = arguments[index] else { return nil }
        return s
    }

    /// The int positional argument at `index`.
    func intArgument(_ index: Int) -> Int64? {
        guard index < arguments.count, case .int(let i) = arguments[index] else { return nil }
        return i
    }

    /// The duration positional argument at `index`.
    func durationArgument(_ index: Int) -> Int64? {
        guard index < arguments.count, case .duration(let d) = arguments[index] else { return nil }
        return d
    }

    /// A flag property such as `.nonNegative()` or `.dropOriginalFieldName(FALSE)`: set without
    /// arguments means true, otherwise its bool argument.
    func flag(_ name: String) -> Bool {
        guard let args = property(name) else { return false }
        if case .bool(let b)? = args.first { return b }
        return true
    }

    /// Every string argument from `index` on (`top(2, 'value', 'host', 'cpu')`'s tags).
    func stringArguments(from index: Int) -> [String] {
        guard index < arguments.count else { return [] }
        return arguments[index...].compactMap { if case .string(let s) = $0 { s } else { nil } }
    }
}

/// A data error inside a transformation node, reported the way Kapacitor's logs word it.
struct TransformError: Error, CustomStringConvertible, Sendable {
    var description: String
    init(_ description: String) { self.description = description }
}

extension FieldValue {
    /// Go's type name for the value, as Kapacitor's error messages print it.
    var goTypeName: String {
        switch self {
        case .double: "float64"
        case .int: "int64"
        case .uint: "uint64"
        case .string: "string"
        case .bool: "bool"
        }
    }
}
