import TockModel

/// A collector's plugin options, as its `[[collectors.NAME]]` section gives them, read with typed accessors that
/// name the collector and the key when a value has the wrong type; ``finish()`` refuses the keys nobody read.
public struct CollectorOptions: Sendable, Equatable {
    /// One option's value, as TOML gives it.
    public enum Value: Sendable, Hashable {
        case bool(Bool)
        case int(Int64)
        case double(Double)
        case string(String)
        case strings([String])
    }

    public let collector: String
    private let values: [String: Value]
    private var read: Set<String> = []

    public init(collector: String, _ values: [String: Value] = [:]) {
        self.collector = collector
        self.values = values
    }

    public mutating func bool(_ key: String, default value: Bool) throws(CollectorError) -> Bool {
        read.insert(key)
        switch values[key] {
        case nil: return value
        case .bool(let b)?: return b
        case let other?: throw mistyped(key, other, "a boolean")
        }
    }

    public mutating func int(_ key: String, default value: Int64) throws(CollectorError) -> Int64 {
        read.insert(key)
        switch values[key] {
        case nil: return value
        case .int(let i)?: return i
        case let other?: throw mistyped(key, other, "an integer")
        }
    }

    public mutating func double(_ key: String, default value: Double) throws(CollectorError) -> Double {
        read.insert(key)
        switch values[key] {
        case nil: return value
        case .double(let d)?: return d
        case .int(let i)?: return Double(i)
        case let other?: throw mistyped(key, other, "a number")
        }
    }

    public mutating func string(_ key: String, default value: String) throws(CollectorError) -> String {
        read.insert(key)
        switch values[key] {
        case nil: return value
        case .string(let s)?: return s
        case let other?: throw mistyped(key, other, "a string")
        }
    }

    public mutating func strings(_ key: String, default value: [String]) throws(CollectorError) -> [String] {
        read.insert(key)
        switch values[key] {
        case nil: return value
        case .strings(let list)?: return list
        case .string(let s)?: return [s]
        case let other?: throw mistyped(key, other, "a list of strings")
        }
    }

    /// A duration in nanoseconds, read as Telegraf's `config.Duration` reads one: a Go duration string (`"5s"`,
    /// `"1m30s"`), or a number of seconds, as a TOML number or a string (`5`, `2.5`, `"10"`); `""` is 0.
    public mutating func duration(_ key: String, default value: Int64) throws(CollectorError) -> Int64 {
        read.insert(key)
        let ns: Int64?
        switch values[key] {
        case nil: return value
        case .int(let seconds)?: ns = seconds.multipliedReportingOverflow(by: 1_000_000_000).overflow ? nil : seconds * 1_000_000_000
        case .double(let seconds)?: ns = seconds.isFinite && abs(seconds) < 9e9 ? Int64(seconds * 1e9) : nil
        case .string(let text)?:
            if text.isEmpty { ns = 0 }
            else if let seconds = Int64(text) { ns = seconds.multipliedReportingOverflow(by: 1_000_000_000).overflow ? nil : seconds * 1_000_000_000 }
            else if let seconds = Double(text), seconds.isFinite, abs(seconds) < 9e9 { ns = Int64(seconds * 1e9) }
            else { ns = GoDuration.parse(text) }
        case let other?: throw mistyped(key, other, "a duration (\"5s\", or a number of seconds)")
        }
        guard let ns, ns >= 0 else {
            throw CollectorError(collector, "option \"\(key)\" must be a duration such as \"5s\" (or a number of seconds), not \(values[key].map(Self.shown) ?? "")")
        }
        return ns
    }

    /// A list of integers (`percentiles = [50, 95, 99]`).
    public mutating func ints(_ key: String, default value: [Int64]) throws(CollectorError) -> [Int64] {
        read.insert(key)
        switch values[key] {
        case nil: return value
        case .int(let i)?: return [i]
        case .strings(let list)?:
            var result: [Int64] = []
            for item in list {
                guard let i = Int64(item) else { throw CollectorError(collector, "option \"\(key)\" must be a list of integers, not [\(list.joined(separator: ", "))]") }
                result.append(i)
            }
            return result
        case let other?: throw mistyped(key, other, "a list of integers")
        }
    }

    static func shown(_ value: Value) -> String {
        switch value {
        case .bool(let b): String(b)
        case .int(let i): String(i)
        case .double(let d): String(d)
        case .string(let s): "\"\(s)\""
        case .strings(let list): "[" + list.joined(separator: ", ") + "]"
        }
    }

    /// Refuses any option no accessor asked for (a typo, or an option of another collector).
    public func finish() throws(CollectorError) {
        let unknown = values.keys.filter { !read.contains($0) }.sorted()
        guard let first = unknown.first else { return }
        let known = read.sorted()
        throw CollectorError(collector, "unknown option \"\(first)\"" + (known.isEmpty
            ? " (this collector takes no options)" : " (options: \(known.joined(separator: ", ")))"))
    }

    private func mistyped(_ key: String, _ value: Value, _ wanted: String) -> CollectorError {
        CollectorError(collector, "option \"\(key)\" must be \(wanted), not \(value.typeName)")
    }
}

extension CollectorOptions.Value {
    var typeName: String {
        switch self {
        case .bool: "a boolean"
        case .int: "an integer"
        case .double: "a float"
        case .string: "a string"
        case .strings: "a list"
        }
    }
}
