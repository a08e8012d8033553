import Foundation
import TOMLKit
import PluginSupervisor
import TockModel

/// What the host does when a UDF process fails while its task runs.
public enum RestartPolicy: String, Sendable, Hashable {
    /// End the task with the error, as Kapacitor does.
    case stop
    /// Start the UDF again with exponential backoff, re-initialize it and restore its last snapshot.
    case restart
}

/// One `[udf.functions.NAME]` table of a kapacitor.conf-style file.
public struct UDFFunctionConfiguration: Sendable, Hashable {
    /// The name scripts call it by: `@NAME()`.
    public var name: String
    public var endpoint: PluginEndpoint
    /// Keepalive timeout in nanoseconds (`timeout`, more than 1ms); keepalives go out every half of it.
    public var timeout: Int64
    /// `restart`: what to do when the UDF fails mid-task. Tock's extra; defaults to ``RestartPolicy/restart``.
    public var restart: RestartPolicy
    /// `restart-max-backoff`: the cap of the exponential restart backoff (starts at 100ms), in nanoseconds.
    public var restartMaxBackoff: Int64
    /// `max-frame-size`: responses announcing more bytes than this fail the UDF (default 64 MiB).
    public var maxFrameSize: Int
    /// `connect-timeout`: how long to keep retrying a `socket` that is not there yet (default 5m).
    public var connectTimeout: Int64
    /// The line of the function's table in the file, for messages.
    public var line: Int?

    public init(
        name: String, endpoint: PluginEndpoint, timeout: Int64 = 10 * GoDuration.second,
        restart: RestartPolicy = .restart, restartMaxBackoff: Int64 = 10 * GoDuration.second,
        maxFrameSize: Int = 64 << 20, connectTimeout: Int64 = 5 * GoDuration.minute, line: Int? = nil
    ) {
        self.name = name
        self.endpoint = endpoint
        self.timeout = timeout
        self.restart = restart
        self.restartMaxBackoff = restartMaxBackoff
        self.maxFrameSize = maxFrameSize
        self.connectTimeout = connectTimeout
        self.line = line
    }
}

/// The plugin part of a kapacitor.conf-style TOML file: `[udf.functions.NAME]` and `[notifiers.NAME]` tables, and the task
/// snapshot interval from `[task] snapshot-interval`. Other sections are left to their owners.
///
/// In `prog`, `args` and `env` values, `${TOCK_CONFIG_DIR}` stands for the directory of the configuration file
/// (Tock's extra), so a file can name programs beside it and work from any current directory; relative paths
/// are otherwise relative to the current directory, as in Kapacitor.
public struct UDFConfiguration: Sendable {
    public var functions: [String: UDFFunctionConfiguration]
    /// The `[notifiers.NAME]` sections: notifier plugins, by name.
    public var notifiers: [String: NotifierConfiguration] = [:]
    /// How often running UDF nodes are snapshotted, in nanoseconds (`[task] snapshot-interval`, default
    /// 60s as Kapacitor; 0 turns periodic snapshots off).
    public var snapshotInterval: Int64
    /// Keys the parser did not recognise under `[udf]`, with where they are.
    public var warnings: [ConfigDiagnostic]

    public init(functions: [String: UDFFunctionConfiguration] = [:], snapshotInterval: Int64 = GoDuration.minute,
                warnings: [ConfigDiagnostic] = []) {
        self.functions = functions
        self.snapshotInterval = snapshotInterval
        self.warnings = warnings
    }

    /// Reads and parses the file at `path`.
    public static func load(path: String) throws(ConfigDiagnostic) -> UDFConfiguration {
        let text: String
        do {
            text = try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw ConfigDiagnostic(file: path, message: "cannot read the configuration: \(error.localizedDescription)")
        }
        return try parse(text, file: path)
    }

