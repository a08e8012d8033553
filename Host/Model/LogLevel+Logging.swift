import Logging

extension LogLevel {
    /// A level as `[logging] level`, `POST /loglevel` and a script's `log()` node name it: `DEBUG`, `INFO`, `WARN`
    /// (or `WARNING`), `ERROR`, in any case; `nil` for anything else.
    public init?(configured text: String) {
        let upper = text.uppercased()
        guard let level = LogLevel(rawValue: upper == "WARNING" ? "WARN" : upper) else { return nil }
        self = level
    }

    /// The Kapacitor level a swift-log level is written at: `trace` as debug, `notice` as info and `critical` as
    /// error, so that Tock's lines keep Kapacitor's four levels.
    public init(_ level: Logger.Level) {
        switch level {
        case .trace, .debug: self = .debug
        case .info, .notice: self = .info
        case .warning: self = .warning
        case .error, .critical: self = .error
        }
    }
}

extension Logger.Level {
    /// The swift-log level of a Kapacitor level (a task's `log()` node, a plugin's stderr line): the one table from
    /// Tock's four levels to swift-log's.
    public init(_ level: LogLevel) {
        switch level {
        case .debug: self = .debug
        case .info: self = .info
        case .warning: self = .warning
        case .error: self = .error
        }
    }
}

extension Logger {
    /// A logger that drops every line: the default of libraries' `logger` parameters, so that code which asks for
    /// nothing logs nothing (swift-log's `SwiftLogNoOpLogHandler`).
    public static let discarding = Logger(label: "tock.discard") { _ in SwiftLogNoOpLogHandler() }

    /// A copy of this logger with `value` as its `key` metadata (`task`, `node`, `udf`, …).
    public func with(_ key: String, _ value: String) -> Logger {
        var copy = self
        copy[metadataKey: key] = .string(value)
        return copy
    }
}

extension Logger.Metadata {
    /// The metadata a line is written with: a handler's own, then its provider's, then the line's (the later wins).
    public static func merged(_ handler: Logger.Metadata, _ provider: Logger.MetadataProvider?,
                              _ line: Logger.Metadata?) -> Logger.Metadata {
        var all = handler
        if let provided = provider?.get() { all.merge(provided) { $1 } }
        if let line { all.merge(line) { $1 } }
        return all
    }
}
