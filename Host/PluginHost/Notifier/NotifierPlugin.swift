import Logging
import Engine
import Foundation
import PluginSupervisor
import PluginProtocol
import SwiftProtobuf
import TockModel
import UDFProtocol

/// What one delivery attempt through a notifier plugin came to.
public enum NotifyOutcome: Sendable, Hashable {
    case delivered
    /// Another attempt may succeed, no sooner than `after` nanoseconds when the plugin says so.
    case retryable(reason: String, after: Int64?)
    case permanent(reason: String)
}

/// What a notifier plugin said about itself in its handshake.
public struct NotifierInfo: Sendable, Hashable {
    public var name: String
    public var version: String
    /// The options its handlers may set, by name.
    public var options: [String: Tock_Plugin_OptionInfo]
    /// Events in flight at once: the smaller of the plugin's limit and the configured concurrency.
    public var inFlight: Int
}

/// A notifier plugin that cannot be used: it did not start, failed its handshake, or is not a notifier.
public struct NotifierError: Error, Sendable, CustomStringConvertible {
    public var notifier: String
    public var message: String
    /// Its last stderr lines.
    public var stderrTail: [String] = []

    public var description: String {
        "notifier \"\(notifier)\" \(message)" + (stderrTail.isEmpty ? "" : "; last stderr: "
            + stderrTail.suffix(10).joined(separator: " | "))
    }
}

/// One configured notifier plugin: its child process (started on first use, restarted with backoff after a crash),
/// the handshake, and the events in flight. Each ``notify(_:options:attempt:topic:)`` is one attempt; the alerting
/// service's delivery path owns queues, timeouts, retries and dead letters.
public final class NotifierPlugin: @unchecked Sendable {
    public let configuration: NotifierConfiguration
    private let logger: Logger
    private let lock = NSLock()
    // Guarded by `lock`.
    private var session: NotifierSession?
    private var crashes = 0
    private var notBefore: UInt64 = 0
    private var stopped = false

    /// How long after a crash the next start waits at first; it doubles per crash up to ``maxRestartDelay``.
    static let initialRestartDelay: UInt64 = 100_000_000
    static let maxRestartDelay: UInt64 = 30_000_000_000

    /// - Parameter logger: where the plugin's starts, crashes and stderr lines go; each line has the notifier's name
    ///   as `plugin` metadata.
    public init(configuration: NotifierConfiguration, logger: Logger = .discarding) {
        self.configuration = configuration
        self.logger = logger.with("plugin", configuration.name)
    }

    /// The plugin's handshake, starting it if it is not running (blocks up to the timeout).
    public func info() throws(NotifierError) -> NotifierInfo {
        try currentSession().info
    }

    /// Checks a handler's options against the plugin's handshake: unknown options, wrong types and missing required
    /// ones are refused, naming the option.
    public func check(options: [String: HandlerOption]) throws -> Void {
        let info: NotifierInfo
        do { info = try self.info() } catch { throw HandlerOptionError("\(error)") }
        for (key, value) in options {
            guard let spec = info.options[key] else {
                throw HandlerOptionError("notifier \(configuration.name) has no option \(key) (options: "
                    + "\(info.options.keys.sorted().joined(separator: ", ")))", option: key)
            }
            guard PluginWire.optionValue(value, as: spec.type) != nil else {
                throw HandlerOptionError("notifier \(configuration.name) option \(key) must be \(PluginWire.describe(spec.type))",
                                         option: key)
            }
        }
        for spec in info.options.values where spec.required && options[spec.name] == nil {
            throw HandlerOptionError("notifier \(configuration.name) needs option \(spec.name)")
        }
    }

    /// One delivery attempt of `event`. A plugin that is down, restarting or crashes with the event in flight is a
    /// retryable failure naming why (with its last stderr lines); cancelling the calling task abandons the attempt.
    public func notify(_ event: AlertEvent, options: [String: HandlerOption], attempt: Int, topic: String) async -> NotifyOutcome {
        let session: NotifierSession
        if let live = lock.withLock({ self.session.flatMap { $0.isAlive ? $0 : nil } }) {
            session = live
        } else {
            // Starting blocks up to the handshake timeout: on a thread of its own, not the cooperative pool.
            let started: Result<NotifierSession, NotifierError> = await withCheckedContinuation { continuation in
                Thread { [self] in
                    continuation.resume(returning: Result { () throws(NotifierError) -> NotifierSession in try currentSession() })
                }.start()
            }
            switch started {
            case .success(let s): session = s
            case .failure(let error): return .retryable(reason: error.description, after: nil)
            }
        }
        return await session.notify(NotifierWire.request(event, options: options, attempt: attempt, topic: topic))
    }

    /// Stops the plugin (its input is closed; it gets the timeout to finish) and refuses further attempts.
    public func stop() {
        let current: NotifierSession? = lock.withLock {
            stopped = true
            defer { session = nil }
            return session
        }
        current?.close()
    }

    /// How many times the plugin was started after a crash.
    public var restarts: Int { lock.withLock { crashes } }

    // MARK: Sessions

    private func currentSession() throws(NotifierError) -> NotifierSession {
        lock.lock()
        if stopped {
            lock.unlock()
            throw NotifierError(notifier: configuration.name, message: "is stopped")
        }
        if let session, session.isAlive {
            lock.unlock()
            return session
        }
        let now = monotonicNanos()
        if now < notBefore {
            let wait = notBefore - now
            lock.unlock()
            throw NotifierError(notifier: configuration.name,
                                message: "is restarting after a crash (next start in \(GoDuration.format(Int64(wait))))")
        }
        lock.unlock()
        // Starting is serialized: one process at a time.
        startLock.lock()
        defer { startLock.unlock() }
        if let s = lock.withLock({ session }), s.isAlive { return s }
        let s = try NotifierSession.start(configuration: configuration, logger: logger, ended: { [weak self] session, reason in
            self?.sessionEnded(session, reason)
        })
        lock.withLock { session = s }
        logger.info("notifier \(configuration.name) started: \(s.info.name) \(s.info.version)")
        return s
    }

    private let startLock = NSLock()

    private func sessionEnded(_ ended: NotifierSession, _ reason: String?) {
        let restart: UInt64? = lock.withLock {
            guard session === ended else { return nil }
            session = nil
            guard !stopped, reason != nil else { return nil }
            crashes += 1
            let delay = min(Self.initialRestartDelay << UInt64(min(crashes - 1, 20)), Self.maxRestartDelay)
            notBefore = monotonicNanos() + delay
            return delay
        }
        if let reason, let restart {
            logger.error("notifier \(configuration.name) \(reason); starting it again in \(GoDuration.format(Int64(restart))) when needed")
        }
    }
}
