import Foundation
import Logging
import TICKScript
import TockModel

/// Runs one task: its pipeline, serially, on the threads of an ``ExecutorPool`` shared with the other tasks.
///
/// ```swift
/// let runner = try TaskRunner(program: program, options: .init(taskID: "cpu"), handlers: handlers)
/// try runner.start()
/// runner.write(points)          // from any thread; blocks while the backlog is full
/// try runner.stop()             // ends the input, drains (UDFs included), throws the task's error if it failed
/// print(runner.stats())
/// ```
///
/// Points written are routed to the `stream` source when their database and retention policy match one of the
/// task's ``dbrps`` (all points when it has none), and from there to every `from()` that matches. Nodes run on
/// the executor one message at a time; a node failing (``NodeOutput/fail(_:)``) ends the task with its error.
public final class TaskRunner: @unchecked Sendable {
    /// Where a task's results and logs go. Closures may be called from the executor thread or, for `event`, from a
    /// node's own threads; the logger from any thread.
    public struct Handlers: Sendable {
        /// Alerts and httpOut updates, with the publishing node's name.
        public var event: @Sendable (_ node: String, _ event: TaskEvent) -> Void
        /// Where nodes log (`log()` nodes and errors of nodes not marked `.quiet()`): each line has the node's name
        /// as `node` metadata; give the task's name as `task` metadata here (`logger[metadataKey: "task"]`).
        public var logger: Logger
        /// Every message a leaf node emits (a node without children), called on the executor.
        public var output: (@Sendable (_ node: String, _ message: Message) -> Void)?
        /// When set, ``output`` gets what every node emits (the `stream` source included), not only the leaves.
        public var everyNode = false

        public init(event: @escaping @Sendable (String, TaskEvent) -> Void = { _, _ in },
                    logger: Logger = .discarding,
                    output: (@Sendable (String, Message) -> Void)? = nil) {
            self.event = event
            self.logger = logger
            self.output = output
        }
    }

    /// How to build a task from a script.
    public struct Options: Sendable {
        public var taskID: String
        /// The databases/retention policies the task reads; added to the script's own `dbrp` statements.
        public var dbrps: [DBRP]
        public var variables: [String: Value]
        public var udfProvider: (any UDFProvider)?
        /// The programs alert `.exec()` handlers may start.
        public var execPolicy: ExecPolicy
        /// Keeps alert levels across runs of the task (the daemon's store); `nil`: alerts start OK.
        public var alertStates: (any AlertStateStore)?
        /// The `[[httppost]]` endpoints and `[deadman]` defaults of the configuration.
        public var configSections = ConfigSections()
        /// Where `kapacitorLoopback` nodes write; `nil` refuses them.
        public var ingress: (any PointIngress)?
        /// InfluxDB for `batch|query()` and `influxDBOut()`; `nil` refuses them.
        public var influxDB: (any InfluxDBService)?
        /// Where `alert` nodes send their events; `nil` for ``NoAlertService``.
        public var alertService: (any AlertService)?
        /// Whether `query` nodes query InfluxDB on their schedule or emit only what ``TaskRunner/feed(_:toQuery:)``
        /// gives them.
        public var batchSourceMode: BatchSourceMode = .schedule

        public init(taskID: String, dbrps: [DBRP] = [], variables: [String: Value] = [:], udfProvider: (any UDFProvider)? = nil,
                    execPolicy: ExecPolicy = .unrestricted) {
            self.taskID = taskID
            self.dbrps = dbrps
            self.variables = variables
            self.udfProvider = udfProvider
            self.execPolicy = execPolicy
        }
    }

    enum Job {
        case points(SharedPoints)
        /// Batches fed to the query node at a pipeline index, and how many points they hold (for the backlog).
        case batches(Int, [Batch], Int)
        case post(Int, Message)
        case fail(Int, any Error)
        case finish(Int)
        /// Starts every node (the task's first job); `started` hears how it went.
        case start(StartSignal)
        case stop
        case run(() -> Void)
        /// Work a node scheduled on the executor (``NodeOutput/perform(_:)``); dropped once the task is over.
        case perform(@Sendable () -> Void)

        /// Points the job holds in the task's backlog.
        var backlog: Int {
            switch self {
            case .points(let shared): shared.count
            case .batches(_, _, let count): count
            default: 1
            }
        }
    }

