#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Logging
import TockModel

/// A node at run time: its connection to the task (``NodeOutput``), its children and its counters.
///
/// Messages are pushed synchronously: `emit` calls each child's `receive` on the executor's stack, so a point
/// travels the whole pipeline without queues or thread hops.
/// An edge to a child. The runner owns every runtime for the task's life, so the reference needs no counting.
struct ChildEdge {
    unowned(unsafe) let runtime: NodeRuntime
    let port: Int
}

final class NodeRuntime: NodeOutput, @unchecked Sendable {
    let taskID: String
    var alertStates: (any AlertStateStore)? { runner.alertStates }
    let nodeID: String
    let index: Int
    let node: any Node
    let quiet: Bool
    /// The node's run-of-points entry, when it has one (see ``PointRunNode``).
    let runNode: (any PointRunNode)?
    var children: [ChildEdge] = []
    // The runner owns its runtimes and outlives them; unowned(unsafe) spares a refcount check per message.
    unowned(unsafe) let runner: TaskRunner

    var received = 0
    var emitted = 0
    var errors = 0
    private var sampledCalls = 0
    private var sampledNanoseconds: Int64 = 0
    /// Points received in runs (every run is timed, so they are not part of the sample).
    private var runPoints = 0
    private var runNanoseconds: Int64 = 0

    init(taskID: String, nodeID: String, index: Int, node: any Node, quiet: Bool, runner: TaskRunner) {
        self.taskID = taskID
        self.nodeID = nodeID
        self.index = index
        self.node = node
        self.quiet = quiet
        self.runner = runner
        self.runNode = node as? any PointRunNode
    }

    /// One in this many messages is timed (plus every message reached from a timed one, so that children's
    /// time can be subtracted); the total is scaled from the sample.
    private static let sampleMask = 15

    @inline(__always)
    static func now() -> Int64 {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Int64(ts.tv_sec) * 1_000_000_000 + Int64(ts.tv_nsec)
    }

    /// For the `stream` source: counts the message and hands it to the children without a call into the node.
    func passThrough(_ message: Message) {
        received += 1
        emitted += 1
        if runner.tapsEveryNode { runner.handlers.output?(nodeID, message) }
        for child in children {
            child.runtime.deliver(message, port: child.port)
        }
    }

    /// Hands `message` to the node on inbound `port`; called on the executor.
    func deliver(_ message: Message, port: Int) {
        if runner.failing { return }
        received += 1
        if runner.timingAll || received & Self.sampleMask == 1 {
            let savedChildTime = runner.childTime
            let savedTimingAll = runner.timingAll
            runner.childTime = 0
            runner.timingAll = true
            let start = Self.now()
            receive(message, port: port)
            let inclusive = Self.now() - start
            sampledNanoseconds += inclusive - runner.childTime
            sampledCalls += 1
            runner.childTime = savedChildTime + inclusive
            runner.timingAll = savedTimingAll
        } else {
            receive(message, port: port)
        }
    }

    @inline(__always)
    private func receive(_ message: Message, port: Int) {
        do {
            try node.receive(message, port: port, output: self)
        } catch {
            errors += 1
            if !quiet { log(.error, "\(error)") }
        }
    }

    // MARK: Runs of points

    /// For the `stream` source: counts the points and hands them to the children as a run.
    func passThrough(points: inout [Point]) {
        received += points.count
        emit(points: &points)
    }

    /// Hands a run of points to the node on inbound `port`: at once when the node takes runs, else one message at
    /// a time. The node may consume `points`.
    func deliver(points: inout [Point], port: Int) {
        guard let runNode else {
            for p in points { deliver(.point(p), port: port) }
            return
        }
        if runner.failing { return }
        received += points.count
        runPoints += points.count
        let savedChildTime = runner.childTime
        let savedTimingAll = runner.timingAll
        runner.childTime = 0
        runner.timingAll = true
        let start = Self.now()
        runNode.receive(points: &points, port: port, output: self)
        let inclusive = Self.now() - start
        runNanoseconds += inclusive - runner.childTime
        runner.childTime = savedChildTime + inclusive
        runner.timingAll = savedTimingAll
    }

