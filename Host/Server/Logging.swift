import Foundation
import Logging
import TockModel

/// Where the daemon's log goes: logfmt lines (`ts=… lvl=info msg="…" key=value`) or one JSON object per line, to
/// standard error, standard output or a file, and to the followers of `/kapacitor/v1preview/logs`. Code logs through a
/// swift-log `Logger` whose handler is a ``TockLogHandler`` writing here (``logger(label:)``).
public final class LogOutput: @unchecked Sendable {
    private let lock = NSLock()
    private let handle: FileHandle
    private var minimum: Logger.Level
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
    ///   - level: `DEBUG`, `INFO`, `WARN` or `ERROR` (``Logger/Level/init(configured:)``).
    ///   - format: `logfmt` or `json`.
    public init(destination: String = "STDERR", level: String = "INFO", format: String = "logfmt") throws(ConfigurationError) {
        minimum = Logger.Level(configured: level)
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

    /// A logger that writes here.
    public func logger(label: String = "tock") -> Logger {
        Logger(label: label) { _ in TockLogHandler(output: self) }
    }

    /// The level below which lines are dropped, for every logger writing here (`POST /kapacitor/v1preview/loglevel`).
    public var level: Logger.Level {
        get { lock.withLock { minimum } }
        set { lock.withLock { minimum = newValue } }
    }

    /// Writes one line, and gives it to the followers whose match it has.
    func write(_ level: Logger.Level, _ message: String, _ fields: [(String, String)]) {
        lock.lock()
        defer { lock.unlock() }
        let time = nowNanoseconds()
        handle.write(Data(Self.line(json: json, time: time, level: level, message: message, fields: fields).utf8))
        for follower in followers.values
        where follower.match.allSatisfy({ pair in fields.contains { $0.0 == pair.key && $0.1 == pair.value } }) {
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

    private static func line(json: Bool, time: Int64, level: Logger.Level, message: String, fields: [(String, String)]) -> String {
        if json {
            var members: [(String, JSON)] = [("ts", .string(rfc3339Nano(time))), ("lvl", .string(level.tockName)),
                                             ("msg", .string(message))]
            for (k, v) in fields { members.append((k, .string(v))) }
            return JSON.object(members).serialized + "\n"
        }
        var line = "ts=\(rfc3339Nano(time)) lvl=\(level.tockName) msg=\(Self.value(message))"
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

/// A swift-log handler writing to a ``LogOutput``: the logger's metadata and the line's become the line's fields
/// (`task`, `node`, …), in key order.
public struct TockLogHandler: LogHandler {
    /// Where the lines go.
    public let output: LogOutput
    public var metadata: Logger.Metadata = [:]
    public var metadataProvider: Logger.MetadataProvider?
    /// This logger's own level; lines also need the output's (``LogOutput/level``).
    private var floor: Logger.Level = .trace

    /// A handler with no metadata of its own, at the output's level.
    public init(output: LogOutput) {
        self.output = output
    }

    /// The stricter of this logger's level and the output's: a logger may be quieter than the daemon, not louder.
    public var logLevel: Logger.Level {
        get { max(floor, output.level) }
        set { floor = newValue }
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        let all = Logger.Metadata.merged(metadata, metadataProvider, event.metadata)
        let fields = all.sorted { $0.key < $1.key }.map { ($0.key, Self.text($0.value)) }
        output.write(event.level, event.message.description, fields)
    }

    static func text(_ value: Logger.MetadataValue) -> String {
        if case .string(let s) = value { return s }
        return value.description
    }
}

extension Logger.Level {
    /// A level as `[logging] level` and `POST /loglevel` name it: `DEBUG`, `INFO`, `WARN` (or `WARNING`), `ERROR`,
    /// in any case (``TockModel/LogLevel/init(configured:)``); anything else is `info`. Mapped by the one table of
    /// ``Logging/Logger/Level/init(_:)``.
    public init(configured text: String) {
        self.init(LogLevel(configured: text) ?? .info)
    }

    /// The level's name in Tock's lines (`lvl=warn`): swift-log's trace is written as debug, notice as info and
    /// critical as error (``TockModel/LogLevel/init(_:)``), so the lines keep Kapacitor's four levels.
    var tockName: String { LogLevel(self).rawValue.lowercased() }
}