    /// Parses TOML text; `file` names it in messages.
    public static func parse(_ text: String, file: String = "<config>") throws(ConfigDiagnostic) -> UDFConfiguration {
        let root: TOMLTable
        do {
            root = try TOMLTable(string: text)
        } catch let error as TOMLParseError {
            throw ConfigDiagnostic(file: file, line: error.source.begin.line, column: error.source.begin.column,
                                   message: error.description)
        } catch {
            throw ConfigDiagnostic(file: file, message: String(describing: error))
        }
        var parser = Parser(file: file, locator: KeyLocator(text: text))
        return try parser.parse(root)
    }
}

/// A problem in a configuration file, with where it is (`file:line:column: message`).
public struct ConfigDiagnostic: Error, Sendable, Hashable, CustomStringConvertible {
    public var file: String
    public var line: Int?
    public var column: Int?
    public var message: String

    public init(file: String, line: Int? = nil, column: Int? = nil, message: String) {
        self.file = file
        self.line = line
        self.column = column
        self.message = message
    }

    public var description: String {
        var s = file
        if let line { s += ":\(line)" }
        if let column { s += ":\(column)" }
        return s + ": " + message
    }
}

private struct Parser {
    let file: String
    let locator: KeyLocator
    var warnings: [ConfigDiagnostic] = []
    /// The file's directory, absolute, for `${TOCK_CONFIG_DIR}`; the current directory for text with no file.
    let configDirectory: String

    init(file: String, locator: KeyLocator) {
        self.file = file
        self.locator = locator
        configDirectory = ConfigDirectory.of(file: file)
    }

    /// `text` with `${TOCK_CONFIG_DIR}` replaced by the file's directory.
    func expand(_ text: String) -> String {
        ConfigDirectory.expand(text, directory: configDirectory)
    }

    func error(_ path: [String], _ message: String) -> ConfigDiagnostic {
        ConfigDiagnostic(file: file, line: locator.line(of: path), message: message)
    }

    mutating func warn(_ path: [String], _ message: String) {
        warnings.append(ConfigDiagnostic(file: file, line: locator.line(of: path), message: message))
    }

    func typeError(_ path: [String], expected: String, got value: any TOMLValueConvertible) -> ConfigDiagnostic {
        error(path, "\(path.joined(separator: ".")) must be \(expected), not a \(value.type)")
    }

    func table(_ value: any TOMLValueConvertible, _ path: [String]) throws(ConfigDiagnostic) -> TOMLTable {
        guard let t = value.table else { throw typeError(path, expected: "a table", got: value) }
        return t
    }

    func string(_ value: any TOMLValueConvertible, _ path: [String]) throws(ConfigDiagnostic) -> String {
        guard let s = value.string else { throw typeError(path, expected: "a string", got: value) }
        return s
    }

    func duration(_ value: any TOMLValueConvertible, _ path: [String]) throws(ConfigDiagnostic) -> Int64 {
        let text = try string(value, path)
        guard let ns = GoDuration.parse(text) else {
            throw error(path, "\(path.joined(separator: ".")): invalid duration \"\(text)\" (use Go syntax: 10s, 500ms, 1m30s)")
        }
        return ns
    }

    mutating func parse(_ root: TOMLTable) throws(ConfigDiagnostic) -> UDFConfiguration {
        var config = UDFConfiguration()
        if let notifiersValue = root["notifiers"] {
            let notifiers = try table(notifiersValue, ["notifiers"])
            for name in notifiers.keys.sorted() {
                let path = ["notifiers", name]
                config.notifiers[name] = try notifier(name: name, try table(notifiers[name]!, path), path)
            }
        }
        if let task = root["task"] {
            let t = try table(task, ["task"])
            if let v = t["snapshot-interval"] {
                config.snapshotInterval = try duration(v, ["task", "snapshot-interval"])
            }
        }
        guard let udfValue = root["udf"] else {
            config.warnings = warnings
            return config
        }
        let udf = try table(udfValue, ["udf"])
        for key in udf.keys where key != "functions" {
            warn(["udf", key], "unknown key udf.\(key) (ignored)")
        }
        if let functionsValue = udf["functions"] {
            let functions = try table(functionsValue, ["udf", "functions"])
            for name in functions.keys.sorted() {
                let path = ["udf", "functions", name]
                let fn = try table(functions[name]!, path)
                config.functions[name] = try function(name: name, fn, path)
            }
        }
        config.warnings = warnings
        return config
    }

