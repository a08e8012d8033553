import Foundation
import Engine
import TockModel

/// A value of a kapacitor.conf section, as TOML gives it and as the config API shows and overrides it.
public indirect enum ConfigValue: Sendable, Hashable {
    case string(String)
    case int(Int64)
    case float(Double)
    case bool(Bool)
    case array([ConfigValue])
    case table(ConfigTable)
}

/// One table of a section: its keys and values.
public typealias ConfigTable = [String: ConfigValue]

/// A section that cannot be read: names the section, the key and what is wrong.
public struct ConfigError: Error, Sendable, Hashable, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// Typed reads of a section's table that refuse keys it does not know, with Kapacitor's defaults.
///
/// A string is read as the type asked for (`"true"`, `"10"`, `"a,b"`): environment variables give strings.
///
/// ```swift
/// var r = ConfigReader(table, section: "slack")
/// enabled = try r.bool("enabled", default: false)
/// try r.finish()   // refuses keys nobody read
/// ```
public struct ConfigReader {
    public let table: ConfigTable
    public let section: String
    private var read: Set<String> = []

    public init(_ table: ConfigTable, section: String) {
        self.table = table
        self.section = section
    }

    public mutating func string(_ key: String, default value: String = "") throws(ConfigError) -> String {
        read.insert(key)
        guard let v = table[key] else { return value }
        guard case .string(let s) = v else { throw ConfigError("[\(section)] \(key) must be a string") }
        return s
    }

    public mutating func bool(_ key: String, default value: Bool = false) throws(ConfigError) -> Bool {
        read.insert(key)
        guard let v = table[key] else { return value }
        if case .string(let text) = v, let b = Bool(text.lowercased()) { return b }
        guard case .bool(let b) = v else { throw ConfigError("[\(section)] \(key) must be true or false") }
        return b
    }

    public mutating func int(_ key: String, default value: Int64 = 0) throws(ConfigError) -> Int64 {
        read.insert(key)
        guard let v = table[key] else { return value }
        if case .string(let text) = v, let i = Int64(text) { return i }
        guard case .int(let i) = v else { throw ConfigError("[\(section)] \(key) must be an integer") }
        return i
    }

    /// A Go duration string (`"10s"`), or an integer of nanoseconds.
    public mutating func duration(_ key: String, default value: Int64 = 0) throws(ConfigError) -> Int64 {
        read.insert(key)
        guard let v = table[key] else { return value }
        switch v {
        case .string(let s):
            guard let d = GoDuration.parse(s) else { throw ConfigError("[\(section)] \(key): invalid duration \"\(s)\"") }
            return d
        case .int(let i): return i
        default: throw ConfigError("[\(section)] \(key) must be a duration such as \"10s\"")
        }
    }

    public mutating func strings(_ key: String, default value: [String] = []) throws(ConfigError) -> [String] {
        read.insert(key)
        guard let v = table[key] else { return value }
        if case .string(let text) = v {
            return text.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        }
        guard case .array(let items) = v else { throw ConfigError("[\(section)] \(key) must be an array of strings") }
        var out: [String] = []
        for item in items {
            guard case .string(let s) = item else { throw ConfigError("[\(section)] \(key) must be an array of strings") }
            out.append(s)
        }
        return out
    }

    public mutating func stringMap(_ key: String) throws(ConfigError) -> [String: String] {
        read.insert(key)
        guard let v = table[key] else { return [:] }
        guard case .table(let t) = v else { throw ConfigError("[\(section)] \(key) must be a table of strings") }
        var out: [String: String] = [:]
        for (k, item) in t {
            guard case .string(let s) = item else { throw ConfigError("[\(section)] \(key).\(k) must be a string") }
            out[k] = s
        }
        return out
    }

    /// Marks `key` as known without reading it.
    public mutating func skip(_ key: String) { read.insert(key) }

    /// Refuses keys that were never read.
    public func finish() throws(ConfigError) {
        let unknown = table.keys.filter { !read.contains($0) }.sorted()
        guard unknown.isEmpty else {
            throw ConfigError("[\(section)] unknown setting\(unknown.count > 1 ? "s" : "") \(unknown.joined(separator: ", ")) (known: \(read.sorted().joined(separator: ", ")))")
        }
    }
}

/// Reads a handler's options, refusing the ones the service does not take, and pointing errors at the option.
public struct OptionReader {
    public let options: [String: HandlerOption]
    public let kind: String
    private var read: Set<String> = []

    public init(_ options: [String: HandlerOption], kind: String) {
        self.options = options
        self.kind = kind
    }

    public mutating func string(_ key: String) throws(HandlerOptionError) -> String? {
        read.insert(key)
        guard let v = options[key] else { return nil }
        guard let s = v.string else { throw HandlerOptionError("\(kind) option \(key) must be a string", option: key) }
        return s
    }

    public mutating func bool(_ key: String) throws(HandlerOptionError) -> Bool? {
        read.insert(key)
        guard let v = options[key] else { return nil }
        guard let b = v.bool else { throw HandlerOptionError("\(kind) option \(key) must be true or false", option: key) }
        return b
    }

    public mutating func int(_ key: String) throws(HandlerOptionError) -> Int64? {
        read.insert(key)
        guard let v = options[key] else { return nil }
        guard let i = v.int else { throw HandlerOptionError("\(kind) option \(key) must be an integer", option: key) }
        return i
    }

    public mutating func duration(_ key: String) throws(HandlerOptionError) -> Int64? {
        read.insert(key)
        guard let v = options[key] else { return nil }
        guard let d = v.duration else { throw HandlerOptionError("\(kind) option \(key) must be a duration", option: key) }
        return d
    }

    public mutating func strings(_ key: String) throws(HandlerOptionError) -> [String]? {
        read.insert(key)
        guard let v = options[key] else { return nil }
        guard let s = v.strings else { throw HandlerOptionError("\(kind) option \(key) must be a list of strings", option: key) }
        return s
    }

    public mutating func stringMap(_ key: String) throws(HandlerOptionError) -> [String: String]? {
        read.insert(key)
        guard let v = options[key] else { return nil }
        guard let m = v.stringMap else { throw HandlerOptionError("\(kind) option \(key) must be a map of strings", option: key) }
        return m
    }

    /// The raw value (for lists of objects such as pagerduty2's `links`).
    public mutating func value(_ key: String) -> HandlerOption? {
        read.insert(key)
        return options[key]
    }

    /// Refuses options that were never read.
    public func finish() throws(HandlerOptionError) {
        let unknown = options.keys.filter { !read.contains($0) }.sorted()
        guard let first = unknown.first else { return }
        throw HandlerOptionError("\(kind) has no option \(unknown.joined(separator: ", ")) (options: \(read.sorted().joined(separator: ", ")))",
                                 option: first)
    }
}
