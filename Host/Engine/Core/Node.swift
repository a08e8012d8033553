import Logging
import TockModel

/// The kind of data an edge carries.
public enum EdgeType: String, Sendable, Hashable {
    case stream
    case batch
}

/// A running node of a task's pipeline.
///
/// A node's state belongs to its task: ``receive(_:port:output:)`` and ``stop(output:)`` are always
/// called on the task's executor, one call at a time, so a node needs no locks. A node that produces
/// data from another thread (a UDF reading its child's stdout) hands it over with
/// ``NodeOutput/post(_:)``, which the executor delivers in order.
public protocol Node: AnyObject {
    /// Called once before any data, on the task's executor.
    func start(output: any NodeOutput) throws

    /// Handles one message from inbound edge `port` (0 for the parent on the left of the chain,
    /// 1… for the nodes given as arguments, as in `join(other)`).
    ///
    /// Throwing counts an error on the node and drops the message; the task goes on, as in
    /// Kapacitor. A failure that must end the node is reported with ``NodeOutput/fail(_:)``.
    func receive(_ message: Message, port: Int, output: any NodeOutput) throws

    /// Called once when the input has ended. Return ``StopResult/done`` when everything was emitted,
    /// or ``StopResult/pending`` and call ``NodeOutput/finish()`` later (from any thread) when the
    /// node has drained (a UDF waiting for its child's last responses).
    func stop(output: any NodeOutput) -> StopResult

    /// Handles a ``Barrier`` from inbound edge `port`: no point of `barrier.group` older than its time will follow.
    /// The default forwards it, as most of Kapacitor's nodes do; a node that closes something on a barrier
    /// (`window`, `join`) overrides it. Called on the task's executor.
    func barrier(_ barrier: Barrier, port: Int, output: any NodeOutput) throws

    /// Handles the deletion of group `group` arriving on inbound edge `port` (a `barrier().delete(TRUE)` upstream):
    /// a node that keeps state per group forgets the group's. The default forwards it. Called on the task's executor.
    func deleteGroup(_ group: GroupID, port: Int, output: any NodeOutput) throws
}

/// A node that keeps counters of its own beside the ones every node has (received, emitted, errors), under
/// Kapacitor's statistic names: they appear in `tock show`'s graph, the task's `node-stats`, `debug/vars` and the
/// `[stats]` points.
public protocol CountingNode: Node {
    /// The counters now. Read on the task's executor; a node that counts on other threads guards its counters.
    var counters: [String: Int64] { get }
}

extension Node {
    public func start(output: any NodeOutput) throws {}
    public func stop(output: any NodeOutput) -> StopResult { .done }
    public func barrier(_ barrier: Barrier, port: Int, output: any NodeOutput) throws { output.emit(barrier: barrier) }
    public func deleteGroup(_ group: GroupID, port: Int, output: any NodeOutput) throws { output.emit(deleteGroup: group) }
}

public enum StopResult: Sendable {
    case done
    case pending
}

/// A node's connection to the rest of its task: where it emits, and how it reports from other threads.
///
/// The engine implements it; nodes only call it.
public protocol NodeOutput: AnyObject, Sendable {
    /// The task's ID and the node's name in the graph (`window2`, `tTest4`).
    var taskID: String { get }
    var nodeID: String { get }

    /// Sends `message` to every child now. Call only on the task's executor (inside `receive`/`stop`).
    func emit(_ message: Message)

    /// Queues `message` to be emitted on the task's executor. Safe from any thread.
    func post(_ message: Message)

    /// Ends this node with `error` (the task's policy decides what follows). Safe from any thread.
    func fail(_ error: any Error)

    /// Marks a node whose ``Node/stop(output:)`` returned ``StopResult/pending`` as drained. Safe from any thread.
    func finish()

    /// Hands a result that leaves the pipeline sideways (an alert, an httpOut update) to whoever runs the task.
    func publish(_ event: TaskEvent)

    /// Where the node logs: the task's logger, with the node's name as `node` metadata (and the task's as `task`
    /// where whoever runs the task set it).
    var logger: Logger { get }

    /// Where alert levels outlive the task run; `nil` when nothing keeps them.
    var alertStates: (any AlertStateStore)? { get }

    /// Counts an error in the node's stats and logs it (unless the node is quiet) without dropping a message:
    /// for failures found off the executor, such as an HTTP request that failed. Safe from any thread.
    func countError(_ error: any Error)

    /// Sends a barrier to every child now. Call only on the task's executor.
    func emit(barrier: Barrier)

    /// Tells every child that group `deleteGroup` is deleted. Call only on the task's executor.
    func emit(deleteGroup: GroupID)

    /// Runs `work` on the task's executor, in order with the messages posted before it; dropped once the task
    /// has ended. Safe from any thread: a node's timer (`barrier().idle()`) uses it to emit.
    func perform(_ work: @escaping @Sendable () -> Void)
}

extension NodeOutput {
    public var alertStates: (any AlertStateStore)? { nil }
    public func countError(_ error: any Error) { logger.error("\(error)") }
    public func emit(barrier: Barrier) {}
    public func emit(deleteGroup: GroupID) {}
    public func perform(_ work: @escaping @Sendable () -> Void) { work() }
}

/// A result that leaves the pipeline other than along an edge.
public enum TaskEvent: Sendable, Hashable {
    /// An alert event as Kapacitor's alert JSON (one object, UTF-8, no trailing newline).
    case alert(json: String)
    /// An update of an `httpOut` node: `row`, the series row of the group that changed (one JSON object), and the
    /// node's live `result`, whose ``HTTPOutResult/json`` is the whole document served at
    /// `/kapacitor/v1/tasks/{task}/{endpoint}`.
    case httpOut(endpoint: String, row: String, result: HTTPOutResult)
}