    /// Emits a run of points: to a single child as a run, otherwise point by point (so that several children see
    /// the points interleaved, as they would one message at a time). May consume `points`.
    func emit(points: inout [Point]) {
        emitted += points.count
        if runner.tapsEveryNode && !children.isEmpty {
            for p in points { runner.handlers.output?(nodeID, .point(p)) }
        }
        if children.count == 1 {
            children[0].runtime.deliver(points: &points, port: children[0].port)
            return
        }
        for p in points {
            if runner.failing { return }
            let message = Message.point(p)
            if children.isEmpty {
                runner.handlers.output?(nodeID, message)
            } else {
                for child in children { child.runtime.deliver(message, port: child.port) }
            }
        }
    }

    /// Counts (and logs, unless the node is quiet) an error that dropped one message of a run.
    func dropped(_ error: any Error) {
        errors += 1
        if !quiet { log(.error, "\(error)") }
    }

    var stats: NodeStats {
        let sampledReceived = received - runPoints
        let estimate = runNanoseconds
            + (sampledCalls == 0 ? 0 : Int64(Double(sampledNanoseconds) * Double(sampledReceived) / Double(sampledCalls)))
        return NodeStats(node: nodeID, received: received, emitted: emitted, errors: errors, processingNanoseconds: estimate,
                         counters: (node as? any CountingNode)?.counters ?? [:])
    }

    // MARK: NodeOutput

    func emit(_ message: Message) {
        emitted += 1
        if children.isEmpty {
            runner.handlers.output?(nodeID, message)
            return
        }
        if runner.tapsEveryNode { runner.handlers.output?(nodeID, message) }
        for child in children {
            child.runtime.deliver(message, port: child.port)
        }
    }

    func post(_ message: Message) { runner.enqueue(.post(index, message)) }

    func emit(barrier: Barrier) {
        for child in children { child.runtime.deliver(.barrier(barrier), port: child.port) }
    }

    func emit(deleteGroup: GroupID) {
        for child in children { child.runtime.deliver(.deleteGroup(deleteGroup), port: child.port) }
    }

    func perform(_ work: @escaping @Sendable () -> Void) { runner.enqueue(.perform(work)) }

    /// Hands a barrier or a group deletion to the node on inbound `port`; called on the executor. An error counts
    /// on the node like a message's.
    func deliver(_ signal: GroupSignal, port: Int) {
        if runner.failing { return }
        do {
            switch signal {
            case .barrier(let b): try node.barrier(b, port: port, output: self)
            case .deleteGroup(let g): try node.deleteGroup(g, port: port, output: self)
            }
        } catch {
            errors += 1
            if !quiet { log(.error, "\(error)") }
        }
    }

    func fail(_ error: any Error) { runner.reportFailure(node: index, error) }

    func finish() { runner.enqueue(.finish(index)) }

    func publish(_ event: TaskEvent) { runner.handlers.event(nodeID, event) }

    var logger: Logger { runner.handlers.logger.with("node", nodeID) }

    func log(_ level: LogLevel, _ message: String) { logger.log(level: Logger.Level(level), "\(message)") }

    func countError(_ error: any Error) {
        runner.enqueue(.run { [self] in
            errors += 1
            if !quiet { log(.error, "\(error)") }
        })
    }
}

/// What travels beside the data along an edge.
enum GroupSignal {
    case barrier(Barrier)
    case deleteGroup(GroupID)
}

/// A node that can take a run of points at once: the engine's fast path along a chain of stream nodes, which spares
/// a call, a message and a copy of each point per node.
///
/// `receive(points:…)` must have the same effect as `receive(.point(p), …)` for each point in order, with each
/// error that would have been thrown for a point reported through ``NodeRuntime/dropped(_:)`` instead.
protocol PointRunNode: Node {
    /// Handles `points` (the node may change or consume the array), emitting with `output.emit(points:)` or
    /// `output.emit(_:)`.
    func receive(points: inout [Point], port: Int, output: NodeRuntime)
}
