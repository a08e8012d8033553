import Alerting
import Foundation
import Logging
import PluginHost
import ServiceLifecycle
import Storage
import UnixSignals

// The daemon's long-lived parts as swift-service-lifecycle services, run by one `ServiceGroup` (``Daemon/run``).
// Each is started (tasks enabled, listeners bound, collectors scheduled) before the group runs, so that a part that
// cannot start fails `tock serve` before it serves; a service's `run()` is the part's life from then on: it waits
// for the group's graceful shutdown (SIGTERM, SIGINT), and then stops the part. The group shuts its services down
// one at a time in the reverse of their order, so the order of ``Daemon/services`` is the order of the drain:
// the HTTP server stops accepting first, the UDF snapshots are saved last.

/// Runs `stop` when the group shuts down gracefully (`graceful` true) or is cancelled (`graceful` false: another
/// service failed), after `work` (a loop until cancelled, if any) has ended.
struct DaemonPart: Service, CustomStringConvertible {
    /// The service's name in the group's debug lines.
    let description: String
    /// What the part does until shutdown, cancelled when the shutdown comes.
    var work: (@Sendable () async -> Void)?
    let stop: @Sendable (_ graceful: Bool) async -> Void

    init(_ name: String, work: (@Sendable () async -> Void)? = nil, stop: @escaping @Sendable (_ graceful: Bool) async -> Void) {
        description = name
        self.work = work
        self.stop = stop
    }

    func run() async throws {
        let graceful: Bool
        if let work {
            await cancelWhenGracefulShutdown { await work() }
            graceful = !Task.isCancelled
        } else {
            do {
                try await gracefulShutdown()
                graceful = true
            } catch {
                graceful = false
            }
        }
        await stop(graceful)
    }
}

/// `[load]` and the collectors reloaded on every SIGHUP (as `kapacitord` reloads its load directory), until the
/// graceful shutdown; then the `[stats]` and `[hosts]` reports stop.
struct HangupService: Service, CustomStringConvertible {
    let description = "sighup"
    /// Trapping SIGHUP from before the group runs: a SIGHUP that comes early is kept, not fatal.
    let hangups: UnixSignalsSequence
    let services: DaemonServices
    let log: Logger
    /// After the load directory: the daemon re-reads its collectors.
    let reload: @Sendable () -> Void

    func run() async throws {
        for await _ in hangups.cancelOnGracefulShutdown() {
            log.info("SIGHUP: reloading", metadata: ["service": "load"])
            services.load.load()
            reload()
        }
        services.stop()
    }
}

extension Daemon {
    /// The daemon's services in start order; the group stops them in the reverse order.
    static func services(app: any Service, daemonServices: DaemonServices, hangups: UnixSignalsSequence,
                         reload: @escaping @Sendable () -> Void, ingest: Ingest, master: TaskMaster, api: TockAPI,
                         alerting: AlertingService, drainTimeout: Duration, store: Store, udfs: UDFRegistry?,
                         log: Logger) -> [any Service] {
        var services: [any Service] = []
        if let udfs {
            // UDF nodes snapshot themselves every [task] snapshot-interval; the snapshots reach the database on the
            // same beat (a crash loses at most one interval of UDF state), and once more when the tasks have stopped.
            let interval = udfs.configuration.snapshotInterval
            let work: (@Sendable () async -> Void)? = interval > 0
                ? { @Sendable in await persistSnapshots(udfs, to: store, every: interval, log: log) } : nil
            services.append(DaemonPart("udf-snapshots", work: work, stop: { graceful in
                guard graceful else { return }
                do {
                    let count = try saveSnapshots(udfs, to: store)
                    log.info("saved UDF snapshots", metadata: ["count": "\(count)"])
                } catch {
                    log.error("cannot save UDF snapshots", metadata: ["err": "\(error)"])
                }
            }))
        }
        // Topic event states reach the store in batches, at most once a second, and once more at shutdown.
        services.append(DaemonPart("topic-states", work: {
            await TopicAPI.persist(alerting.topics, to: store, log: log)
        }, stop: { _ in }))
        // The alert handlers' and notifiers' queues get drain-timeout for what the stopped tasks left them; the rest
        // becomes dead letters.
        services.append(DaemonPart("alert-queues") { graceful in
            guard graceful else { return }
            if !alerting.settle(within: drainTimeout) {
                log.warning("alert handlers still had events after drain-timeout: kept as dead letters", metadata: [
                    "drain_timeout": "\(drainTimeout)",
                ])
            }
        })
        services.append(DaemonPart("task-master") { graceful in
            if graceful { log.info("shutting down: draining tasks") }
            master.stopAll()
            // What the last points changed in the host inventory.
            do { try api.hosts?.flush() } catch { log.error("cannot save hosts", metadata: ["err": "\(error)"]) }
        })
        // Subscriptions, UDP listeners and collectors: no more points once the server has stopped.
        services.append(DaemonPart("ingest") { _ in await ingest.stop() })
        services.append(HangupService(hangups: hangups, services: daemonServices, log: log, reload: reload))
        services.append(app)
        return services
    }
}
