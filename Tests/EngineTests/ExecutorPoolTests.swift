import Foundation
import Synchronization
import Testing
import TockModel
@testable import Engine

/// The shared executor: tasks on a fixed pool of threads, serial per task, fair, under one queue budget.
@Suite("Executor pool") struct ExecutorPoolTests {
    /// The process's thread count, from /proc/self/status.
    static func threads() -> Int {
        let status = (try? String(contentsOfFile: "/proc/self/status", encoding: .utf8)) ?? ""
        let line = status.split(separator: "\n").first { $0.hasPrefix("Threads:") } ?? ""
        return Int(line.dropFirst("Threads:".count).trimmingCharacters(in: .whitespaces)) ?? -1
    }

    static func p(_ i: Int, tags: Tags = [:]) -> Point {
        Point(name: "m", tags: tags, fields: ["v": .int(Int64(i))], time: Int64(i) * second, database: "db", retentionPolicy: "rp")
    }

    @Test("200 running tasks take the pool's threads, not one each, and every point reaches every task")
    func fewThreads() throws {
        let before = Self.threads()
        let pool = ExecutorPool(name: "t-few", threads: 2)
        let outputs = AtomicCount()
        let handlers = TaskRunner.Handlers(output: { _, _ in outputs.add() })
        let budget = QueueBudget(limit: 1 << 20)
        var runners: [TaskRunner] = []
        for i in 0..<200 {
            let r = try TaskRunner(script: "stream|from().measurement('m')", options: .init(taskID: "few\(i)"), handlers: handlers)
            r.pool = pool
            r.budget = budget
            try r.start()
            runners.append(r)
        }
        for chunk in 0..<10 { TaskRunner.write((0..<100).map { Self.p(chunk * 100 + $0) }, to: runners) }
        let during = Self.threads()
        for r in runners { try r.stop() }
        #expect(during - before <= pool.threadCount + 8, "\(during - before) threads more with 200 tasks running")
        #expect(outputs.value == 200 * 1_000)
        #expect(runners.allSatisfy { !$0.hasDedicatedThread })
        pool.shutdown()
    }

    @Test("a task's messages stay in order and never run concurrently, under concurrent writers on a shared pool")
    func serialAndOrdered() throws {
        let pool = ExecutorPool(name: "t-serial", threads: 4)
        let inside = AtomicCount()
        let overlaps = AtomicCount()
        let c = Collector()
        let collect = c.handlers.output!
        let handlers = TaskRunner.Handlers(output: { node, message in
            if inside.add() != 1 { overlaps.add() }
            collect(node, message)
            inside.add(-1)
        })
        let runner = try TaskRunner(script: "stream|from()", options: .init(taskID: "serial"), handlers: handlers)
        runner.pool = pool
        runner.budget = QueueBudget(limit: 64)
        try runner.start()
        // Other tasks keep the pool's threads busy meanwhile.
        var others: [TaskRunner] = []
        for i in 0..<8 {
            let o = try TaskRunner(script: "stream|from()", options: .init(taskID: "other\(i)"), handlers: .init())
            o.pool = pool
            try o.start()
            others.append(o)
        }
        let targets = [runner] + others
        let writers = 4, perWriter = 500
        let finished = Counter()
        for w in 0..<writers {
            Thread {
                for i in 0..<perWriter {
                    let point = Self.p(i, tags: ["w": "\(w)"])
                    TaskRunner.write([point], to: targets)
                }
                finished.increment()
            }.start()
        }
        let deadline = Date().addingTimeInterval(60)
        while finished.value < writers && Date() < deadline { Thread.sleep(forTimeInterval: 0.01) }
        try runner.stop()
        for o in others { try o.stop() }
        #expect(overlaps.value == 0, "the task's output ran on two threads at once")
        for w in 0..<writers {
            let seen = c.points.filter { $0.tags["w"] == "\(w)" }.map(\.time)
            #expect(seen == (0..<perWriter).map { Int64($0) * second }, "writer \(w)'s points out of order or missing")
        }
        pool.shutdown()
    }

    @Test("a task with a big backlog runs a slice, then lets a task queued behind it run")
    func fairness() throws {
        let pool = ExecutorPool(name: "t-fair", threads: 1)
        let budget = QueueBudget(limit: 1 << 22)
        let hold = DispatchSemaphore(value: 0)
        let blocker = try TaskRunner(script: "stream|from()", options: .init(taskID: "blocker"),
                                     handlers: .init(output: { _, _ in hold.wait() }))
        let bigOut = AtomicCount()
        let seenByBig = AtomicCount(-1)
        let big = try TaskRunner(script: "stream|from()", options: .init(taskID: "big"),
                                 handlers: .init(output: { _, _ in bigOut.add() }))
        let small = try TaskRunner(script: "stream|from()", options: .init(taskID: "small"),
                                   handlers: .init(output: { _, _ in seenByBig.set(bigOut.value) }))
        for r in [blocker, big, small] {
            r.pool = pool
            r.budget = budget
            try r.start()
        }
        // The pool's only thread waits in the blocker's output while the big backlog, then the small task, queue up.
        blocker.write([Self.p(0)])
        let total = 100_000
        for chunk in 0..<(total / 1_000) { big.write((0..<1_000).map { Self.p(chunk * 1_000 + $0) }) }
        small.write([Self.p(0)])
        hold.signal()
        try small.stop()
        try big.stop()
        try blocker.stop()
        let before = seenByBig.value
        #expect(before >= 0 && before <= TaskRunner.slicePoints, "the small task waited for \(before) of the big task's points")
        #expect(bigOut.value == total)
        pool.shutdown()
    }

