import Dispatch
import Engine
import Synchronization
import TockModel

/// The daemon's ingress for one task's `kapacitorLoopback` nodes: points go to every enabled task reading their
/// database and retention policy, as if written to `/write`.
///
/// The writing task's executor never waits: points are queued and delivered on a queue of their own (a receiving
/// task whose input is full makes that queue wait, not the writer). The queue holds at most ``maximumBacklog``
/// points; beyond that a write is refused and the loopback node counts an error.
final class LoopbackIngress: PointIngress {
    let taskDBRPs: [DBRP]
    private weak let master: TaskMaster?
    private let backlog = Mutex(0)
    private static let queue = DispatchQueue(label: "tock.loopback")
    static let maximumBacklog = 262_144

    init(master: TaskMaster, taskDBRPs: [DBRP]) {
        self.master = master
        self.taskDBRPs = taskDBRPs
    }

    var readsEveryDatabase: Bool { taskDBRPs.isEmpty }

    func write(_ points: [Point]) throws {
        guard !points.isEmpty else { return }
        let taken = backlog.withLock { queued -> Bool in
            guard queued + points.count <= Self.maximumBacklog else { return false }
            queued += points.count
            return true
        }
        guard taken else { throw LoopbackBacklogFull(limit: Self.maximumBacklog) }
        Self.queue.async { [self] in
            defer { backlog.withLock { $0 -= points.count } }
            guard let master else { return }
            // Consecutive points of one database and retention policy go together (a node writes one dbrp).
            var start = points.startIndex
            while start < points.endIndex {
                let db = points[start].database, rp = points[start].retentionPolicy
                var end = start + 1
                while end < points.endIndex, points[end].database == db, points[end].retentionPolicy == rp { end += 1 }
                let slice = Array(points[start..<end])
                master.metrics.received(slice, database: db, retentionPolicy: rp)
                master.taps.deliver(slice, database: db, retentionPolicy: rp)
                master.route(database: db, retentionPolicy: rp).write(slice)
                start = end
            }
        }
    }
}

/// The loopback queue is full: receiving tasks are not keeping up.
struct LoopbackBacklogFull: Error, CustomStringConvertible {
    var limit: Int
    var description: String { "the loopback queue holds \(limit) points already: the receiving tasks are not keeping up" }
}
