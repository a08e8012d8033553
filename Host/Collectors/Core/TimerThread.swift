import Synchronization
import PluginSupervisor

/// Runs closures at deadlines from one thread of its own, which sleeps (on the monotonic clock) until the earliest
/// one: the collectors' rounds, their gathers' timeouts, the agent's flushes and heartbeats. Nothing here wakes a
/// Dispatch or Swift-concurrency thread, so an agent that gathers every 10 s costs a few wake-ups of threads it keeps,
/// not the start and end of Dispatch's worker threads every round.
///
/// A deadline may have a slack: the thread then fires it as late as `deadline + slack` so that deadlines close to
/// each other fire in one wake-up. Closures run on the timer thread one after another and must not block: a closure
/// with work to do hands it to a thread of its own (``GatherThread``).
public final class TimerThread: @unchecked Sendable {
    /// The process's timer thread.
    public static let shared = TimerThread(name: "tock-timers")

    /// Names a deadline, for ``remove(_:)``.
    public struct ID: Hashable, Sendable {
        fileprivate let value: UInt64
    }

    private struct Entry {
        var deadline: UInt64
        var latest: UInt64
        var fire: @Sendable () -> Void
    }

    private let name: String
    /// Guards everything below.
    private let condition = ConditionLock()
    private var entries: [UInt64: Entry] = [:]
    private var nextID: UInt64 = 0
    private var started = false
    /// What the thread sleeps until; nil while it waits with no deadline.
    private var sleepingUntil: UInt64?

    public init(name: String) { self.name = name }

    /// Calls `fire` on the timer thread once `delay` has passed (at most `slack` later), unless ``remove(_:)`` comes
    /// first.
    @discardableResult
    public func add(after delay: Duration, slack: Duration = .zero, fire: @escaping @Sendable () -> Void) -> ID {
        add(at: monotonicNanos() &+ delay.nanoseconds, slack: slack, fire: fire)
    }

    /// Calls `fire` on the timer thread at `deadline` (``TimerThread/now``'s clock), at most `slack` later.
    @discardableResult
    public func add(at deadline: UInt64, slack: Duration = .zero, fire: @escaping @Sendable () -> Void) -> ID {
        let latest = deadline &+ slack.nanoseconds
        condition.lock()
        defer { condition.unlock() }
        nextID += 1
        entries[nextID] = Entry(deadline: deadline, latest: latest, fire: fire)
        if !started {
            started = true
            startThread(name: name) { [self] in run() }
        } else if sleepingUntil.map({ latest < $0 }) ?? true {
            condition.signal()
        }
        return ID(value: nextID)
    }

    /// Forgets a deadline; the thread is not woken (it finds nothing due when its wake-up comes).
    public func remove(_ id: ID) {
        condition.lock()
        entries[id.value] = nil
        condition.unlock()
    }

    /// The first of `deadline + interval`, `deadline + 2 × interval`, … still ahead: runs missed while the thread was
    /// held up are not made up, the schedule is kept.
    public static func next(after deadline: UInt64, every interval: Duration) -> UInt64 {
        let step = max(1, interval.nanoseconds)
        let now = Self.now
        let next = deadline &+ step
        return next > now ? next : now &+ step - (now &- deadline) % step
    }

    /// Now, in nanoseconds of the monotonic clock the deadlines are given in.
    public static var now: UInt64 { monotonicNanos() }

    private func run() {
        condition.lock()
        while true {
            let now = monotonicNanos()
            let due = entries.filter { $0.value.deadline <= now }
            if !due.isEmpty {
                for id in due.keys { entries[id] = nil }
                condition.unlock()
                for entry in due.values.sorted(by: { $0.deadline < $1.deadline }) { entry.fire() }
                condition.lock()
                continue
            }
            sleepingUntil = entries.values.lazy.map(\.latest).min()
            if let until = sleepingUntil {
                condition.wait(until: until)
            } else {
                condition.wait()
            }
        }
    }
}

/// A closure run every `interval` by a ``TimerThread`` until cancelled; a run missed (the thread was held up) is not
/// made up, the next one keeps the schedule.
public final class RepeatingTimer: Sendable {
    private let state: Mutex<(id: TimerThread.ID?, cancelled: Bool)> = Mutex((nil, false))
    private let thread: TimerThread
    private let interval: Duration
    private let slack: Duration
    private let body: @Sendable () -> Void

    /// Runs `body` every `interval` from one interval from now.
    public init(every interval: Duration, slack: Duration = .zero, on thread: TimerThread = .shared,
                _ body: @escaping @Sendable () -> Void) {
        self.thread = thread
        self.interval = interval
        self.slack = slack
        self.body = body
        arm(at: TimerThread.now &+ interval.nanoseconds)
    }

    private func arm(at deadline: UInt64) {
        state.withLock { state in
            guard !state.cancelled else { return }
            state.id = thread.add(at: deadline, slack: slack) { [self] in
                body()
                arm(at: TimerThread.next(after: deadline, every: interval))
            }
        }
    }

    /// Stops the runs to come (a run in progress finishes).
    public func cancel() {
        state.withLock { state in
            state.cancelled = true
            if let id = state.id { thread.remove(id) }
        }
    }
}

extension Duration {
    /// Whole nanoseconds, at least zero.
    public var nanoseconds: UInt64 { UInt64(max(0, nanosecondsValue)) }
}