    mutating func notifier(name: String, _ t: TOMLTable, _ path: [String]) throws(ConfigDiagnostic) -> NotifierConfiguration {
        var prog = ""
        var args: [String] = []
        var env: [String: String] = [:]
        var result = NotifierConfiguration(name: name, endpoint: .process(program: "", arguments: [], environment: [:]),
                                           line: locator.line(of: path))
        func positive(_ key: String, _ value: any TOMLValueConvertible) throws(ConfigDiagnostic) -> Int {
            guard let n = value.int, n >= 1 else { throw typeError(path + [key], expected: "a positive integer", got: value) }
            return n
        }
        for key in t.keys {
            let value = t[key]!
            let keyPath = path + [key]
            switch key {
            case "prog": prog = try string(value, keyPath)
            case "args":
                guard let array = value.array else { throw typeError(keyPath, expected: "an array of strings", got: value) }
                args = []
                for element in array {
                    guard let s = element.string else { throw typeError(keyPath, expected: "an array of strings", got: element) }
                    args.append(s)
                }
            case "env":
                let envTable = try table(value, keyPath)
                for k in envTable.keys { env[k] = try string(envTable[k]!, keyPath + [k]) }
            case "timeout": result.timeout = try duration(value, keyPath)
            case "concurrency": result.concurrency = try positive(key, value)
            case "attempt-timeout": result.attemptTimeout = try duration(value, keyPath)
            case "retry-max-attempts": result.retryMaxAttempts = try positive(key, value)
            case "retry-initial-backoff": result.retryInitialBackoff = try duration(value, keyPath)
            case "retry-max-backoff": result.retryMaxBackoff = try duration(value, keyPath)
            default:
                throw error(keyPath, "notifier \(name): unknown key \(key) (prog, args, env, timeout, concurrency, attempt-timeout, "
                    + "retry-max-attempts, retry-initial-backoff, retry-max-backoff)")
            }
        }
        guard !prog.isEmpty else { throw error(path, "notifier \(name): must set prog") }
        guard result.timeout > GoDuration.millisecond, result.attemptTimeout > GoDuration.millisecond else {
            throw error(path, "notifier \(name): timeout and attempt-timeout must be more than 1ms")
        }
        guard result.retryInitialBackoff > 0, result.retryMaxBackoff >= result.retryInitialBackoff else {
            throw error(path, "notifier \(name): retry-initial-backoff must be positive and at most retry-max-backoff")
        }
        result.endpoint = .process(program: expand(prog), arguments: args.map(expand), environment: env.mapValues(expand))
        return result
    }

