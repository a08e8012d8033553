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
    /// Followers of the log (`/kapacitor/v1preview/logs`), by ID.
    private var followers: [Int: Follower] = [:]
    private var nextFollower = 0

    private struct Follower {
        /// Every pair must be among the line's fields (`task=cpu`).
        var match: [String: String]
        var json: Bool
        var continuation: AsyncStream<String>.Continuation
    }

    /// How many lines a slow follower may have waiting before the oldest are dropped.
    static let followerBuffer = 1_000

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
        let time = nowNanoseconds()
        handle.write(Data(Self.line(json: json, time: time, level: level, message: message, fields: fields).utf8))
        for follower in followers.values
        where follower.match.allSatisfy({ pair in fields.contains { $0.key == pair.key && $0.value == pair.value } }) {
            follower.continuation.yield(Self.line(json: follower.json, time: time, level: level, message: message, fields: fields))
        }
    }

    /// Follows the log from now on: the lines whose fields include every pair of `match`, as JSON objects or logfmt,
    /// one per element. A follower that reads too slowly loses its oldest lines, never the daemon's memory.
    public func follow(match: [String: String], json: Bool) -> AsyncStream<String> {
        let (stream, continuation) = AsyncStream.makeStream(of: String.self, bufferingPolicy: .bufferingNewest(Self.followerBuffer))
        let id: Int = lock.withLock {
            nextFollower += 1
            followers[nextFollower] = Follower(match: match, json: json, continuation: continuation)
            return nextFollower
        }
        continuation.onTermination = { [weak self] _ in
            guard let self else { return }
            _ = self.lock.withLock { self.followers.removeValue(forKey: id) }
        }
        return stream
    }

    /// How many follow the log now.
    public var followerCount: Int { lock.withLock { followers.count } }

    private static func line(json: Bool, time: Int64, level: Level, message: String,
                             fields: KeyValuePairs<String, String>) -> String {
        if json {
            var members: [(String, JSON)] = [("ts", .string(rfc3339Nano(time))), ("lvl", .string(level.name)),
                                             ("msg", .string(message))]
            for (k, v) in fields { members.append((k, .string(v))) }
            return JSON.object(members).serialized + "\n"
        }
        var line = "ts=\(rfc3339Nano(time)) lvl=\(level.name) msg=\(Self.value(message))"
        for (k, v) in fields { line += " \(k)=\(Self.value(v))" }
        return line + "\n"
    }

    static func value(_ s: String) -> String {
        if !s.isEmpty && !s.contains(where: { $0 == " " || $0 == "\"" || $0 == "=" || $0.isNewline }) { return s }
        var out = ""
        JSON.quote(s, into: &out)
        return out
    }
}