    @Test("the queue budget makes a writer wait while the tasks hold it, and lets it go once they drain")
    func budgetBlocksWriter() throws {
        let gate = Gate()
        let c = Collector()
        let runner = try TaskRunner(script: "stream|from()@gate()", options: .init(taskID: "budget", udfProvider: GateUDFs(gate: gate)),
                                    handlers: c.handlers)
        let budget = QueueBudget(limit: 10)
        runner.budget = budget
        try runner.start()
        #expect(runner.hasDedicatedThread, "a task with a UDF node runs on a thread of its own")
        let written = Counter()
        Thread {
            for i in 0..<100 {
                runner.write([Self.p(i)])
                written.increment()
            }
        }.start()
        try waitUntil("the budget is spent") { budget.heldPoints >= budget.limit }
        Thread.sleep(forTimeInterval: 0.2)
        #expect(budget.heldPoints <= budget.limit)
        #expect(written.value <= budget.limit + 2, "the writer went on past a spent budget: \(written.value) written")
        #expect(budget.waitCount >= 1)
        gate.open()
        try waitUntil("the writer finished") { written.value == 100 }
        try runner.stop()
        #expect(c.points.map(\.time) == (0..<100).map { Int64($0) * second })
        #expect(budget.heldPoints == 0, "the budget is given back once the queues are empty")
    }

    @Test("a write fanned out to several tasks is one array: it counts once in the budget")
    func fanOutCountsOnce() throws {
        let gate = Gate()
        let budget = QueueBudget(limit: 1_000)
        var runners: [TaskRunner] = []
        for i in 0..<3 {
            let r = try TaskRunner(script: "stream|from()@gate()", options: .init(taskID: "fan\(i)", udfProvider: GateUDFs(gate: gate)),
                                   handlers: .init())
            r.budget = budget
            try r.start()
            runners.append(r)
        }
        // The first write is taken by every task (their gates hold it); the second waits in their queues.
        TaskRunner.write([Self.p(0)], to: runners)
        try waitUntil("every task took the first write") { budget.heldPoints == 0 }
        TaskRunner.write((1...5).map { Self.p($0) }, to: runners)
        #expect(runners.map(\.queuedPointCount) == [6, 6, 6], "each task's backlog: the point at its gate and the five")
        #expect(budget.heldPoints == 5, "5 points queued in 3 tasks are held once")
        gate.open()
        for r in runners { try r.stop() }
        #expect(budget.heldPoints == 0)
    }

    @Test("a task's CPU time is the sum of its slices, and stats work while it runs on the pool")
    func cpuAndStats() throws {
        let runner = try TaskRunner(script: "stream|from()|where(lambda: \"v\" < 10000)", options: .init(taskID: "cpu"),
                                    handlers: .init())
        try runner.start()
        for chunk in 0..<20 { runner.write((0..<1_000).map { Self.p(chunk * 1_000 + $0) }) }
        let live = runner.stats()
        #expect(live.count == 3)
        try runner.stop()
        #expect(runner.executorCPUNanoseconds > 0)
        #expect(runner.stats().last?.emitted == 10_000)
    }

    @Test("a task that ends with points queued gives their budget back")
    func endReleasesBudget() throws {
        let gate = Gate()
        let budget = QueueBudget(limit: 1_000)
        let runner = try TaskRunner(script: "stream|from()@gate()", options: .init(taskID: "ending", udfProvider: GateUDFs(gate: gate)),
                                    handlers: .init())
        runner.budget = budget
        try runner.start()
        runner.write([Self.p(0)])
        try waitUntil("the task took the first point (its gate holds it)") { budget.heldPoints == 0 }
        // The failure is queued before the points: the task ends without taking them.
        runner.reportFailure(node: 0, TestTimeout(what: "nothing: the test ends the task"))
        runner.write((1...50).map { Self.p($0) })
        #expect(budget.heldPoints == 50)
        gate.open()
        #expect(throws: (any Error).self) { try runner.wait() }
        #expect(budget.heldPoints == 0)
    }

    @Test("filtering a shared write copies it only when a point is removed, and keeps the order of the rest")
    func sharedFilter() {
        let shared = (0..<100).map { Self.p($0) }
        var mine = shared
        mine.removeAllSparingShared { $0.name != "m" }
        let same = mine.withUnsafeBufferPointer { a in shared.withUnsafeBufferPointer { b in a.baseAddress == b.baseAddress } }
        #expect(same, "nothing removed: the task still reads the shared array")
        mine.removeAllSparingShared { $0.time % (2 * second) == 0 || $0.time == 99 * second }
        #expect(mine.map(\.time) == stride(from: 1, to: 99, by: 2).map { Int64($0) * second })
        #expect(shared.count == 100, "the other tasks' array is untouched")
    }

    func waitUntil(_ what: String, seconds: Double = 20, _ condition: () -> Bool) throws {
        let deadline = Date().addingTimeInterval(seconds)
        while !condition() {
            guard Date() < deadline else { throw TestTimeout(what: what) }
            Thread.sleep(forTimeInterval: 0.005)
        }
    }
}

/// A counter that closures on several threads share.
final class AtomicCount: Sendable {
    private let atomic: Atomic<Int>
    init(_ value: Int = 0) { atomic = Atomic(value) }
    var value: Int { atomic.load(ordering: .acquiring) }
    /// Adds `delta` and returns the new value.
    @discardableResult
    func add(_ delta: Int = 1) -> Int { atomic.add(delta, ordering: .acquiringAndReleasing).newValue }
    func set(_ value: Int) { atomic.store(value, ordering: .releasing) }
}
