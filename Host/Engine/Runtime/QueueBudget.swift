import Foundation
import Synchronization
import TockModel

/// One bound on the points that all tasks hold queued together, with back-pressure on the writers when it is reached.
///
/// A write fanned out to many tasks is one ``SharedPoints`` that every task's queue references, and counts once here
/// (it is in memory once) from the moment it is written until the last task has taken it. A writer that would take
/// the total over ``limit`` waits (``TaskRunner/write(_:to:)`` blocks, as it does when one task's own backlog is
/// full) until the tasks have worked the queues down; a write is always let in when nothing is held, so a single
/// write larger than the limit still goes through. Writes made on an executor thread never wait (see
/// ``TaskRunner/write(_:to:)``).
///
/// Once the queues are empty again after a burst, the process's allocator is asked to give its free memory back to
/// the system, so that the memory a burst took returns.
public final class QueueBudget: @unchecked Sendable {
    /// The budget of every task unless it was given another one: 524,288 points (about 100 MB at the ~200 bytes a
    /// queued point takes with its tags and fields), where one task alone may queue 262,144.
    public static let shared = QueueBudget(limit: 1 << 19)

    /// The points all tasks may hold queued together before writers wait.
    public let limit: Int

    private let condition = NSCondition()
    private var held = 0
    private var peakSinceTrim = 0
    private var waits = 0
    /// The peak above which the drained queues trigger a trim of the allocator.
    static let trimThreshold = 65_536

    /// A budget of `limit` points (at least 1).
    public init(limit: Int) {
        self.limit = max(1, limit)
    }

    /// Points queued now, over all the tasks of this budget.
    public var heldPoints: Int { condition.withLock { held } }

    /// How many times a writer had to wait for the budget so far.
    public var waitCount: Int { condition.withLock { waits } }

    /// Takes `count` points from the budget, waiting while they do not fit (unless `wait` is false or nothing is held).
    func acquire(_ count: Int, wait: Bool) {
        guard count > 0 else { return }
        condition.lock()
        if wait && held > 0 && held + count > limit {
            waits += 1
            repeat { condition.wait() } while held > 0 && held + count > limit
        }
        held += count
        peakSinceTrim = max(peakSinceTrim, held)
        condition.unlock()
    }

    /// Gives `count` points back and wakes the writers waiting.
    func release(_ count: Int) {
        guard count > 0 else { return }
        condition.lock()
        held -= count
        let trim = held == 0 && peakSinceTrim >= Self.trimThreshold
        if trim { peakSinceTrim = 0 }
        condition.broadcast()
        condition.unlock()
        if trim { Self.returnFreeMemory() }
    }

    /// Asks the allocator to hand free pages back to the system (glibc keeps freed memory in its arenas otherwise).
    static func returnFreeMemory() {
        #if os(Linux)
        _ = glibcMallocTrim(0)
        #endif
    }
}

#if os(Linux)
/// glibc's `malloc_trim(3)`, which the Glibc module does not export.
@_silgen_name("malloc_trim")
private func glibcMallocTrim(_ pad: Int) -> Int32
#endif

/// Points written to one or more tasks: one array referenced by every task's queue instead of a copy per task.
///
/// Each task takes the points once (``take()``) or drops them unread (``drop()``, a task that has ended). Every task
/// but the last gets a reference to the shared array (copied only if and when a node changes it); the last one takes
/// the array itself, so that a write to one task reaches its nodes without a copy, as before. The points count in
/// their ``QueueBudget`` until the last task has taken or dropped them.
final class SharedPoints: @unchecked Sendable {
    private var points: [Point]
    let count: Int
    private let holders: Atomic<Int>
    private let budget: QueueBudget?

    init(_ points: [Point], holders: Int, budget: QueueBudget?) {
        self.points = points
        self.count = points.count
        self.holders = Atomic(holders)
        self.budget = budget
    }

    /// The points, for one holder.
    func take() -> [Point] {
        // Read before letting go: once the count reaches 0 the last holder moves the array out.
        var mine = points
        if holders.subtract(1, ordering: .acquiringAndReleasing).newValue == 0 {
            mine = []
            swap(&mine, &points)
            budget?.release(count)
        }
        return mine
    }

    /// Lets go of the points unread.
    func drop() {
        if holders.subtract(1, ordering: .acquiringAndReleasing).newValue == 0 {
            points = []
            budget?.release(count)
        }
    }
}
