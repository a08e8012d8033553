import Dispatch
import Engine
import Foundation
import Logging
import TockModel

/// The host inventory's background work: every second the hosts changed by points reach the store; every
/// `[hosts] check-interval` the recent metrics are pruned and one `tock_hosts` point per host is written into the
/// daemon's stream (database and retention policy of `[hosts]`), so that a task can alert on silent or unassigned
/// hosts.
final class HostService: @unchecked Sendable {
    let inventory: HostInventory
    let master: TaskMaster
    let log: Logger
    private let queue = DispatchQueue(label: "tock.hosts")
    private var timer: (any DispatchSourceTimer)?
    /// When the last `tock_hosts` points were written (touched on `queue` only).
    private var lastReport: Int64 = 0

    init(inventory: HostInventory, master: TaskMaster, log: Logger) {
        self.inventory = inventory
        self.master = master
        var log = log
        log[metadataKey: "service"] = "hosts"
        self.log = log
    }

    func start() {
        let timer = DispatchSource.makeTimerSource(queue: queue)
        timer.schedule(deadline: .now() + .seconds(1), repeating: .seconds(1))
        lastReport = nowNanoseconds()
        timer.setEventHandler { [weak self] in self?.tick() }
        self.timer = timer
        timer.resume()
        let settings = inventory.settings
        log.info("opened service", metadata: [
            "check_interval": .string(GoDuration.format(settings.checkInterval)),
            "db": .string(settings.database), "rp": .string(settings.retentionPolicy),
        ])
    }

    /// Stops the timer and saves what the points changed.
    func stop() {
        timer?.cancel()
        queue.sync { flush() }
    }

    private func tick() {
        flush()
        let now = nowNanoseconds()
        if now - lastReport >= inventory.settings.checkInterval {
            lastReport = now
            inventory.metrics.prune(now: now)
            report(now: now)
        }
    }

    func flush() {
        do { try inventory.flush() } catch { log.error("cannot save hosts", metadata: ["err": "\(error)"]) }
    }

    /// Writes the `tock_hosts` points of `now` into the tasks reading the `[hosts]` database and retention policy.
    func report(now: Int64) {
        Self.report(inventory, master: master, now: now)
    }

    static func report(_ inventory: HostInventory, master: TaskMaster, now: Int64) {
        let points = inventory.statusPoints(now: now)
        guard !points.isEmpty else { return }
        let db = inventory.settings.database, rp = inventory.settings.retentionPolicy
        master.metrics.received(points, database: db, retentionPolicy: rp)
        master.taps.deliver(points, database: db, retentionPolicy: rp)
        master.route(database: db, retentionPolicy: rp).write(points)
    }
}
