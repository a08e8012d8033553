import Logging
import TockModel

/// A built-in collector: reads one aspect of the host (its CPUs, its memory, its disks…) and turns it into points
/// with Telegraf's measurement, tag and field names, so that TICKscripts and dashboards written for Telegraf keep
/// working.
///
/// A collector is a value: the state it keeps between two gathers (the last CPU times, to compute usage over the
/// interval) lives in the value, and the scheduler that owns it calls ``gather(_:)`` one call at a time.
public protocol Collector: Sendable {
    /// The name in configurations and on the command line (`cpu`, `mem`), Telegraf's input name.
    static var name: String { get }
    /// One line for `tock collect --list`.
    static var summary: String { get }
    /// Builds the collector from its plugin options; unknown or ill-typed options are refused.
    init(options: CollectorOptions) throws(CollectorError)
    /// Reads the host once. Files that are missing or unreadable are skipped (and logged at debug level) where the
    /// rest of the reading still means something; an error is thrown only when nothing sensible can be reported.
    mutating func gather(_ context: GatherContext) throws(CollectorError) -> [Point]
    /// Whether the first gather reports less than later ones (rates and percentages need two readings): a one-shot
    /// run (`tock collect --once`) gathers such a collector twice, a short while apart.
    static var needsTwoReadings: Bool { get }
    /// Whether Telegraf's `timeout` option is this collector's own (a probe's timeout, `exec`'s limit per command).
    /// In a `[[collectors.NAME]]` section, `timeout` then goes to the collector, and the bound of a whole gather is
    /// the section's `gather-timeout`, or else ``gatherBound`` plus ``CollectorConfig/gatherMargin``.
    static var ownsTimeoutOption: Bool { get }
    /// The longest one gather takes by this collector's own options (its probes' timeouts, the requests it makes
    /// one after the other), or `nil` when its options set none: a section without `gather-timeout` bounds its
    /// gathers by this plus ``CollectorConfig/gatherMargin`` (and never by less than the default bound), so that a
    /// probe reports its own timeout before the gather is abandoned.
    var gatherBound: Duration? { get }
}

extension Collector {
    public static var needsTwoReadings: Bool { false }
    public static var ownsTimeoutOption: Bool { false }
    public var gatherBound: Duration? { nil }
}

/// What a gather reads from and reports to.
public struct GatherContext: Sendable {
    /// The time stamped on every point of this gather.
    public var time: Timestamp
    /// Where `/proc`, `/sys` and friends are.
    public var host: HostFS
    /// Where debug and warning lines go (a file that could not be read); the scheduler names the collector in its
    /// `collector` metadata.
    public var logger: Logger
    /// How long the gather may take (``CollectorConfig/timeout``, the section's bound): a collector that runs
    /// programs or waits on the network stays within it.
    public var timeout: Duration

    public init(time: Timestamp, host: HostFS = .live, timeout: Duration = .seconds(5),
                logger: Logger = .discarding) {
        self.time = time
        self.host = host
        self.timeout = timeout
        self.logger = logger
    }
}

/// Why a collector could not be configured or could not gather.
public struct CollectorError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The collector (`cpu`), or empty when the error is about the collector set itself.
    public var collector: String
    public var message: String

    public init(_ collector: String, _ message: String) {
        self.collector = collector
        self.message = message
    }

    public var description: String { collector.isEmpty ? message : "collector \(collector): \(message)" }
}