    /// How the start job reports to ``TaskRunner/start()``.
    final class StartSignal: @unchecked Sendable {
        let semaphore = DispatchSemaphore(value: 0)
        var error: (any Error)?
    }

    public let taskID: String
    public let pipeline: Pipeline
    /// The measurements the task's stream reads (``Pipeline/streamMeasurements``); `nil` for every one.
    public let streamMeasurements: Set<String>?
    /// The databases/retention policies whose points reach the task (empty: all points).
    public let dbrps: [DBRP]
    /// Keeps alert levels across runs of the task; set before ``start()``.
    public var alertStates: (any AlertStateStore)?
    /// The threads the task runs on; set before ``start()``. A task with UDF nodes (which block while their child
    /// catches up or restarts) gets a thread of its own instead, so that it never holds a shared thread.
    public var pool: ExecutorPool = .shared
    /// The bound on what this task and the others of the same budget hold queued together; set before ``start()``.
    public var budget: QueueBudget = .shared
    /// Whether the task runs on a thread of its own rather than ``pool`` (it has UDF nodes); known after ``start()``.
    public private(set) var hasDedicatedThread = false
    let handlers: Handlers
    /// ``Handlers/everyNode``, with an output to hand the messages to.
    let tapsEveryNode: Bool
    private var runtimes: [NodeRuntime] = []
    private let sources: [Int]

    /// Jobs a slice handles at most, and points: then the task goes to the back of the pool's ready queue.
    static let sliceJobs = 256
    static let slicePoints = 8_192

    // Executor state, touched only by the slice running the task (one at a time).
    var childTime: Int64 = 0
    var timingAll = false
    private var stopCalled: [Bool]
    private var finished: [Bool]
    private var stopping = false
    /// A failure reported on the executor while a node was working; handled before the next message.
    private var pendingFailure: (node: Int, error: any Error)?
    /// The jobs the current slice has taken out of the queue and not yet processed (in reverse order).
    private var batch: [Job] = []
    /// CPU time of the slices so far, and the thread's CPU clock when the current slice began.
    private var sliceCPU: Int64 = 0
    private var sliceStart: Int64 = 0

    // Shared state, under `condition`.
    private let condition = NSCondition()
    private var queue = RingQueue<Job>()
    private var queuedPoints = 0
    private var done = false
    private var failure: (any Error)?
    /// Where the task runs, once started.
    private var lane: ExecutorPool?
    /// Whether the task is in its pool's ready queue or running a slice.
    private var scheduled = false
    private var cpuNanoseconds: Int64 = 0
    /// The backlog of written points above which `write` waits.
    public var maxQueuedPoints = 262_144

    /// A runner for a built pipeline.
    public init(pipeline: Pipeline, taskID: String, dbrps: [DBRP] = [], handlers: Handlers) {
        self.taskID = taskID
        self.pipeline = pipeline
        var all = pipeline.dbrps
        for d in dbrps where !all.contains(d) { all.append(d) }
        self.dbrps = all
        self.handlers = handlers
        self.tapsEveryNode = handlers.everyNode && handlers.output != nil
        self.sources = pipeline.streamSources
        self.streamMeasurements = pipeline.streamMeasurements
        stopCalled = Array(repeating: false, count: pipeline.nodes.count)
        finished = Array(repeating: false, count: pipeline.nodes.count)
        for (i, n) in pipeline.nodes.enumerated() {
            runtimes.append(NodeRuntime(taskID: taskID, nodeID: n.id, index: i, node: n.node, quiet: n.quiet, runner: self))
        }
        for (i, n) in pipeline.nodes.enumerated() {
            runtimes[i].children = n.children.map { ChildEdge(runtime: runtimes[$0.node], port: $0.port) }
        }
    }

    /// Builds the task from a parsed script (throws ``ScriptError``).
    public convenience init(program: Program, options: Options, handlers: Handlers) throws {
        var builder = TaskBuilder(taskID: options.taskID, variables: options.variables, udfProvider: options.udfProvider,
                                  execPolicy: options.execPolicy)
        builder.configSections = options.configSections
        builder.ingress = options.ingress
        builder.influxDB = options.influxDB
        builder.alertService = options.alertService
        builder.batchSourceMode = options.batchSourceMode
        self.init(pipeline: try builder.build(program), taskID: options.taskID, dbrps: options.dbrps, handlers: handlers)
        alertStates = options.alertStates
    }

