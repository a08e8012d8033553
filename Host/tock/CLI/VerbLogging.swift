import Collectors
import Foundation
import Logging
import Synchronization
import TockModel

/// How the verbs that work without a server (`run`, `demo`, `test`, `collect`, `bench`) log: the process's swift-log
/// backend is a ``VerbLogHandler`` on standard error, bootstrapped once by the verb that runs (`tock serve`
/// bootstraps the daemon's ``Server/TockLogHandler`` instead).
enum VerbLogging {
    private static let bootstrapped = Mutex(false)

    /// Makes ``VerbLogHandler`` in `style` at `level` the process's log handler (the first call only: one process runs
    /// one verb, and swift-log allows one bootstrap), and returns a logger labelled `label` at `level`.
    static func logger(label: String, level: Logger.Level = .trace, style: VerbLogHandler.Style = .bracketed) -> Logger {
        bootstrapped.withLock { done in
            guard !done else { return }
            done = true
            LoggingSystem.bootstrap { _ in
                var handler = VerbLogHandler(style: style)
                handler.logLevel = level
                return handler
            }
        }
        var logger = Logger(label: label)
        logger.logLevel = level
        return logger
    }
}

/// A swift-log handler writing one line per event to standard error, as Tock's verbs have always written them:
/// `ERROR [task:node] message` (``Style/bracketed``, the `task` and `node` metadata in brackets) or Telegraf's
/// `E! [collectors.cpu] message` (``Style/telegraf``, `tock collect`: ``TelegrafLogHandler``'s lines without the time).
/// Metadata other than `task` and `node` follows as ` key=value`, except `udf`, `plugin` and `stderr`, whose content
/// the message of those lines already carries.
struct VerbLogHandler: LogHandler {
    /// The shape of a line.
    enum Style: Sendable {
        /// `LEVEL [task:node] message`; `LEVEL [task] message` without a node, `LEVEL message` without either.
        case bracketed
        /// `E! [collectors.NAME] message`, `W!`, `I!`, `D!`: Telegraf's prefixes.
        case telegraf
    }

    var metadata: Logger.Metadata = [:]
    var metadataProvider: Logger.MetadataProvider?
    var logLevel: Logger.Level = .trace
    let style: Style

    /// Metadata written in the brackets, or left out because the message says it already.
    private static let unlisted: Set<String> = ["task", "node", "udf", "plugin", "stderr"]

    init(style: Style) {
        self.style = style
    }

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        let all = Logger.Metadata.merged(metadata, metadataProvider, event.metadata)
        FileHandle.standardError.write(Data((Self.line(event.level, "\(event.message)", all, style: style) + "\n").utf8))
    }

    /// The line for a level, message and metadata, without its newline.
    static func line(_ level: Logger.Level, _ message: String, _ metadata: Logger.Metadata, style: Style) -> String {
        if style == .telegraf { return TelegrafLogHandler.line(level, message, metadata) }
        let level = LogLevel(level)
        let place = [metadata["task"], metadata["node"]].compactMap { $0.map { "\($0)" } }.joined(separator: ":")
        var line = place.isEmpty ? "\(level.rawValue) \(message)" : "\(level.rawValue) [\(place)] \(message)"
        for (key, value) in metadata.sorted(by: { $0.key < $1.key }) where !unlisted.contains(key) {
            line += " \(key)=\(value)"
        }
        return line
    }
}
