import Foundation
import PluginSupervisor
import Synchronization
import TockModel

/// One round of gathers: the collectors due at the same time gather one after another on one thread, so that a round
/// of a dozen built-ins costs a few wake-ups instead of several per collector.
///
/// A gather that takes longer than ``handoff`` hands the rest of the round to another thread (the slow one keeps its
/// own), so a collector stuck in a read (a hung NFS mount under `statfs`) delays the others by at most that much. A
/// gather still running at its timeout is reported ``CollectorBox/Outcome/timedOut`` and its collector is skipped as
/// ``CollectorBox/Outcome/busy`` until it returns, so one never gathers twice at once. The round ends when every
/// member has an outcome.
struct GatherRound: Sendable {
    /// One collector of the round.
    struct Member: Sendable {
        var box: CollectorBox
        /// Builds the gather's context when the gather starts (its time stamp is that moment).
        var context: @Sendable () -> GatherContext
        var timeout: Duration
    }

    /// A member's outcome, how long it took (its timeout when it timed out) and the time stamp of its gather.
    struct Result: Sendable {
        var outcome: CollectorBox.Outcome
        var elapsed: Duration
        var time: Timestamp
    }

    /// How long one gather may hold up the rest of its round.
    static let handoff: Duration = .milliseconds(100)

    var members: [Member]

    /// Gathers every member and calls `done` with the results, in the members' order, on the thread that recorded
    /// the last one (a gather thread, or the timer thread when the last gather timed out).
    func run(_ done: @escaping @Sendable ([Result]) -> Void) {
        guard !members.isEmpty else { return done([]) }
        let state = State(members: members, done: done)
        GatherThread.run { state.work() }
    }

    /// Set when a slow gather handed the rest of the round to another thread.
    private final class Relief: Sendable {
        let relieved = Atomic<Bool>(false)
    }

    /// What the threads of one round share.
    private final class State: Sendable {
        let members: [Member]
        private let done: @Sendable ([Result]) -> Void
        private let progress: Mutex<(next: Int, results: [Result?], left: Int)>

        init(members: [Member], done: @escaping @Sendable ([Result]) -> Void) {
            self.members = members
            self.done = done
            progress = Mutex((0, Array(repeating: nil, count: members.count), members.count))
        }

        /// Gathers members in turn until none is left or a slow gather handed the rest to another thread.
        func work() {
            let relief = Relief()
            while !relief.relieved.load(ordering: .acquiring), let index = take() {
                let member = members[index]
                let started = ContinuousClock.now
                let context = member.context()
                guard let collector = member.box.begin() else {
                    record(index, Result(outcome: .busy, elapsed: .zero, time: context.time))
                    continue
                }
                // A slow gather hands the rest of the round on; one still running at its timeout is given up on.
                let soon = min(member.timeout, GatherRound.handoff)
                let handoff = TimerThread.shared.add(after: soon) { [self] in
                    relief.relieved.store(true, ordering: .releasing)
                    GatherThread.run { self.work() }
                }
                let timeout = TimerThread.shared.add(after: member.timeout) { [self] in
                    record(index, Result(outcome: .timedOut, elapsed: member.timeout, time: context.time))
                }
                var c = collector
                let outcome: CollectorBox.Outcome
                do throws(CollectorError) { outcome = .points(try c.gather(context)) } catch { outcome = .failed(error) }
                member.box.end(c)
                TimerThread.shared.remove(handoff)
                TimerThread.shared.remove(timeout)
                // Recorded unless it timed out first: then the late points are dropped, as the round went on without them.
                record(index, Result(outcome: outcome, elapsed: ContinuousClock.now - started, time: context.time))
            }
        }

        private func take() -> Int? {
            progress.withLock { p -> Int? in
                guard p.next < members.count else { return nil }
                defer { p.next += 1 }
                return p.next
            }
        }

        private func record(_ index: Int, _ result: Result) {
            let finished = progress.withLock { p -> [Result]? in
                guard p.results[index] == nil else { return nil }
                p.results[index] = result
                p.left -= 1
                return p.left == 0 ? p.results.map { $0! } : nil
            }
            if let finished { done(finished) }
        }
    }
}

/// A collector value and whether a gather of it is in progress (the value is out on a gather thread meanwhile).
final class CollectorBox: Sendable {
    enum Outcome: Sendable {
        case points([Point])
        case failed(CollectorError)
        case timedOut
        case busy
    }

    private let state: Mutex<(collector: (any Collector)?, busy: Bool)>

    init(_ collector: any Collector) {
        state = Mutex((collector, false))
    }

    /// The collector, marked busy until ``end(_:)``; `nil` while the previous gather has not returned.
    func begin() -> (any Collector)? {
        state.withLock { state -> (any Collector)? in
            guard !state.busy else { return nil }
            state.busy = true
            return state.collector
        }
    }

    /// Puts the collector back, with what its gather changed (its last readings).
    func end(_ collector: any Collector) {
        state.withLock { $0 = (collector, false) }
    }
}

/// The threads gathers run on, so that a stuck one (a hung mount) holds only its own thread, never one of Swift's
/// pooled ones. A thread that finishes waits for the next job and ends after a minute without one, so rounds every
/// few seconds reuse the same thread instead of starting one each.
enum GatherThread {
    private static let pool = GatherThreadPool()

    static func run(_ body: @escaping @Sendable () -> Void) { pool.run(body) }
}

final class GatherThreadPool: @unchecked Sendable {
    /// Guards `jobs` and `idle`.
    private let condition = NSCondition()
    private var jobs: [@Sendable () -> Void] = []
    /// Threads waiting for a job (each will take one).
    private var idle = 0
    private let idleLifetime: TimeInterval

    init(idleLifetime: TimeInterval = 60) { self.idleLifetime = idleLifetime }

    func run(_ body: @escaping @Sendable () -> Void) {
        condition.lock()
        jobs.append(body)
        let spawn = jobs.count > idle
        condition.signal()
        condition.unlock()
        if spawn { startThread(name: "tock-gather") { [self] in work() } }
    }

    private func work() {
        condition.lock()
        while true {
            while jobs.isEmpty {
                idle += 1
                let woken = condition.wait(until: Date(timeIntervalSinceNow: idleLifetime))
                idle -= 1
                if !woken && jobs.isEmpty {
                    condition.unlock()
                    return
                }
            }
            let job = jobs.removeFirst()
            condition.unlock()
            job()
            condition.lock()
        }
    }
}
