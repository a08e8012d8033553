import TockModel

/// Kapacitor's barrier message: a promise that no point of ``group`` older than ``time`` will follow.
///
/// A `barrier()` node emits one per group when the group has been idle (`.idle(d)`) or on a wall-clock period
/// (`.period(d)`). It travels beside the data, not inside ``Message``: nodes receive it through
/// ``Node/barrier(_:port:output:)`` and pass it on with ``NodeOutput/emit(barrier:)``. A `window` closes the
/// window the barrier's time has passed, as if a point at that time had arrived.
public struct Barrier: Sendable, Hashable {
    /// The group the barrier is for.
    public var group: GroupID
    /// The group's tags (those of its dimensions).
    public var tags: Tags
    public var dimensions: Dimensions
    /// Nanoseconds since the Unix epoch.
    public var time: Timestamp

    public init(group: GroupID, tags: Tags = Tags(), dimensions: Dimensions = .none, time: Timestamp) {
        self.group = group
        self.tags = tags
        self.dimensions = dimensions
        self.time = time
    }
}
