import Foundation
import LogTesting
import Synchronization
import Testing
import TockModel
@testable import Collectors

/// A collector for scheduler tests: reports one point, or sleeps first when told to hang.
struct ScriptedCollector: Collector {
    static let name = "scripted"
    static let summary = "test"
    let hangs: Bool
    let fails: Bool
    init(options: CollectorOptions) throws(CollectorError) { hangs = false; fails = false }
    init(hangs: Bool = false, fails: Bool = false) { self.hangs = hangs; self.fails = fails }

    mutating func gather(_ context: GatherContext) throws(CollectorError) -> [Point] {
        if hangs { Thread.sleep(forTimeInterval: 1.5) }
        if fails { throw CollectorError("scripted", "cannot read /proc/nothing") }
        return [Point(name: "scripted", fields: Fields([("v", .int(1))]), time: context.time)]
    }
}

@Suite("collector scheduler: intervals, timeouts and self-metrics; one bad collector never delays the others")
struct CollectorSchedulerTests {
    @Test("a hung collector is reported down after its timeout while a healthy one keeps its interval")
    func hungCollector() async throws {
        var healthy = CollectorConfig(name: "healthy")
        healthy.interval = .milliseconds(50)
        healthy.tags = ["role": "test"]
        var stuck = CollectorConfig(name: "stuck")
        stuck.interval = .milliseconds(50)
        stuck.timeout = .milliseconds(100)
        var broken = CollectorConfig(name: "broken")
        broken.interval = .milliseconds(50)
        let received = Mutex<[Point]>([])
        let log = LogRecorder()
        let scheduler = CollectorScheduler([healthy, stuck, broken], hostTags: ["host": "h1"], clock: { 1 }, logger: log.logger,
                                           factory: { config throws(CollectorError) in
            .polled(ScriptedCollector(hangs: config.name == "stuck", fails: config.name == "broken"))
        }, sink: { points in received.withLock { $0 += points } })
        try scheduler.start()
        // Until the healthy collector gathered five times and the stuck one timed out (bounded: a loaded machine).
        let deadline = ContinuousClock.now + .seconds(20)
        while ContinuousClock.now < deadline {
            let healthyCount = received.withLock { $0.filter { $0.name == "scripted" }.count }
            if healthyCount >= 5, scheduler.stats["stuck"]?.timeouts ?? 0 >= 1, scheduler.stats["broken"] != nil { break }
            try await Task.sleep(for: .milliseconds(50))
        }
        scheduler.stop()
        let points = received.withLock { $0 }
        let gathered = points.filter { $0.name == "scripted" }
        #expect(gathered.count >= 5, "the healthy collector kept its 50 ms interval")
        #expect(gathered.allSatisfy { $0.tags.dictionary == ["host": "h1", "role": "test"] })
        let selfMetrics = points.filter { $0.name == "internal_gather" }
        let stuckMetrics = selfMetrics.filter { $0.tags["input"] == "stuck" }
        #expect(!stuckMetrics.isEmpty)
        #expect(stuckMetrics.allSatisfy { $0.fields.first { $0.key == "up" }?.value == .int(0) })
        #expect(selfMetrics.filter { $0.tags["input"] == "healthy" }.allSatisfy { $0.fields.first { $0.key == "up" }?.value == .int(1) })
        #expect(scheduler.stats["stuck"]?.timeouts ?? 0 >= 1)
        #expect(scheduler.stats["broken"]?.lastError == "cannot read /proc/nothing")
        // Each failure is logged once per gather, naming its collector in the `collector` metadata.
        let failures = log.lines.filter { $0.level == .error && $0.message == "cannot read /proc/nothing" }
        #expect(!failures.isEmpty && failures.allSatisfy { $0.metadata["collector"] == "broken" })
        #expect(log.lines.contains { $0.metadata["collector"] == "stuck" && $0.message.hasPrefix("gather took longer than its timeout") })
        // The stuck gather never ran twice at once: the others were skipped as busy, not started.
        #expect(scheduler.stats["stuck"]!.gathers == stuckMetrics.count)
    }
}

@Suite("collector scheduler: reloading a configuration")
struct CollectorSchedulerReloadTests {
    @Test("update keeps unchanged sections, restarts changed ones, starts new ones, stops removed ones; a bad one changes nothing")
    func update() async throws {
        var a = CollectorConfig(name: "a")
        a.interval = .seconds(60)
        var b = CollectorConfig(name: "b")
        b.interval = .seconds(60)
        let built = Mutex<[String]>([])
        let scheduler = CollectorScheduler([a, b], clock: { 1 }, logger: .discarding, factory: { config throws(CollectorError) in
            if config.name == "bad" { throw CollectorError("bad", "refused") }
            built.withLock { $0.append(config.name) }
            return .polled(ScriptedCollector())
        }, sink: { _ in })
        try scheduler.start()
        defer { scheduler.stop() }
        var changedB = b
        changedB.interval = .seconds(30)
        let changes = try scheduler.update([a, changedB, CollectorConfig(name: "c")])
        #expect(changes.kept == ["a"])
        #expect(changes.started.sorted() == ["b", "c"])
        #expect(changes.stopped.isEmpty)
        #expect(built.withLock { $0 } == ["a", "b", "b", "c"])
        let removed = try scheduler.update([a])
        #expect(removed.stopped.sorted() == ["b", "c"])
        #expect(throws: CollectorError("bad", "refused")) { try scheduler.update([a, CollectorConfig(name: "bad")]) }
        #expect(try scheduler.update([a]).kept == ["a"])
    }
}