    /// Parses and builds the task from script text (throws ``ScriptError``; render it with
    /// ``ScriptError/rendered(source:)``).
    public convenience init(script: String, options: Options, handlers: Handlers) throws {
        try self.init(program: try Program.parse(script), options: options, handlers: handlers)
    }

    /// Starts every node on the task's executor (UDF nodes start their child here) and waits until they have
    /// started. Throws the first node's start error, after which the task is over.
    ///
    /// The task runs on ``pool``, or on a thread of its own when it has UDF nodes.
    public func start() throws {
        let dedicated = pipeline.nodes.contains { $0.runsUDF }
        let lane = dedicated ? ExecutorPool(name: "tock-task-\(taskID)", threads: 1) : pool
        hasDedicatedThread = dedicated
        let signal = StartSignal()
        condition.lock()
        self.lane = lane
        queue.append(.start(signal))
        scheduleLocked()
        condition.unlock()
        signal.semaphore.wait()
        if let error = signal.error { throw error }
    }

    /// Writes points into the task. Points outside the task's dbrps are ignored. Safe from any thread;
    /// waits while more than ``maxQueuedPoints`` are queued, or while the task's ``budget`` is spent. After the task
    /// ended, points are dropped.
    public func write(_ points: [Point]) {
        Self.write(points, to: [self])
    }

    /// Writes the same points into several tasks: one array that every task's queue references (it counts once in
    /// the tasks' ``budget``), in the order of `runners`. Waits while the budget is spent (once, before any task gets
    /// the points) and, per task, while its backlog is full — except on an executor thread, which never waits (it
    /// could be the thread the tasks need to drain), and lets the points in over the limits instead.
    public static func write(_ points: [Point], to runners: [TaskRunner]) {
        guard !points.isEmpty, let first = runners.first else { return }
        let budget = first.budget
        guard runners.allSatisfy({ $0.budget === budget }) else {
            // Tasks of different budgets (tests): one shared array per budget.
            var groups: [ObjectIdentifier: [TaskRunner]] = [:]
            var order: [ObjectIdentifier] = []
            for r in runners {
                let id = ObjectIdentifier(r.budget)
                if groups[id] == nil { order.append(id) }
                groups[id, default: []].append(r)
            }
            for id in order { write(points, to: groups[id]!) }
            return
        }
        let wait = !CurrentExecutor.onExecutor
        budget.acquire(points.count, wait: wait)
        let shared = SharedPoints(points, holders: runners.count, budget: budget)
        for runner in runners { runner.enqueue(points: shared, wait: wait) }
    }

    private func enqueue(points shared: SharedPoints, wait: Bool) {
        condition.lock()
        while wait && queuedPoints >= maxQueuedPoints && !done { condition.wait() }
        if done {
            condition.unlock()
            shared.drop()
            return
        }
        queue.append(.points(shared))
        queuedPoints += shared.count
        scheduleLocked()
        condition.unlock()
    }

    /// Feeds batches to the `query` node ``Pipeline/batchQueries``[`index`], which emits them as if its query had
    /// returned them (a replayed recording, in ``BatchSourceMode/recorded``). Safe from any thread; in order with
    /// ``write(_:)``; waits while more than ``maxQueuedPoints`` points are queued or the ``budget`` is spent.
    /// Dropped after the task ended or when `index` names no query node.
    public func feed(_ batches: [Batch], toQuery index: Int) {
        let queries = pipeline.batchQueries
        guard !batches.isEmpty, queries.indices.contains(index) else { return }
        let count = batches.reduce(0) { $0 + max(1, $1.points.count) }
        let wait = !CurrentExecutor.onExecutor
        budget.acquire(count, wait: wait)
        condition.lock()
        while wait && queuedPoints >= maxQueuedPoints && !done { condition.wait() }
        if !done {
            queue.append(.batches(queries[index], batches, count))
            queuedPoints += count
            scheduleLocked()
            condition.unlock()
        } else {
            condition.unlock()
            budget.release(count)
        }
    }

    /// Ends the input and waits until every node has drained (UDF nodes included), then returns; throws the
    /// error that ended the task, if one did.
    public func stop() throws {
        enqueue(.stop)
        try wait()
    }

    /// Waits until the task has ended (stopped or failed); throws the error that ended it.
    public func wait() throws {
        condition.lock()
        while !done { condition.wait() }
        let error = failure
        condition.unlock()
        if let error { throw error }
    }

