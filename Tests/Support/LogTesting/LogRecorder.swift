import Foundation
import Logging
import Synchronization
import TockModel

/// A swift-log handler for tests: every line at any level goes to `record` with its level, message and metadata (the
/// logger's and the line's, merged), so that a test can assert what a library logged without bootstrapping anything.
public struct RecordingLogHandler: LogHandler {
    public var metadata: Logger.Metadata = [:]
    public var logLevel: Logger.Level = .trace
    private let record: @Sendable (LogRecorder.Line) -> Void

    public init(_ record: @escaping @Sendable (LogRecorder.Line) -> Void) {
        self.record = record
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        let all = Logger.Metadata.merged(metadata, nil, event.metadata)
        record(LogRecorder.Line(level: LogLevel(event.level), message: "\(event.message)",
                                metadata: all.mapValues { value in
                                    if case .string(let s) = value { return s }
                                    return "\(value)"
                                }))
    }
}

extension Logger {
    /// A logger whose every line goes to `record` (``RecordingLogHandler``).
    public static func recording(_ record: @escaping @Sendable (LogRecorder.Line) -> Void) -> Logger {
        Logger(label: "test") { _ in RecordingLogHandler(record) }
    }
}

/// The lines logged through its ``logger``, in order; safe from any thread.
public final class LogRecorder: Sendable {
    /// One logged line: Kapacitor's level, the message, the metadata as text.
    public struct Line: Sendable, CustomStringConvertible {
        public var level: LogLevel
        public var message: String
        public var metadata: [String: String]

        public init(level: LogLevel, message: String, metadata: [String: String] = [:]) {
            self.level = level
            self.message = message
            self.metadata = metadata
        }

        public var description: String {
            "\(level.rawValue) \(message)" + metadata.sorted { $0.key < $1.key }.map { " \($0.key)=\($0.value)" }.joined()
        }
    }

    private let recorded = Mutex<[Line]>([])

    public init() {}

    /// A logger at every level whose lines are kept here.
    public var logger: Logger { .recording { [self] line in recorded.withLock { $0.append(line) } } }

    public var lines: [Line] { recorded.withLock { $0 } }

    /// Each line's level and message.
    public var entries: [(LogLevel, String)] { lines.map { ($0.level, $0.message) } }

    /// Whether a line was logged at `level` whose message contains `text`.
    public func contains(_ level: LogLevel, _ text: String) -> Bool {
        lines.contains { $0.level == level && $0.message.contains(text) }
    }
}
