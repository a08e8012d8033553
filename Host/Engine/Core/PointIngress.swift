import TockModel

/// Where a `kapacitorLoopback` node writes: the engine's own ingress, as if the points arrived by `/write`.
///
/// The daemon hands each task one that routes the points to every enabled task reading their database and
/// retention policy (other tasks, never a loop into the writing task itself: see ``taskDBRPs``); `tock run` hands one
/// that counts them. `write` is called on the task's executor and must not wait for other tasks.
public protocol PointIngress: Sendable {
    /// The databases and retention policies the writing task reads: a loopback into one of them would feed the
    /// task its own output, which Kapacitor refuses ("loop detected on dbrp").
    var taskDBRPs: [DBRP] { get }

    /// Whether the writing task reads every database (it has no dbrp): then any loopback reaches it again.
    var readsEveryDatabase: Bool { get }

    /// Hands `points` to the ingress; throws when they cannot be taken (the node logs it and counts an error).
    func write(_ points: [Point]) throws
}

extension PointIngress {
    public var readsEveryDatabase: Bool { false }
}
