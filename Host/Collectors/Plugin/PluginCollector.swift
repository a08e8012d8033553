import Foundation
import PluginSupervisor
import Synchronization
import TockModel

/// A collector plugin: a `[[collectors.NAME]]` section with a `prog`, run as a child process speaking
/// `Protocol/plugin.proto` under the supervisor UDFs and notifiers share. A polled plugin is asked to gather at each
/// interval (bounded by the section's `timeout`); a streaming one sends points on its own.
///
/// A plugin that crashes, hangs (no keepalive answer) or cannot start is restarted with an exponential backoff
/// (1 s doubling to 1 min); after ``giveUpAfter`` failures in a row it is left down for ``giveUpPause`` and reported
/// so, then tried again. A gather that times out or fails is logged and reported down for that interval.
public final class PluginCollector: StreamingCollector {
    public static let name = "plugin"
    public static let summary = "a collector plugin over Tock's plugin protocol ([[collectors.NAME]] with prog)"
    public static let giveUpAfter = 5
    public static let giveUpPause: Duration = .seconds(600)

    let configuration: CollectorPluginConfiguration
    let gatherTimeout: Duration
    private let state = Mutex<State>(State())

    private struct State {
        var session: CollectorSession?
        var context: StreamContext?
        var stopping = false
        var failures = 0
        var gathering = false
        var lastGatherFailed = false
        var restart: Task<Void, Never>?
        var info: CollectorPluginInfo?
    }

    public init(options: CollectorOptions) throws(CollectorError) {
        throw CollectorError(Self.name, "a collector plugin is configured by its section's prog")
    }

    /// - Parameter backoff: the wait after a first failure, doubled for each next one up to a minute.
    public init(configuration: CollectorPluginConfiguration, gatherTimeout: Duration, backoff: Duration = .seconds(1)) {
        self.configuration = configuration
        self.gatherTimeout = gatherTimeout
        self.backoff = backoff
    }

    let backoff: Duration

    public var isRunning: Bool {
        state.withLock { $0.session?.isAlive == true && !$0.lastGatherFailed }
    }

    /// The plugin's own interval, once its handshake said one.
    public var preferredInterval: Duration? {
        state.withLock { $0.info.flatMap { $0.defaultInterval > 0 ? .nanoseconds($0.defaultInterval) : nil } }
    }

    public func start(_ context: StreamContext) throws(CollectorError) {
        state.withLock { $0.context = context; $0.stopping = false }
        launch(context)
    }

    public func tick() {
        let session: CollectorSession? = state.withLock { s in
            guard let session = s.session, session.isAlive, s.info?.streaming == false, !s.gathering else {
                if s.gathering { s.context?.logger.warning("\(configuration.name): the previous gather has not finished; this one is skipped") }
                return nil
            }
            s.gathering = true
            return session
        }
        guard let session, let context = state.withLock({ $0.context }) else { return }
        let timeout = gatherTimeout.nanosecondsValue, name = configuration.name
        // A gather waits for the plugin's answer: on a thread of its own.
        GatherThread.run { [self] in
            var failed = true
            do throws(CollectorPluginError) {
                let (points, error) = try session.gather(time: context.clock(), timeout: timeout)
                if !points.isEmpty { context.emit(points) }
                if let error { context.logger.error("\(name): gather failed: \(error)") } else { failed = false }
            } catch {
                context.logger.error("\(error.description)")
            }
            state.withLock { $0.gathering = false; $0.lastGatherFailed = failed; if !failed { $0.failures = 0 } }
        }
    }

    public func stop() {
        let (session, restart) = state.withLock { s in
            s.stopping = true
            defer { s.session = nil; s.restart = nil }
            return (s.session, s.restart)
        }
        restart?.cancel()
        session?.stop()
    }

    private func launch(_ context: StreamContext) {
        let configuration = self.configuration
        // The handshake blocks up to the plugin's timeout: on a thread of its own.
        GatherThread.run { [self] in
            do throws(CollectorPluginError) {
                let session = try CollectorSession.start(configuration, logger: context.logger, streamed: { points in context.emit(points) }, ended: { [weak self] reason in
                    self?.ended(reason, context: context)
                })
                let stopping = state.withLock { s -> Bool in
                    if !s.stopping {
                        s.session = session
                        s.info = session.info
                        s.lastGatherFailed = false
                    }
                    return s.stopping
                }
                if stopping { session.stop() }
                context.logger.info("\(configuration.name): started \(session.info.name) \(session.info.version) (\(session.info.streaming ? "streaming" : "polled"))")
            } catch {
                failed(error.description, context: context)
            }
        }
    }

    private func ended(_ reason: String?, context: StreamContext) {
        let stopping = state.withLock { s -> Bool in
            s.session = nil
            return s.stopping
        }
        guard !stopping else { return }
        failed("collector plugin \(configuration.name) \(reason ?? "exited")", context: context)
    }

    /// Logs a crash or a failed start and schedules the next start.
    private func failed(_ message: String, context: StreamContext) {
        let failures = state.withLock { s -> Int in
            s.failures += 1
            return s.failures
        }
        let wait: Duration
        if failures >= Self.giveUpAfter {
            wait = Self.giveUpPause
            context.logger.error("\(message); gave up after \(failures) failures in a row, next try in \(GoDuration.format(wait.nanosecondsValue))")
            state.withLock { $0.failures = 0 }
        } else {
            wait = min(.seconds(60), backoff * (1 << (failures - 1)))
            context.logger.error("\(message); restarting in \(GoDuration.format(wait.nanosecondsValue))")
        }
        let task = Task { [weak self] in
            guard (try? await Task.sleep(for: wait)) != nil, let self else { return }
            guard !self.state.withLock({ $0.stopping }) else { return }
            self.launch(context)
        }
        state.withLock { $0.restart = task }
    }
}
