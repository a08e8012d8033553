import Dispatch
import Foundation
import Logging

/// The daemon's background services: `[load]` (at start and on SIGHUP), `[stats]` and `[hosts]`.
final class DaemonServices: @unchecked Sendable {
    let load: LoadService
    let stats: StatsService?
    let hosts: HostService?
    private var hangup: (any DispatchSourceSignal)?
    private let lock = NSLock()
    private var stopped = false

    private init(load: LoadService, stats: StatsService?, hosts: HostService?) {
        self.load = load
        self.stats = stats
        self.hosts = hosts
    }

    /// Loads the load directory, then reloads it on every SIGHUP (as `kapacitord` does), and starts the stats service.
    /// `reload` runs on every SIGHUP too, after the load directory (the daemon re-reads its collectors).
    static func start(api: TockAPI, configuration: ServerConfiguration, log: Logger,
                      reload: @escaping @Sendable () -> Void = {}) -> DaemonServices {
        let load = LoadService(settings: configuration.load, tasks: api.tasks, dataDirectory: configuration.dataDirectory, log: log)
        let stats = configuration.stats.enabled
            ? StatsService(statistics: api.statistics, settings: configuration.stats, log: log) : nil
        let hosts = api.hosts.map { HostService(inventory: $0, master: api.master, log: log) }
        let services = DaemonServices(load: load, stats: stats, hosts: hosts)
        load.load()
        signal(SIGHUP, SIG_IGN)
        let source = DispatchSource.makeSignalSource(signal: SIGHUP, queue: DispatchQueue(label: "tock.sighup"))
        source.setEventHandler {
            log.info("SIGHUP: reloading", metadata: ["service": "load"])
            load.load()
            reload()
        }
        source.resume()
        services.hangup = source
        stats?.start()
        hosts?.start()
        return services
    }

    /// Stops the stats reports and the SIGHUP handler; safe to call more than once.
    func stop() {
        let first = lock.withLock { () -> Bool in
            defer { stopped = true }
            return !stopped
        }
        guard first else { return }
        hangup?.cancel()
        stats?.stop()
        hosts?.stop()
    }
}