    mutating func function(name: String, _ t: TOMLTable, _ path: [String]) throws(ConfigDiagnostic) -> UDFFunctionConfiguration {
        var prog: String?
        var args: [String] = []
        var env: [String: String] = [:]
        var socket: String?
        var timeout: Int64 = 0
        var result = UDFFunctionConfiguration(name: name, endpoint: .socket(path: ""), line: locator.line(of: path))
        for key in t.keys {
            let value = t[key]!
            let keyPath = path + [key]
            switch key {
            case "prog":
                prog = try string(value, keyPath)
            case "args":
                guard let array = value.array else { throw typeError(keyPath, expected: "an array of strings", got: value) }
                args = []
                for element in array {
                    guard let s = element.string else {
                        throw typeError(keyPath, expected: "an array of strings", got: element)
                    }
                    args.append(s)
                }
            case "env":
                let envTable = try table(value, keyPath)
                for k in envTable.keys {
                    env[k] = try string(envTable[k]!, keyPath + [k])
                }
            case "socket":
                socket = try string(value, keyPath)
            case "timeout":
                timeout = try duration(value, keyPath)
            case "restart":
                let s = try string(value, keyPath)
                guard let policy = RestartPolicy(rawValue: s) else {
                    throw error(keyPath, "UDF \(name): restart must be \"stop\" or \"restart\", not \"\(s)\"")
                }
                result.restart = policy
            case "restart-max-backoff":
                result.restartMaxBackoff = try duration(value, keyPath)
                guard result.restartMaxBackoff >= 100 * GoDuration.millisecond else {
                    throw error(keyPath, "UDF \(name): restart-max-backoff must be at least 100ms")
                }
            case "max-frame-size":
                guard let n = value.int else { throw typeError(keyPath, expected: "an integer (bytes)", got: value) }
                guard n >= 1024 else { throw error(keyPath, "UDF \(name): max-frame-size must be at least 1024 bytes") }
                result.maxFrameSize = n
            case "connect-timeout":
                result.connectTimeout = try duration(value, keyPath)
            default:
                warn(keyPath, "unknown key \(keyPath.joined(separator: ".")) (ignored)")
            }
        }
        // Kapacitor's FunctionConfig.Validate, in its order.
        guard timeout > GoDuration.millisecond else {
            throw error(path, "UDF \(name): timeout is too small: \(GoDuration.format(timeout)) (must be more than 1ms)")
        }
        result.timeout = timeout
        if let socket, !socket.isEmpty {
            if prog.map({ !$0.isEmpty }) ?? false || !args.isEmpty || !env.isEmpty {
                throw error(path, "UDF \(name): both socket and process config provided")
            }
            result.endpoint = .socket(path: socket)
        } else if let prog, !prog.isEmpty {
            result.endpoint = .process(program: expand(prog), arguments: args.map(expand), environment: env.mapValues(expand))
        } else {
            throw error(path, "UDF \(name): must set either prog or socket")
        }
        return result
    }
}

/// Finds the line of a table or key in TOML text (TOMLKit gives positions only for syntax errors).
struct KeyLocator: Sendable {
    /// (full path of the key or table header, line number)
    private var entries: [([String], Int)] = []

    init(text: String) {
        var header: [String] = []
        var lineNumber = 0
        for raw in text.split(separator: "\n", omittingEmptySubsequences: false) {
            lineNumber += 1
            let line = raw.trimmingCharacters(in: .whitespaces)
            if line.isEmpty || line.hasPrefix("#") { continue }
            if line.hasPrefix("[") {
                let isArray = line.hasPrefix("[[")
                let open = isArray ? 2 : 1
                guard let close = line.firstIndex(of: "]") else { continue }
                let inner = line[line.index(line.startIndex, offsetBy: open)..<close]
                header = KeyLocator.splitKey(inner)
                entries.append((header, lineNumber))
            } else if let eq = KeyLocator.assignment(in: line) {
                entries.append((header + KeyLocator.splitKey(line[..<eq]), lineNumber))
            }
        }
    }

    /// The line where `path` is defined: the key itself, or else the nearest table above it.
    func line(of path: [String]) -> Int? {
        var p = path
        while !p.isEmpty {
            if let hit = entries.first(where: { $0.0 == p }) { return hit.1 }
            p.removeLast()
        }
        return nil
    }

    /// The index of the `=` of a `key = value` line (outside quotes).
    private static func assignment(in line: String) -> String.Index? {
        var quote: Character?
        for i in line.indices {
            let c = line[i]
            if let q = quote {
                if c == q { quote = nil }
            } else if c == "\"" || c == "'" {
                quote = c
            } else if c == "=" {
                return i
            }
        }
        return nil
    }

    /// Splits a dotted key (`udf.functions."my.udf"`) into its parts.
    private static func splitKey(_ key: Substring) -> [String] {
        var parts: [String] = []
        var current = ""
        var quote: Character?
        for c in key {
            if let q = quote {
                if c == q { quote = nil } else { current.append(c) }
            } else if c == "\"" || c == "'" {
                quote = c
            } else if c == "." {
                parts.append(current.trimmingCharacters(in: .whitespaces))
                current = ""
            } else {
                current.append(c)
            }
        }
        parts.append(current.trimmingCharacters(in: .whitespaces))
        return parts
    }
}