    /// Points written but not yet taken by the executor (the task's input queue depth).
    public var queuedPointCount: Int {
        condition.lock()
        defer { condition.unlock() }
        return queuedPoints
    }

    /// Whether the task has ended, and the error that ended it.
    public var state: (ended: Bool, error: (any Error)?) {
        condition.lock()
        defer { condition.unlock() }
        return (done, failure)
    }

    /// CPU time the task's executor used, once the task has ended (0 before): the sum of the thread CPU time of
    /// every slice that ran it, the engine's cost without the caller's parsing or other tasks.
    public var executorCPUNanoseconds: Int64 {
        condition.lock()
        defer { condition.unlock() }
        return cpuNanoseconds
    }

    /// The counters of every node, in pipeline order.
    public func stats() -> [NodeStats] {
        condition.lock()
        let quiet = done || lane == nil
        condition.unlock()
        if quiet || CurrentExecutor.isRunning(self) { return runtimes.map(\.stats) }
        let ready = DispatchSemaphore(value: 0)
        nonisolated(unsafe) var result: [NodeStats] = []
        enqueue(.run { [self] in
            result = runtimes.map(\.stats)
            ready.signal()
        })
        ready.wait()
        if result.isEmpty { return runtimes.map(\.stats) }
        return result
    }

    /// The graph in DOT with the current counters.
    public func dot() -> String { pipeline.dot(name: taskID, stats: stats()) }

    /// Whether a node failed during the current job (the executor stops delivering).
    var failing: Bool { pendingFailure != nil }

    /// Records a node's failure: at once when called on the executor (inside the node's work), so no further
    /// message reaches the pipeline; through the queue from other threads.
    func reportFailure(node: Int, _ error: any Error) {
        if CurrentExecutor.isRunning(self) {
            if pendingFailure == nil { pendingFailure = (node, error) }
        } else {
            enqueue(.fail(node, error))
        }
    }

    func enqueue(_ job: Job) {
        condition.lock()
        if done {
            condition.unlock()
            if case .run(let f) = job { f() }
            return
        }
        queue.append(job)
        scheduleLocked()
        condition.unlock()
    }

    /// Puts the task in its pool's ready queue unless it is there or running (or not started); under `condition`.
    private func scheduleLocked() {
        guard !scheduled, let lane else { return }
        scheduled = true
        lane.schedule(self)
    }

    // MARK: The executor

    /// Runs one slice: up to ``sliceJobs`` jobs holding up to ``slicePoints`` points (at least one job), in order.
    func runSlice() -> Bool {
        sliceStart = threadCPUNanoseconds()
        condition.lock()
        var points = 0
        while batch.count < Self.sliceJobs, let next = queue.first?.backlog,
              batch.isEmpty || points + next <= Self.slicePoints, let job = queue.popFirst() {
            points += next
            batch.append(job)
        }
        condition.unlock()
        // Taken out by moving, so the point arrays they carry stay uniquely owned where they can be.
        batch.reverse()
        while let job = batch.popLast() {
            process(job)
            if let f = pendingFailure {
                pendingFailure = nil
                fail(node: f.node, f.error)
            }
        }
        sliceCPU += threadCPUNanoseconds() - sliceStart
        condition.lock()
        let more = !queue.isEmpty && !done
        if !more { scheduled = false }
        condition.unlock()
        return more
    }

    private func process(_ job: consuming Job) {
        switch consume job {
        case .points(let shared):
            var points = shared.take()
            let count = points.count
            if !stopping && !isOver { route(&points) }
            points = []
            taken(count)
        case .batches(let i, let batches, let count):
            if !stopping && !isOver {
                for b in batches where !failing { runtimes[i].emit(.batch(b)) }
            }
            taken(count)
            budget.release(count)
        case .post(let i, let message):
            if !isOver { runtimes[i].emit(message) }
        case .fail(let i, let error):
            fail(node: i, error)
        case .finish(let i):
            if stopCalled[i] && !finished[i] {
                finished[i] = true
                advanceStop()
            }
        case .start(let signal):
            startNodes(signal)
        case .stop:
            if !stopping {
                stopping = true
                advanceStop()
            }
        case .run(let f):
            f()
        case .perform(let f):
            if !isOver { f() }
        }
    }

