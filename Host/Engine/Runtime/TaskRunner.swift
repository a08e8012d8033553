import Foundation
import Logging
import TICKScript
import TockModel

/// Runs one task: its pipeline on one dedicated executor thread.
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

    /// Points in flight from `write` to the executor, boxed so that the executor can take the array out as its only
    /// owner (the nodes then change the points in place instead of copying them).
    final class PointsBox: @unchecked Sendable {
        var points: [Point]
        init(_ points: [Point]) { self.points = points }
    }

    enum Job {
        case points(PointsBox)
        /// Batches fed to the query node at a pipeline index, and how many points they hold (for the backlog).
        case batches(Int, [Batch], Int)
        case post(Int, Message)
        case fail(Int, any Error)
        case finish(Int)
        case stop
        case run(() -> Void)
        /// Work a node scheduled on the executor (``NodeOutput/perform(_:)``); dropped once the task is over.
        case perform(@Sendable () -> Void)
    }

    public let taskID: String
    public let pipeline: Pipeline
    /// The databases/retention policies whose points reach the task (empty: all points).
    public let dbrps: [DBRP]
    /// Keeps alert levels across runs of the task; set before ``start()``.
    public var alertStates: (any AlertStateStore)?
    let handlers: Handlers
    /// ``Handlers/everyNode``, with an output to hand the messages to.
    let tapsEveryNode: Bool
    private var runtimes: [NodeRuntime] = []
    private let sources: [Int]

    // Executor state, touched only on the executor thread.
    var childTime: Int64 = 0
    var timingAll = false
    private var stopCalled: [Bool]
    private var finished: [Bool]
    private var stopping = false
    /// A failure reported on the executor while a node was working; handled before the next message.
    private var pendingFailure: (node: Int, error: any Error)?
    private var executorThread: pthread_t?
    /// The jobs the executor has taken out of the queue and not yet processed (in reverse order).
    private var batch: [Job] = []

    // Shared state, under `condition`.
    private let condition = NSCondition()
    private var queue: [Job] = []
    private var queuedPoints = 0
    private var done = false
    private var failure: (any Error)?
    private var thread: Thread?
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

    /// Starts the executor and every node (UDF nodes start their child here). Throws the first node's
    /// start error, after which the task is over.
    public func start() throws {
        let started = DispatchSemaphore(value: 0)
        nonisolated(unsafe) var startError: (any Error)? = nil
        let thread = Thread { [self] in
            executorThread = pthread_self()
            for r in runtimes {
                do {
                    try r.node.start(output: r)
                } catch {
                    startError = error
                    break
                }
            }
            started.signal()
            if let startError {
                fail(node: nil, startError)
            }
            loop()
        }
        thread.name = "tock-task-\(taskID)"
        thread.stackSize = 16 << 20
        self.thread = thread
        thread.start()
        started.wait()
        if let startError { throw startError }
    }

    /// Writes points into the task. Points outside the task's dbrps are ignored. Safe from any thread;
    /// waits while more than ``maxQueuedPoints`` are queued. After the task ended, points are dropped.
    public func write(_ points: [Point]) {
        guard !points.isEmpty else { return }
        condition.lock()
        while queuedPoints >= maxQueuedPoints && !done { condition.wait() }
        if !done {
            queue.append(.points(PointsBox(points)))
            queuedPoints += points.count
            condition.broadcast()
        }
        condition.unlock()
    }

    /// Feeds batches to the `query` node ``Pipeline/batchQueries``[`index`], which emits them as if its query had
    /// returned them (a replayed recording, in ``BatchSourceMode/recorded``). Safe from any thread; in order with
    /// ``write(_:)``; waits while more than ``maxQueuedPoints`` points are queued. Dropped after the task ended or
    /// when `index` names no query node.
    public func feed(_ batches: [Batch], toQuery index: Int) {
        let queries = pipeline.batchQueries
        guard !batches.isEmpty, queries.indices.contains(index) else { return }
        let count = batches.reduce(0) { $0 + max(1, $1.points.count) }
        condition.lock()
        while queuedPoints >= maxQueuedPoints && !done { condition.wait() }
        if !done {
            queue.append(.batches(queries[index], batches, count))
            queuedPoints += count
            condition.broadcast()
        }
        condition.unlock()
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

    /// CPU time the executor thread has used, once the task has ended (0 before): the engine's cost without
    /// the caller's parsing or other tasks.
    public var executorCPUNanoseconds: Int64 {
        condition.lock()
        defer { condition.unlock() }
        return cpuNanoseconds
    }

    /// The counters of every node, in pipeline order.
    public func stats() -> [NodeStats] {
        condition.lock()
        let ended = done
        condition.unlock()
        if ended || thread == nil { return runtimes.map(\.stats) }
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
        if let t = executorThread, pthread_equal(t, pthread_self()) != 0 {
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
        condition.broadcast()
        condition.unlock()
    }

    // MARK: The executor

    private func loop() {
        while true {
            condition.lock()
            while queue.isEmpty && !done { condition.wait() }
            if done {
                let leftover = queue
                queue.removeAll()
                condition.unlock()
                for case .run(let f) in leftover { f() }
                return
            }
            // Take the jobs out by moving them, so the point arrays they carry stay uniquely owned and their
            // points can be handed on without copies.
            batch = queue
            queue = []
            condition.unlock()
            batch.reverse()
            while let job = batch.popLast() {
                process(job)
                if let f = pendingFailure {
                    pendingFailure = nil
                    fail(node: f.node, f.error)
                }
            }
        }
    }

    private func process(_ job: consuming Job) {
        switch consume job {
        case .points(let box):
            var points: [Point] = []
            swap(&points, &box.points)
            let count = points.count
            if !stopping && !isOver { route(&points) }
            condition.lock()
            queuedPoints -= count
            condition.broadcast()
            condition.unlock()
        case .batches(let i, let batches, let count):
            if !stopping && !isOver {
                for b in batches where !failing { runtimes[i].emit(.batch(b)) }
            }
            condition.lock()
            queuedPoints -= count
            condition.broadcast()
            condition.unlock()
        case .post(let i, let message):
            if !isOver { runtimes[i].emit(message) }
        case .fail(let i, let error):
            fail(node: i, error)
        case .finish(let i):
            if stopCalled[i] && !finished[i] {
                finished[i] = true
                advanceStop()
            }
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
                points.removeAll { p in !dbrps.contains(where: { $0.database == p.database && $0.retentionPolicy == p.retentionPolicy }) }
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
        var ts = timespec()
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts)
        // Work handed over before the end (an error a node counted from another thread) is done before anyone
        // waiting for the end sees it; what comes later runs where it is enqueued.
        // The rest of the batch the executor took out of the queue comes before anything still queued.
        let taken = batch.reversed().compactMap { job -> (() -> Void)? in if case .run(let f) = job { f } else { nil } }
        batch.removeAll { if case .run = $0 { true } else { false } }
        for f in taken { f() }
        condition.lock()
        while queue.contains(where: { if case .run = $0 { true } else { false } }) {
            let runs = queue.compactMap { job -> (() -> Void)? in if case .run(let f) = job { f } else { nil } }
            queue.removeAll { if case .run = $0 { true } else { false } }
            condition.unlock()
            for f in runs { f() }
            condition.lock()
        }
        cpuNanoseconds = Int64(ts.tv_sec) * 1_000_000_000 + Int64(ts.tv_nsec)
        done = true
        failure = error
        queuedPoints = 0
        condition.broadcast()
        condition.unlock()
    }
}

/// A node ended its task with an error.
public struct TaskError: Error, CustomStringConvertible, @unchecked Sendable {
    public var node: String
    public var underlying: any Error
    public var description: String { "\(node): \(underlying)" }
}
