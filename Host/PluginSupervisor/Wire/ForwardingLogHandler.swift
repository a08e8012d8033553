import Logging
import TockModel

/// A swift-log handler that hands each line's level and message to a closure: the bridge for code that still logs
/// through `(LogLevel, String)` closures (the collectors and the agent, until they take a `Logger`) when it calls a
/// session that takes a `Logger`. The lines' metadata is dropped: what they say must be in the message.
package struct ForwardingLogHandler: LogHandler {
    private let forward: @Sendable (LogLevel, String) -> Void
    package var metadata: Logger.Metadata = [:]
    package var logLevel: Logger.Level = .trace

    package init(_ forward: @escaping @Sendable (LogLevel, String) -> Void) {
        self.forward = forward
    }

    package subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    package func log(event: LogEvent) {
        forward(LogLevel(event.level), event.message.description)
    }
}

extension Logger {
    /// A logger whose lines go to `forward` (``ForwardingLogHandler``), for callers that still log through closures.
    package static func forwarding(_ forward: @escaping @Sendable (LogLevel, String) -> Void) -> Logger {
        Logger(label: "tock.forwarding") { _ in ForwardingLogHandler(forward) }
    }
}