@Suite("the threads gathers run on")
struct GatherThreadPoolTests {
    @Test("gathers one after another reuse one thread instead of starting one each")
    func reuse() async {
        let pool = GatherThreadPool(idleLifetime: 30)
        var threads: Set<pthread_t> = []
        for _ in 0..<5 {
            let tid = await withCheckedContinuation { (continuation: CheckedContinuation<pthread_t, Never>) in
                pool.run { continuation.resume(returning: pthread_self()) }
            }
            threads.insert(tid)
            try? await Task.sleep(for: .milliseconds(20))  // the thread is back waiting
        }
        #expect(threads.count == 1)
    }

    @Test("a gather stuck on its thread does not hold up the next one, which gets a thread of its own")
    func stuck() {
        let pool = GatherThreadPool(idleLifetime: 30)
        let started = DispatchSemaphore(value: 0), release = DispatchSemaphore(value: 0), done = DispatchSemaphore(value: 0)
        let threads = Mutex<[pthread_t]>([])
        pool.run {
            threads.withLock { $0.append(pthread_self()) }
            started.signal()
            release.wait()
        }
        #expect(started.wait(timeout: .now() + 5) == .success)
        pool.run {
            threads.withLock { $0.append(pthread_self()) }
            done.signal()
        }
        #expect(done.wait(timeout: .now() + 5) == .success)
        release.signal()
        let seen = threads.withLock { $0 }
        #expect(seen.count == 2 && seen[0] != seen[1])
    }
}

/// A collector that reports one point stamped with its gather's time, after sleeping `delay` seconds.
struct SleepyCollector: Collector {
    static let name = "sleepy"
    static let summary = "test"
    let delay: Double
    init(options: CollectorOptions) throws(CollectorError) { delay = 0 }
    init(delay: Double) { self.delay = delay }

    mutating func gather(_ context: GatherContext) throws(CollectorError) -> [Point] {
        if delay > 0 { Thread.sleep(forTimeInterval: delay) }
        return [Point(name: "sleepy", fields: Fields([("v", .int(1))]), time: context.time)]
    }
}

@Suite("collector scheduler: rounds of collectors due together")
struct CollectorRoundTests {
    static func wallClock() -> Timestamp {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return Int64(ts.tv_sec) * 1_000_000_000 + Int64(ts.tv_nsec)
    }

    @Test("collectors with the same interval hand over their points together: one sink call per round")
    func oneSinkCallPerRound() async throws {
        let configs = ["cpu", "mem", "disk"].map { name in
            var c = CollectorConfig(name: name)
            c.interval = .milliseconds(100)
            return c
        }
        let calls = Mutex<[[Point]]>([])
        let scheduler = CollectorScheduler(configs, clock: { 1 }, logger: .discarding,
                                           factory: { _ throws(CollectorError) in .polled(ScriptedCollector()) },
                                           sink: { points in calls.withLock { $0.append(points) } })
        try scheduler.start()
        let deadline = ContinuousClock.now + .seconds(20)
        while ContinuousClock.now < deadline, calls.withLock({ $0.count }) < 3 {
            try await Task.sleep(for: .milliseconds(20))
        }
        scheduler.stop()
        let rounds = calls.withLock { $0 }
        #expect(rounds.count >= 3)
        for round in rounds {
            // Each collector's point and its self-metric, in the sections' order.
            #expect(round.count == 6)
            #expect(round.filter { $0.name == "internal_gather" }.compactMap { $0.tags["input"] } == ["cpu", "mem", "disk"])
        }
    }

