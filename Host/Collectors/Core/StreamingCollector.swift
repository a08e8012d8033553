import Logging
import TockModel

/// A collector that runs on its own and reports points whenever it has them: a Telegraf `execd` program that prints
/// line protocol on its own schedule, or when signalled at each interval.
public protocol StreamingCollector: AnyObject, Sendable {
    static var name: String { get }
    static var summary: String { get }
    init(options: CollectorOptions) throws(CollectorError)
    /// Starts it; its points go to `context.emit` until ``stop()``.
    func start(_ context: StreamContext) throws(CollectorError)
    /// The interval elapsed: signal the program if it waits for one.
    func tick()
    func stop()
    /// Whether it is running now (not between a crash and its restart).
    var isRunning: Bool { get }
    /// Its own interval, used when its section sets none (a plugin's handshake may name one).
    var preferredInterval: Duration? { get }
}

extension StreamingCollector {
    public var preferredInterval: Duration? { nil }
}

/// Where a streaming collector's points and log lines go.
public struct StreamContext: Sendable {
    public var clock: @Sendable () -> Timestamp
    /// Where log lines go, with the collector named in the `collector` metadata.
    public var logger: Logger
    public var emit: @Sendable ([Point]) -> Void

    public init(clock: @escaping @Sendable () -> Timestamp, logger: Logger,
                emit: @escaping @Sendable ([Point]) -> Void) {
        self.clock = clock
        self.logger = logger
        self.emit = emit
    }
}

/// A configured collector of either kind.
public enum CollectorInstance: Sendable {
    case polled(any Collector)
    case streaming(any StreamingCollector)
}
