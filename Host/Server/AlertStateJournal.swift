import Dispatch
import Engine
import Foundation
import Logging
import Storage
import TockModel

/// Alert levels kept in the daemon's store, so that a task's alerts keep their level across restarts and
/// updates, written behind the tasks' backs.
///
/// An alert node records a level change on its task's executor thread, which the pool's other tasks share: it must
/// not wait there for SQLite's one writer (held by other saves for milliseconds at a time). ``save(taskID:nodeID:alertID:level:time:)``
/// only notes the latest level of the alert; a serial writer writes what is noted in one transaction, and what is
/// noted while it writes in the next one, so under a burst of level changes the store sees a few transactions a
/// second, each holding only the last level of every alert that changed. ``lastLevel(taskID:nodeID:alertID:)`` reads
/// what is noted or being written before the store, so a task restarted at once still finds its levels.
///
/// A store failure is logged and the levels stay noted for the next write; the table holds one row per alert,
/// so what waits is bounded by the number of alerts. A crash loses at most the levels of the write in progress
/// and those noted since (Kapacitor's alert node saves synchronously; Tock chooses not to stall other tasks).
final class AlertStateJournal: AlertStateStore, @unchecked Sendable {
    struct Key: Hashable, Sendable {
        var taskID: String
        var nodeID: String
        var alertID: String
    }

    private let store: Store
    private let log: Logger
    private let queue = DispatchQueue(label: "tock.alert-states")
    private let lock = NSLock()
    /// Levels noted and not yet taken by the writer.
    private var noted: [Key: (level: AlertLevel, time: Int64)] = [:]
    /// Levels the writer is writing now (read by ``lastLevel`` until they are committed).
    private var writing: [Key: (level: AlertLevel, time: Int64)] = [:]
    /// Whether a write is queued or running.
    private var scheduled = false

    init(store: Store, log: Logger) {
        self.store = store
        self.log = log
    }

    func lastLevel(taskID: String, nodeID: String, alertID: String) -> (level: AlertLevel, time: Int64)? {
        let key = Key(taskID: taskID, nodeID: nodeID, alertID: alertID)
        lock.lock()
        let pending = noted[key] ?? writing[key]
        lock.unlock()
        if let pending { return pending }
        do {
            guard let saved = try store.alertState(taskID: taskID, nodeID: nodeID, alertID: alertID),
                  let level = AlertLevel(rawValue: saved.level) else { return nil }
            return (level, saved.time)
        } catch {
            log.error("cannot read alert state", metadata: [
                "task": .string(taskID), "node": .string(nodeID), "err": "\(error)",
            ])
            return nil
        }
    }

    func save(taskID: String, nodeID: String, alertID: String, level: AlertLevel, time: Int64) {
        lock.lock()
        noted[Key(taskID: taskID, nodeID: nodeID, alertID: alertID)] = (level, time)
        let start = !scheduled
        scheduled = true
        lock.unlock()
        if start { queue.async { self.writeNoted() } }
    }

    /// Writes every noted level before returning (at shutdown, and in tests that read the store).
    func flush() {
        queue.sync { writeNoted() }
    }

    /// Drops the levels noted for a task that is being deleted, and waits for a write in progress, so that none of
    /// its rows reaches the store after the task's are deleted. Call once the task has stopped.
    func forget(taskID: String) {
        lock.lock()
        noted = noted.filter { $0.key.taskID != taskID }
        lock.unlock()
        queue.sync {}
    }

    /// Number of levels noted or being written (for tests).
    var pendingCount: Int {
        lock.lock()
        defer { lock.unlock() }
        return noted.count + writing.count
    }

    /// On `queue`: writes the noted levels, one transaction at a time, until none is left or a write fails.
    private func writeNoted() {
        while true {
            lock.lock()
            guard !noted.isEmpty else {
                scheduled = false
                lock.unlock()
                return
            }
            writing = noted
            noted = [:]
            let batch = writing
            lock.unlock()
            do {
                try store.saveAlertStates(batch.map {
                    StoredAlertState(taskID: $0.key.taskID, nodeID: $0.key.nodeID, alertID: $0.key.alertID,
                                     level: $0.value.level.rawValue, time: $0.value.time)
                })
                lock.lock()
                writing = [:]
                lock.unlock()
            } catch {
                log.error("cannot save alert states", metadata: ["count": "\(batch.count)", "err": "\(error)"])
                // Kept for the next save or flush; a level noted since is newer and wins.
                lock.lock()
                noted.merge(writing) { newer, _ in newer }
                writing = [:]
                scheduled = false
                lock.unlock()
                return
            }
        }
    }
}