    private func startNodes(_ signal: StartSignal) {
        var startError: (any Error)?
        for r in runtimes {
            do {
                try r.node.start(output: r)
            } catch {
                startError = error
                break
            }
        }
        signal.error = startError
        signal.semaphore.signal()
        if let startError { fail(node: nil, startError) }
    }

    /// `count` points of the backlog were handled: writers waiting for room may go on.
    private func taken(_ count: Int) {
        condition.lock()
        if !done { queuedPoints -= count }
        condition.broadcast()
        condition.unlock()
    }

    private var isOver: Bool {
        condition.lock()
        defer { condition.unlock() }
        return done
    }

    private func route(_ points: inout [Point]) {
        let all = dbrps.isEmpty
        if sources.count == 1 {
            // One source: the points go on as one run (those of other databases dropped first).
            if !all {
                let dbrps = self.dbrps
                points.removeAllSparingShared { p in
                    !dbrps.contains(where: { $0.database == p.database && $0.retentionPolicy == p.retentionPolicy })
                }
            }
            runtimes[sources[0]].passThrough(points: &points)
            return
        }
        points.reverse()
        while let p = points.popLast() {
            if pendingFailure != nil { return }
            if !all && !dbrps.contains(where: { $0.database == p.database && $0.retentionPolicy == p.retentionPolicy }) { continue }
            let m = Message.point(p)
            for s in sources { runtimes[s].passThrough(m) }
        }
    }

    /// Stops every node whose parents have all finished, in pipeline order (parents before children).
    private func advanceStop() {
        for (i, n) in pipeline.nodes.enumerated() where !stopCalled[i] {
            guard n.parents.allSatisfy({ finished[$0] }) else { continue }
            stopCalled[i] = true
            if runtimes[i].node.stop(output: runtimes[i]) == .done {
                finished[i] = true
            }
        }
        if finished.allSatisfy({ $0 }) { end(nil) }
    }

    private func fail(node: Int?, _ error: any Error) {
        if isOver { return }
        let named: any Error = node.map { TaskError(node: runtimes[$0].nodeID, underlying: error) } ?? error
        handlers.logger.error("task \(taskID) failed: \(error)", metadata: ["node": .string(node.map { runtimes[$0].nodeID } ?? taskID)])
        // Give every node the chance to release what it holds (a UDF its child); pending drains are not awaited.
        for (i, r) in runtimes.enumerated() where !stopCalled[i] {
            stopCalled[i] = true
            _ = r.node.stop(output: r)
        }
        end(named)
    }

    /// Ends the task; called on the executor.
    private func end(_ error: (any Error)?) {
        let cpu = sliceCPU + threadCPUNanoseconds() - sliceStart
        // Work handed over before the end (an error a node counted from another thread) is done before anyone
        // waiting for the end sees it; what comes later runs where it is enqueued.
        // The rest of the batch the slice took out of the queue comes before anything still queued.
        let taken = batch.reversed().compactMap { job -> (() -> Void)? in if case .run(let f) = job { f } else { nil } }
        batch.removeAll { if case .run = $0 { true } else { false } }
        for f in taken { f() }
        // The slice's other jobs (points it took out of the queue with the failure) will not run either.
        var leftover: [Job] = batch
        batch.removeAll()
        condition.lock()
        while !queue.isEmpty {
            let jobs = queue.removeAll()
            condition.unlock()
            for job in jobs {
                switch job {
                case .run(let f): f()
                default: leftover.append(job)
                }
            }
            condition.lock()
        }
        // What was queued and will never run gives its share of the budget back before anyone waiting for the end
        // sees it (the budget's lock is its own; no writer waits for it while holding this one).
        for job in leftover { Self.discard(job, budget: budget) }
        cpuNanoseconds = cpu
        done = true
        failure = error
        queuedPoints = 0
        condition.broadcast()
        condition.unlock()
        if hasDedicatedThread { lane?.shutdown() }
    }

    private static func discard(_ job: Job, budget: QueueBudget) {
        switch job {
        case .points(let shared): shared.drop()
        case .batches(_, _, let count): budget.release(count)
        case .start(let signal): signal.semaphore.signal()
        default: break
        }
    }
}

extension TaskRunner: PoolClient {}

/// A node ended its task with an error.
public struct TaskError: Error, CustomStringConvertible, @unchecked Sendable {
    public var node: String
    public var underlying: any Error
    public var description: String { "\(node): \(underlying)" }
}
