#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Dispatch
import Synchronization
import TockModel

/// `|barrier()`: emits a ``Barrier`` per group when the group has been idle (`.idle(d)`) or on a wall-clock period
/// (`.period(d)`), so that windows close without new data; as Kapacitor's `barrier.go`.
///
/// - `.idle(d)`: `d` of wall-clock time after a group's last point (or barrier), the group gets a barrier at the
///   last point's time + `d`; while it stays idle, one more every `d`, each `d` later in data time.
/// - `.period(d)`: every `d` of wall-clock time from the group's first point, a barrier at the current wall-clock time.
/// - `.delete(TRUE)`: after each barrier the group is deleted here and downstream (``Node/deleteGroup(_:port:output:)``);
///   it is created again by its next point.
///
/// A point (or batch point, or barrier from upstream) older than the group's last barrier is dropped.
/// One timer serves every group of the node: it fires at the earliest deadline and works on the task's executor.
final class BarrierNode: Node {
    enum Mode: Equatable {
        case idle(Int64)
        case period(Int64)
    }

    let mode: Mode
    let delete: Bool

    struct Group {
        var tags: Tags
        var dimensions: Dimensions
        /// Idle: the data time the next barrier is counted from. Period: unused.
        var lastPointTime: Int64
        /// The last barrier's time; older points are dropped.
        var lastBarrierTime: Int64?
        /// Monotonic nanoseconds at which the group's next barrier is due.
        var deadline: UInt64
        var generation: UInt64
    }

    private var groups: [GroupID: Group] = [:]
    private var due = DeadlineHeap()
    private var generation: UInt64 = 0
    private var stopped = false
    private var output: (any NodeOutput)?
    private let timer = BarrierTimer()
    /// Monotonic nanoseconds (the timer's clock).
    let monotonicNow: @Sendable () -> UInt64
    /// Nanoseconds since the Unix epoch (a periodic barrier's time).
    let wallNow: @Sendable () -> Int64
    /// Whether the node arms a real timer (tests drive ``fire(output:)`` themselves).
    let armsTimer: Bool

    init(_ c: NodeConfiguration,
         monotonicNow: @escaping @Sendable () -> UInt64 = { DispatchTime.now().uptimeNanoseconds },
         wallNow: @escaping @Sendable () -> Int64 = BarrierNode.realtimeNow,
         armsTimer: Bool = true) throws {
        let idle = c.duration("idle") ?? 0
        let period = c.duration("period") ?? 0
        // pipeline/barrier.go's validate, in its order.
        if idle != 0 && period != 0 { throw NodeConfigurationError("cannot specify both idle and period") }
        if period == 0 && idle <= 0 { throw NodeConfigurationError("idle must be greater than zero") }
        if idle == 0 && period <= 0 { throw NodeConfigurationError("period must be greater than zero") }
        mode = idle != 0 ? .idle(idle) : .period(period)
        if case .bool(let b)? = c.property("delete")?.first { delete = b } else { delete = false }
        self.monotonicNow = monotonicNow
        self.wallNow = wallNow
        self.armsTimer = armsTimer
    }

    static let realtimeNow: @Sendable () -> Int64 = {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return Int64(ts.tv_sec) * 1_000_000_000 + Int64(ts.tv_nsec)
    }

    private var interval: UInt64 {
        switch mode {
        case .idle(let d), .period(let d): UInt64(d)
        }
    }

    /// The number of groups the node tracks.
    var cardinality: Int { groups.count }

    func start(output: any NodeOutput) throws { self.output = output }

    func receive(_ message: Message, port: Int, output: any NodeOutput) throws {
        switch message {
        case .point(let p):
            let passes = admit(group: p.group, tags: p.groupTags, dimensions: p.dimensions, times: CollectionOfOne(p.time))
            if passes.first == true { output.emit(message) }
        case .batch(var b):
            let passes = admit(group: b.group, tags: b.tags, dimensions: b.dimensions, times: b.points.lazy.map(\.time))
            if passes.contains(false) {
                b.points = zip(b.points, passes).compactMap { $1 ? $0 : nil }
            }
            output.emit(.batch(b))
        }
    }

    /// Creates the group if new, and tells for each time whether it is not older than the group's last barrier;
    /// each time that passes resets an idle timer and becomes the idle barrier's base.
    private func admit(group id: GroupID, tags: @autoclosure () -> Tags, dimensions: Dimensions,
                       times: some Sequence<Int64>) -> [Bool] {
        var g = groups[id] ?? newGroup(id, tags: tags(), dimensions: dimensions)
        var passes: [Bool] = []
        for t in times {
            if let last = g.lastBarrierTime, t < last {
                passes.append(false)
                continue
            }
            passes.append(true)
            if case .idle(let d) = mode {
                g.lastPointTime = t
                g.deadline = monotonicNow() &+ UInt64(d)
            }
        }
        groups[id] = g
        return passes
    }

    private func newGroup(_ id: GroupID, tags: Tags, dimensions: Dimensions) -> Group {
        generation &+= 1
        let g = Group(tags: tags, dimensions: dimensions, lastPointTime: 0, lastBarrierTime: nil,
                      deadline: monotonicNow() &+ interval, generation: generation)
        due.push(.init(deadline: g.deadline, group: id, generation: g.generation))
        arm()
        return g
    }

