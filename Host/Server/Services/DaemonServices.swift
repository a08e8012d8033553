import Foundation
import Logging

/// The daemon's background services: `[load]` (at start, and on SIGHUP through ``HangupService``), `[stats]` and
/// `[hosts]`.
final class DaemonServices: @unchecked Sendable {
    let load: LoadService
    let stats: StatsService?
    let hosts: HostService?
    private let lock = NSLock()
    private var stopped = false

    private init(load: LoadService, stats: StatsService?, hosts: HostService?) {
        self.load = load
        self.stats = stats
        self.hosts = hosts
    }

    /// Loads the load directory and starts the stats and hosts services.
    static func start(api: TockAPI, configuration: ServerConfiguration, log: Logger) -> DaemonServices {
        let load = LoadService(settings: configuration.load, tasks: api.tasks, dataDirectory: configuration.dataDirectory, log: log)
        let stats = configuration.stats.enabled
            ? StatsService(statistics: api.statistics, settings: configuration.stats, log: log) : nil
        let hosts = api.hosts.map { HostService(inventory: $0, master: api.master, log: log) }
        let services = DaemonServices(load: load, stats: stats, hosts: hosts)
        load.load()
        stats?.start()
        hosts?.start()
        return services
    }

    /// Stops the stats and hosts reports; safe to call more than once.
    func stop() {
        let first = lock.withLock { () -> Bool in
            defer { stopped = true }
            return !stopped
        }
        guard first else { return }
        stats?.stop()
        hosts?.stop()
    }
}
