import Foundation
import PluginSupervisor

/// Times gathers out from one thread that sleeps until the earliest deadline of the gathers in progress, instead of
/// a timer task per gather: a round of gathers that all finish in time costs this thread at most one wake-up, and
/// Dispatch's timer thread none.
final class GatherWatchdog: @unchecked Sendable {
    static let shared = GatherWatchdog()

    /// Guards everything below.
    private let condition = NSCondition()
    private var entries: [UInt64: (deadline: Date, fire: @Sendable () -> Void)] = [:]
    private var nextID: UInt64 = 0
    private var started = false
    /// What the thread sleeps until; nil while it waits with no deadline.
    private var sleepingUntil: Date?

    /// Calls `fire` on the watchdog's thread once `timeout` has passed, unless ``remove(_:)`` comes first.
    func add(after timeout: Duration, fire: @escaping @Sendable () -> Void) -> UInt64 {
        let (seconds, attoseconds) = timeout.components
        let deadline = Date(timeIntervalSinceNow: Double(seconds) + Double(attoseconds) / 1e18)
        condition.lock()
        defer { condition.unlock() }
        nextID += 1
        entries[nextID] = (deadline, fire)
        if !started {
            started = true
            startThread(name: "tock-gather-watchdog") { [self] in watch() }
        } else if sleepingUntil.map({ deadline < $0 }) ?? true {
            condition.signal()
        }
        return nextID
    }

    /// Forgets a gather that finished; the thread is not woken (it finds nothing due when its deadline comes).
    func remove(_ id: UInt64) {
        condition.lock()
        entries[id] = nil
        condition.unlock()
    }

    private func watch() {
        condition.lock()
        while true {
            let now = Date()
            let due = entries.filter { $0.value.deadline <= now }
            if !due.isEmpty {
                for id in due.keys { entries[id] = nil }
                condition.unlock()
                for entry in due.values { entry.fire() }
                condition.lock()
                continue
            }
            sleepingUntil = entries.values.map(\.deadline).min()
            if let until = sleepingUntil {
                _ = condition.wait(until: until)
            } else {
                condition.wait()
            }
        }
    }
}
