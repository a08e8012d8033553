import Foundation

/// Writes the daemon's log as logfmt lines (`ts=… lvl=info msg="…" key=value`), or as one JSON object per
/// line, to standard error, standard output or a file. Task and node names go in as fields (`task=…`, `node=…`).
public final class LogSink: @unchecked Sendable {
    public enum Level: Int, Comparable, Sendable {
        case debug, info, warn, error
        public static func < (a: Level, b: Level) -> Bool { a.rawValue < b.rawValue }
        var name: String { ["debug", "info", "warn", "error"][rawValue] }

        init(_ text: String) {
            switch text.uppercased() {
            case "DEBUG": self = .debug
            case "WARN", "WARNING": self = .warn
            case "ERROR": self = .error
            default: self = .info
            }
        }
    }

    private let lock = NSLock()
    private let handle: FileHandle
    private var minimum: Level
    private let json: Bool

    /// - Parameters:
    ///   - destination: `STDERR`, `STDOUT` or a file path (appended to).
    ///   - format: `logfmt` or `json`.
    public init(destination: String = "STDERR", level: String = "INFO", format: String = "logfmt") throws(ConfigurationError) {
        minimum = Level(level)
        json = format.lowercased() == "json"
        switch destination.uppercased() {
        case "STDERR", "": handle = .standardError
        case "STDOUT": handle = .standardOutput
        default:
            if !FileManager.default.fileExists(atPath: destination) {
                FileManager.default.createFile(atPath: destination, contents: nil)
            }
            guard let h = FileHandle(forWritingAtPath: destination) else {
                throw ConfigurationError("[logging] cannot open log file \(destination)")
            }
            h.seekToEndOfFile()
            handle = h
        }
    }

    /// Changes the level below which lines are dropped.
    public func setLevel(_ text: String) {
        lock.lock()
        minimum = Level(text)
        lock.unlock()
    }

    public func log(_ level: Level, _ message: String, _ fields: KeyValuePairs<String, String> = [:]) {
        lock.lock()
        defer { lock.unlock() }
        guard level >= minimum else { return }
        var line: String
        if json {
            var members: [(String, JSON)] = [("ts", .string(rfc3339Nano(nowNanoseconds()))), ("lvl", .string(level.name)),
                                             ("msg", .string(message))]
            for (k, v) in fields { members.append((k, .string(v))) }
            line = JSON.object(members).serialized + "\n"
        } else {
            line = "ts=\(rfc3339Nano(nowNanoseconds())) lvl=\(level.name) msg=\(Self.value(message))"
            for (k, v) in fields { line += " \(k)=\(Self.value(v))" }
            line += "\n"
        }
        handle.write(Data(line.utf8))
    }

    static func value(_ s: String) -> String {
        if !s.isEmpty && !s.contains(where: { $0 == " " || $0 == "\"" || $0 == "=" || $0.isNewline }) { return s }
        var out = ""
        JSON.quote(s, into: &out)
        return out
    }
}