    func barrier(_ barrier: Barrier, port: Int, output: any NodeOutput) throws {
        var g = groups[barrier.group] ?? newGroup(barrier.group, tags: barrier.tags, dimensions: barrier.dimensions)
        if let last = g.lastBarrierTime, barrier.time < last { return }
        if case .idle(let d) = mode {
            g.lastPointTime = barrier.time
            g.lastBarrierTime = barrier.time
            g.deadline = monotonicNow() &+ UInt64(d)
        }
        groups[barrier.group] = g
        output.emit(barrier: barrier)
    }

    func deleteGroup(_ group: GroupID, port: Int, output: any NodeOutput) throws {
        groups[group] = nil
        output.emit(deleteGroup: group)
    }

    /// Emits the barriers that are due (on the executor); the timer calls it, tests may too.
    func fire(output: any NodeOutput) {
        if stopped { return }
        let now = monotonicNow()
        while let top = due.min, top.deadline <= now {
            due.popMin()
            guard var g = groups[top.group], g.generation == top.generation else { continue }
            if g.deadline > now {
                // Data arrived since: the barrier moved later.
                due.push(.init(deadline: g.deadline, group: top.group, generation: g.generation))
                continue
            }
            let time: Int64
            switch mode {
            case .idle(let d):
                time = g.lastPointTime.saturatingAdd(d)
                g.lastPointTime = time
            case .period:
                time = wallNow()
            }
            g.lastBarrierTime = time
            output.emit(barrier: Barrier(group: top.group, tags: g.tags, dimensions: g.dimensions, time: time))
            if delete {
                // Kapacitor sends the deletion into the node's own input: the group goes here and downstream.
                groups[top.group] = nil
                output.emit(deleteGroup: top.group)
                continue
            }
            switch mode {
            case .idle: g.deadline = now &+ interval
            case .period:
                // A ticker: the next tick one period after this one, or one period from now when running late.
                g.deadline = g.deadline &+ interval > now ? g.deadline &+ interval : now &+ interval
            }
            groups[top.group] = g
            due.push(.init(deadline: g.deadline, group: top.group, generation: g.generation))
        }
        arm()
    }

    private func arm() {
        guard armsTimer, !stopped, let next = due.min?.deadline, let output else { return }
        let box = UncheckedNode(node: self)
        timer.arm(at: next) {
            output.perform { box.node?.fire(output: output) }
        }
    }

    func stop(output: any NodeOutput) -> StopResult {
        stopped = true
        timer.cancel()
        return .done
    }
}

/// A weak reference to a node carried to the executor by a timer; only dereferenced there.
private struct UncheckedNode: @unchecked Sendable {
    weak var node: BarrierNode?
}

/// One pending wake-up at a time for a barrier node: re-arming earlier supersedes the pending one, later is ignored
/// (the node re-arms after each firing).
final class BarrierTimer: Sendable {
    private struct State {
        var armedAt: UInt64?
        var cancelled = false
    }
    private let state = Mutex(State())
    private static let queue = DispatchQueue(label: "tock.barrier-timers")

    func arm(at deadline: UInt64, _ fire: @escaping @Sendable () -> Void) {
        let arm = state.withLock { s -> Bool in
            if s.cancelled { return false }
            if let armed = s.armedAt, armed <= deadline { return false }
            s.armedAt = deadline
            return true
        }
        guard arm else { return }
        Self.queue.asyncAfter(deadline: DispatchTime(uptimeNanoseconds: deadline)) { [self] in
            // `fire` runs under the lock, so once `cancel()` has returned (the node stopped, its task may be gone)
            // no firing is under way or can start.
            state.withLock { s in
                guard !s.cancelled, s.armedAt == deadline else { return }
                s.armedAt = nil
                fire()
            }
        }
    }

    /// Stops the timer for good; waits for a firing under way to finish.
    func cancel() { state.withLock { $0.cancelled = true } }
}

/// A binary min-heap of groups' deadlines.
struct DeadlineHeap {
    struct Entry {
        var deadline: UInt64
        var group: GroupID
        var generation: UInt64
    }
    private var items: [Entry] = []

    var min: Entry? { items.first }
    var count: Int { items.count }

    mutating func push(_ e: Entry) {
        items.append(e)
        var i = items.count - 1
        while i > 0 {
            let parent = (i - 1) / 2
            if items[parent].deadline <= items[i].deadline { break }
            items.swapAt(parent, i)
            i = parent
        }
    }

    mutating func popMin() {
        guard !items.isEmpty else { return }
        items.swapAt(0, items.count - 1)
        items.removeLast()
        var i = 0
        while true {
            let l = 2 * i + 1, r = l + 1
            var smallest = i
            if l < items.count && items[l].deadline < items[smallest].deadline { smallest = l }
            if r < items.count && items[r].deadline < items[smallest].deadline { smallest = r }
            if smallest == i { break }
            items.swapAt(i, smallest)
            i = smallest
        }
    }
}
