import Engine
import Synchronization
import TockModel

/// `tock run`'s ingress for `kapacitorLoopback` nodes: the run has one task, which reads only the input's dbrp, and a
/// loopback into that dbrp is refused as a loop; so the points written back reach no task. They are counted by
/// database and retention policy and reported in the run's summary.
final class RunLoopback: PointIngress {
    let taskDBRPs: [DBRP]
    private let written = Mutex<[DBRP: Int]>([:])

    init(target: DBRP) { taskDBRPs = [target] }

    func write(_ points: [Point]) throws {
        written.withLock { counts in
            for p in points { counts[DBRP(p.database, p.retentionPolicy), default: 0] += 1 }
        }
    }

    /// The summary's line, or nil when nothing was written back.
    var summary: String? {
        let counts = written.withLock { $0 }
        guard !counts.isEmpty else { return nil }
        let parts = counts.keys.sorted { "\($0)" < "\($1)" }.map { "\(counts[$0]!) to \($0)" }
        return "kapacitorLoopback wrote \(parts.joined(separator: ", ")); tock run runs one task, so they reach no task\n"
    }
}
