import Engine
import Foundation
import Synchronization
import TockModel

/// Something that sees the points the daemon delivers to its tasks (a stream recording).
protocol PointTap: AnyObject, Sendable {
    /// The databases and retention policies the tap reads (empty: every point).
    var dbrps: Set<DBRP> { get }
    /// Called from the delivering thread (a `/write` request, …) with points of one database and retention policy.
    func receive(_ points: [Point])
}

/// The taps on the daemon's point delivery: every path that hands points to the tasks (`/write`, subscriptions,
/// UDP) hands them here too with ``deliver(_:database:retentionPolicy:)``. Without taps it costs one atomic load.
public final class PointTaps: Sendable {
    private let taps = Mutex<[ObjectIdentifier: any PointTap]>([:])
    private let count = Atomic<Int>(0)

    public init() {}

    /// Hands `points` (all of `database`.`retentionPolicy`) to the taps reading them.
    public func deliver(_ points: [Point], database: String, retentionPolicy: String) {
        guard count.load(ordering: .relaxed) > 0, !points.isEmpty else { return }
        let dbrp = DBRP(database, retentionPolicy)
        let readers = taps.withLock { $0.values.filter { $0.dbrps.isEmpty || $0.dbrps.contains(dbrp) } }
        for tap in readers { tap.receive(points) }
    }

    func add(_ tap: any PointTap) {
        taps.withLock {
            $0[ObjectIdentifier(tap)] = tap
            count.store($0.count, ordering: .relaxed)
        }
    }

    func remove(_ tap: any PointTap) {
        taps.withLock {
            $0[ObjectIdentifier(tap)] = nil
            count.store($0.count, ordering: .relaxed)
        }
    }
}
