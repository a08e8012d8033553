import Collectors
import Foundation
import Logging
import PluginSupervisor
import Synchronization
import TockModel

/// `tock agent`: runs only the collectors, tags every point with the host (and its location when configured), and
/// ships the points to a remote Tock or InfluxDB through the ``Shipper``, with a `tock_agent` heartbeat so the server
/// knows the agent is alive.
///
/// The heartbeat is one point every `heartbeat-interval`, into the agent's database:
/// `tock_agent,host=H[,location=L] version="…",uptime=…i,collectors=…i,buffered_points=…i,buffered_bytes=…i,`
/// `dropped_points=…i,sent_points=…i,rejected_points=…i,lost_points=…i,failed_writes=…i`.
public final class CollectorAgent: Sendable {
    public let configuration: AgentConfiguration
    public let hostTags: [String: String]
    let version: String
    let scheduler: CollectorScheduler
    let shipper: Shipper
    let client: WriteClient
    let logger: Logger
    let started = ContinuousClock.now
    private let collectorCount: Mutex<Int>
    private let heartbeats = Mutex<RepeatingTimer?>(nil)

    /// Opens the disk buffer and builds every collector (refusing bad options before anything runs).
    public init(configuration settings: AgentConfiguration, collectors: [CollectorConfig], version: String,
                host: HostFS = .live, logger: Logger = .discarding) throws(AgentError) {
        let configuration: AgentConfiguration
        do { configuration = try settings.resolved() } catch { throw .configuration(error) }
        self.configuration = configuration
        self.version = version
        self.logger = logger
        var tags = ["host": configuration.hostname.isEmpty ? HostFS.hostname : configuration.hostname]
        if !configuration.location.isEmpty { tags["location"] = configuration.location }
        hostTags = tags
        let buffer: DiskBuffer
        do {
            buffer = try DiskBuffer(directory: configuration.bufferDirectory, maxBytes: configuration.bufferMaxBytes, logger: logger)
        } catch { throw .buffer(error) }
        do { client = try WriteClient(configuration: configuration, version: version) } catch { throw .configuration(error) }
        let client = self.client
        let shipper = Shipper(configuration: configuration, buffer: buffer, logger: logger) { batch, interruption in
            client.write(batch, interruption: interruption)
        }
        self.shipper = shipper
        scheduler = CollectorScheduler(collectors, host: host, hostTags: tags, clock: { Self.now }, logger: logger, sink: { points in shipper.submit(points) })
        collectorCount = Mutex(collectors.count)
        do { try scheduler.start() } catch {
            client.shutdownBlocking()
            throw .collectors(error)
        }
        let totals = buffer.totals
        if totals.batches > 0 {
            logger.info("\(totals.batches) batches (\(totals.points) points) left buffered by an earlier run will be sent first")
        }
    }

    /// Ships until cancelled (SIGTERM, SIGINT); then stops the collectors, seals what is open and sends what the
    /// server takes within `drain`, leaving the rest on disk for the next run.
    public func run(drain: Duration = .seconds(3)) async {
        start()
        await untilCancelled()
        // The stop runs outside the cancelled task: its gathers, writes and waits must not be cut short.
        await Shipper.onThread("tock-stop") { [self] in stop(drain: drain) }
    }

    /// Starts shipping: the sender, the flushes and the heartbeats (the collectors run from ``init``). Nothing here
    /// uses Swift's concurrency: the agent's executable runs the whole agent on threads of its own.
    public func start() {
        logger.info("shipping to \(configuration.urls.joined(separator: ", ")) as host=\(hostTags["host"]!)\(hostTags["location"].map { " location=\($0)" } ?? ""), buffer \(shipper.buffer.directory)")
        shipper.submit([heartbeat()])
        heartbeats.withLock { heartbeats in
            heartbeats = RepeatingTimer(every: configuration.heartbeatInterval,
                                        slack: CollectorScheduler.tolerance(of: configuration.heartbeatInterval)) { [self] in
                shipper.submit([heartbeat()])
            }
        }
        shipper.start()
    }

    /// Stops the sender, then the collectors (waiting for the gathers in progress), seals what is open and sends what
    /// the server takes within `drain`, leaving the rest on disk for the next run. Blocks the calling thread.
    public func stop(drain: Duration = .seconds(3)) {
        heartbeats.withLock { $0?.cancel() }
        shipper.stop()
        scheduler.drainBlocking()
        shipper.submit([heartbeat()])
        shipper.drainBlocking(within: drain)
        let totals = shipper.buffer.totals
        if totals.batches > 0 {
            logger.info("stopped with \(totals.points) points buffered in \(shipper.buffer.directory); they are sent on the next start")
        }
        client.shutdownBlocking()
    }

    /// Runs `collectors` from now on (SIGHUP): unchanged sections keep their schedule.
    public func reload(_ collectors: [CollectorConfig]) throws(CollectorError) -> CollectorScheduler.Changes {
        let changes = try scheduler.update(collectors)
        collectorCount.withLock { $0 = collectors.count }
        return changes
    }

    public var stats: Shipper.Stats { shipper.stats }
    public var buffered: DiskBuffer.Totals { shipper.buffer.totals }

    func heartbeat() -> Point {
        let stats = shipper.stats
        let totals = shipper.buffer.totals
        let uptime = ContinuousClock.now - started
        let fields: [(String, FieldValue)] = [
            ("version", .string(version)),
            ("uptime", .int(uptime.components.seconds)),
            ("collectors", .int(Int64(collectorCount.withLock { $0 }))),
            ("buffered_points", .int(Int64(totals.points))),
            ("buffered_bytes", .int(Int64(totals.bytes))),
            ("dropped_points", .int(Int64(totals.droppedPoints))),
            ("sent_points", .int(Int64(stats.sentPoints))),
            ("rejected_points", .int(Int64(stats.rejectedPoints))),
            ("lost_points", .int(Int64(stats.lostPoints))),
            ("failed_writes", .int(Int64(stats.failedWrites))),
        ]
        return Point(name: "tock_agent", tags: Tags(hostTags), fields: Fields(fields), time: Self.now)
    }

    static var now: Timestamp { wallClockNanos() }
}

extension AgentConfiguration {
    /// Validated, with the default buffer directory filled in.
    func resolved() throws(AgentConfigurationError) -> AgentConfiguration {
        var c = try validated()
        if c.bufferDirectory.isEmpty { c.bufferDirectory = Self.defaultBufferDirectory }
        return c
    }

    /// `$STATE_DIRECTORY` (systemd's), else `~/.tock/agent-buffer`.
    public static var defaultBufferDirectory: String {
        let environment = ProcessInfo.processInfo.environment
        if let state = environment["STATE_DIRECTORY"], !state.isEmpty { return "\(state)/agent-buffer" }
        return "\(environment["HOME"] ?? ".")/.tock/agent-buffer"
    }
}

/// Why the agent cannot start.
public enum AgentError: Error, Sendable, CustomStringConvertible {
    case configuration(AgentConfigurationError)
    case buffer(DiskBufferError)
    case collectors(CollectorError)

    public var description: String {
        switch self {
        case .configuration(let error): error.description
        case .buffer(let error): error.description
        case .collectors(let error): error.description
        }
    }
}
