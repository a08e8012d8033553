import Foundation
import Logging
import TockModel

/// A swift-log handler that writes lines to standard error the way Telegraf does, so that a Telegraf user reads
/// `tock agent` and `tock collect` as they read Telegraf: `2026-12-03T11:00:00Z E! [collectors.cpu] message`.
///
/// The level is Telegraf's one-letter prefix (`E! W! I! D!`); the `collector` metadata becomes the bracketed
/// `[collectors.NAME]`; other metadata follows as ` key=value`, except `plugin` and `stderr`, which the messages of
/// those lines already carry.
public struct TelegrafLogHandler: LogHandler {
    public var metadata: Logger.Metadata = [:]
    public var metadataProvider: Logger.MetadataProvider?
    public var logLevel: Logger.Level
    /// Whether lines start with the time (RFC 3339, UTC), as Telegraf's do.
    public let timestamps: Bool

    public init(level: Logger.Level = .info, timestamps: Bool = true) {
        self.logLevel = level
        self.timestamps = timestamps
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        let all = Logger.Metadata.merged(metadata, metadataProvider, event.metadata)
        var text = Self.line(event.level, "\(event.message)", all)
        if timestamps { text = Date().formatted(.iso8601) + " " + text }
        FileHandle.standardError.write(Data((text + "\n").utf8))
    }

    /// Metadata left out of the line because the message says it already, or written as the bracketed place.
    private static let unlisted: Set<String> = ["collector", "plugin", "stderr"]

    /// The line for a level, message and metadata, without its time and newline.
    public static func line(_ level: Logger.Level, _ message: String, _ metadata: Logger.Metadata) -> String {
        var line = "\(LogLevel(level).rawValue.prefix(1))! "
        if let collector = metadata["collector"] { line += "[collectors.\(collector)] " }
        line += message
        for (key, value) in metadata.sorted(by: { $0.key < $1.key }) where !unlisted.contains(key) {
            line += " \(key)=\(value)"
        }
        return line
    }
}
