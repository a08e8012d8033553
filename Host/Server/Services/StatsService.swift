import Dispatch
import Engine
import Foundation
import Logging
import TockModel

/// Kapacitor's `[stats]` service (`services/stats/service.go`): every `stats-interval` the daemon's statistics (the
/// numbers of `/kapacitor/v1/debug/vars`) become points of `database`.`retention-policy`, written into the daemon's
/// own stream, so that a task with `dbrp "_kapacitor"."autogen"` can watch Tock itself.
final class StatsService: @unchecked Sendable {
    private let statistics: DaemonStatistics
    private let settings: StatsSettings
    private let log: Logger
    private let queue = DispatchQueue(label: "tock.stats")
    private var timer: (any DispatchSourceTimer)?

    init(statistics: DaemonStatistics, settings: StatsSettings, log: Logger) {
        self.statistics = statistics
        self.settings = settings
        var log = log
        log[metadataKey: "service"] = "stats"
        self.log = log
    }

    /// Starts reporting every interval (as Kapacitor's ticker: the first report one interval after the start).
    func start() {
        let timer = DispatchSource.makeTimerSource(queue: queue)
        let interval = DispatchTimeInterval.nanoseconds(Int(settings.interval))
        timer.schedule(deadline: .now() + interval, repeating: interval)
        timer.setEventHandler { [weak self] in self?.report() }
        self.timer = timer
        timer.resume()
        log.info("opened service", metadata: [
            "interval": .string(GoDuration.format(settings.interval)),
            "db": .string(settings.database), "rp": .string(settings.retentionPolicy),
        ])
    }

    /// Stops the reports. A report in progress is not waited for: it may be waiting for a task's full input, and
    /// the tasks are stopped after the services.
    func stop() {
        timer?.cancel()
    }

    /// Writes one round of statistics into the tasks reading the stats database and retention policy.
    func report() {
        let points: [Point]
        do {
            points = try statistics.points(database: settings.database, retentionPolicy: settings.retentionPolicy,
                                           time: nowNanoseconds())
        } catch {
            log.error("error getting stats data", metadata: ["err": "\(error)"])
            return
        }
        let master = statistics.master
        master.metrics.received(points, database: settings.database, retentionPolicy: settings.retentionPolicy)
        master.route(database: settings.database, retentionPolicy: settings.retentionPolicy).write(points)
    }
}

/// The `[stats]` section.
public struct StatsSettings: Sendable, Equatable {
    public var enabled = true
    /// Nanoseconds between reports.
    public var interval: Int64 = 10 * GoDuration.second
    public var database = "_kapacitor"
    public var retentionPolicy = "autogen"
    /// Kapacitor's share of node executions whose time is measured; read and checked (Tock times every execution).
    public var timingSampleRate = 0.10
    /// Kapacitor's size of the moving average of execution times; read and checked.
    public var timingMovingAverageSize = 1000

    public init() {}

    mutating func set(key: String, value: String, origin: String) throws(ConfigurationError) {
        switch key {
        case "enabled":
            guard let b = Bool(value.lowercased()) else { throw ConfigurationError("\(origin): enabled must be true or false, got \"\(value)\"") }
            enabled = b
        case "stats-interval":
            guard let ns = GoDuration.parse(value), ns > 0 else {
                throw ConfigurationError("\(origin): stats-interval must be a positive duration such as \"10s\", got \"\(value)\"")
            }
            interval = ns
        case "database":
            guard !value.isEmpty else { throw ConfigurationError("\(origin): database must not be empty") }
            database = value
        case "retention-policy": retentionPolicy = value
        case "timing-sample-rate":
            guard let r = Double(value), r >= 0, r <= 1 else {
                throw ConfigurationError("\(origin): timing-sample-rate must be a number from 0 to 1, got \"\(value)\"")
            }
            timingSampleRate = r
        case "timing-movavg-size":
            guard let n = Int(value), n > 0 else {
                throw ConfigurationError("\(origin): timing-movavg-size must be a positive integer, got \"\(value)\"")
            }
            timingMovingAverageSize = n
        default:
            throw ConfigurationError("\(origin): unknown setting stats.\(key)")
        }
    }
}
