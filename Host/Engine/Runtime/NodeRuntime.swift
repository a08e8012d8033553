#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
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
    var children: [ChildEdge] = []
    // The runner owns its runtimes and outlives them; unowned(unsafe) spares a refcount check per message.
    unowned(unsafe) let runner: TaskRunner

    var received = 0
    var emitted = 0
    var errors = 0
    private var sampledCalls = 0
    private var sampledNanoseconds: Int64 = 0

    init(taskID: String, nodeID: String, index: Int, node: any Node, quiet: Bool, runner: TaskRunner) {
        self.taskID = taskID
        self.nodeID = nodeID
        self.index = index
        self.node = node
        self.quiet = quiet
        self.runner = runner
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

    var stats: NodeStats {
        let estimate = sampledCalls == 0 ? 0 : Int64(Double(sampledNanoseconds) * Double(received) / Double(sampledCalls))
        return NodeStats(node: nodeID, received: received, emitted: emitted, errors: errors, processingNanoseconds: estimate)
    }

    // MARK: NodeOutput

    func emit(_ message: Message) {
        emitted += 1
        if children.isEmpty {
            runner.handlers.output?(nodeID, message)
            return
        }
        for child in children {
            child.runtime.deliver(message, port: child.port)
        }
    }

    func post(_ message: Message) { runner.enqueue(.post(index, message)) }

    func fail(_ error: any Error) { runner.reportFailure(node: index, error) }

    func finish() { runner.enqueue(.finish(index)) }

    func publish(_ event: TaskEvent) { runner.handlers.event(nodeID, event) }

    func log(_ level: LogLevel, _ message: String) { runner.handlers.log(level, nodeID, message) }
}