    @Test("a slow gather hands the rest of its round to another thread: the next collector does not wait for it")
    func slowGatherHandsOver() async throws {
        var slow = CollectorConfig(name: "slow")
        slow.interval = .seconds(60)
        slow.timeout = .seconds(10)
        var quick = CollectorConfig(name: "quick")
        quick.interval = .seconds(60)
        let calls = Mutex<[[Point]]>([])
        let scheduler = CollectorScheduler([slow, quick], clock: { Self.wallClock() }, logger: .discarding,
                                           factory: { config throws(CollectorError) in
            .polled(SleepyCollector(delay: config.name == "slow" ? 1.5 : 0))
        }, sink: { points in calls.withLock { $0.append(points) } })
        try scheduler.start()
        let deadline = ContinuousClock.now + .seconds(20)
        while ContinuousClock.now < deadline, calls.withLock({ $0.isEmpty }) {
            try await Task.sleep(for: .milliseconds(20))
        }
        scheduler.stop()
        let round = try #require(calls.withLock { $0.first })
        let selfMetrics = round.filter { $0.name == "internal_gather" }
        let slowTime = try #require(selfMetrics.first { $0.tags["input"] == "slow" }?.time)
        let quickTime = try #require(selfMetrics.first { $0.tags["input"] == "quick" }?.time)
        // quick started well before slow's 1.5 s were over (the hand-over comes after 100 ms).
        #expect(quickTime - slowTime < 1_200_000_000)
        // The round still waited for slow, which finished within its timeout: both are up.
        #expect(selfMetrics.allSatisfy { $0.fields.first { $0.key == "up" }?.value == .int(1) })
        #expect(round.filter { $0.name == "sleepy" }.count == 2)
    }

    @Test("a collector with a jitter gathers on its own, not in its interval's round")
    func jitterGathersAlone() async throws {
        var plain = CollectorConfig(name: "plain")
        plain.interval = .milliseconds(100)
        var jittered = CollectorConfig(name: "jittered")
        jittered.interval = .milliseconds(100)
        jittered.jitter = .milliseconds(10)
        let calls = Mutex<[[Point]]>([])
        let scheduler = CollectorScheduler([plain, jittered], clock: { 1 }, logger: .discarding,
                                           factory: { _ throws(CollectorError) in .polled(ScriptedCollector()) },
                                           sink: { points in calls.withLock { $0.append(points) } })
        try scheduler.start()
        let deadline = ContinuousClock.now + .seconds(20)
        while ContinuousClock.now < deadline, calls.withLock({ $0.count }) < 4 {
            try await Task.sleep(for: .milliseconds(20))
        }
        scheduler.stop()
        let inputs = calls.withLock { $0 }.map { Set($0.compactMap { $0.tags["input"] }) }
        #expect(inputs.count >= 4)
        #expect(inputs.allSatisfy { $0 == ["plain"] || $0 == ["jittered"] })
    }
}

@Suite("the timer thread: rounds, gather timeouts, flushes and heartbeats without Dispatch")
struct TimerThreadTests {
    @Test("deadlines fire in their order, on one thread that is not the caller's; a removed one never fires")
    func order() {
        let timers = TimerThread(name: "test-timers")
        let fired = Mutex<[(Int, pthread_t)]>([])
        let done = DispatchSemaphore(value: 0)
        timers.add(after: .milliseconds(60)) { fired.withLock { $0.append((3, pthread_self())) }; done.signal() }
        timers.add(after: .milliseconds(20)) { fired.withLock { $0.append((1, pthread_self())) } }
        let removed = timers.add(after: .milliseconds(30)) { fired.withLock { $0.append((2, pthread_self())) } }
        timers.remove(removed)
        #expect(done.wait(timeout: .now() + 5) == .success)
        let seen = fired.withLock { $0 }
        #expect(seen.map(\.0) == [1, 3])
        #expect(Set(seen.map(\.1)).count == 1 && seen[0].1 != pthread_self())
    }

    @Test("a deadline never fires early; with a slack it may fire later, together with the next one")
    func slack() {
        let timers = TimerThread(name: "test-timers")
        let start = TimerThread.now
        let times = Mutex<[UInt64]>([])
        let done = DispatchSemaphore(value: 0)
        timers.add(after: .milliseconds(30), slack: .milliseconds(100)) { times.withLock { $0.append(TimerThread.now) } }
        timers.add(after: .milliseconds(60), slack: .milliseconds(100)) { times.withLock { $0.append(TimerThread.now) }; done.signal() }
        #expect(done.wait(timeout: .now() + 5) == .success)
        let seen = times.withLock { $0 }
        #expect(seen.count == 2)
        #expect(seen[0] - start >= 30_000_000 && seen[1] - start >= 60_000_000)
    }

    @Test("a repeating timer runs on its interval until cancelled")
    func repeating() throws {
        let runs = Mutex(0)
        let timer = RepeatingTimer(every: .milliseconds(20), on: TimerThread(name: "test-timers")) { runs.withLock { $0 += 1 } }
        let deadline = ContinuousClock.now + .seconds(5)
        while runs.withLock({ $0 }) < 3 && ContinuousClock.now < deadline { usleep(5_000) }
        timer.cancel()
        let atCancel = runs.withLock { $0 }
        #expect(atCancel >= 3)
        usleep(100_000)
        #expect(runs.withLock { $0 } <= atCancel + 1, "a run already due may finish; none starts after")
    }
}
