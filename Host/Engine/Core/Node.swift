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
}

extension Node {
    public func start(output: any NodeOutput) throws {}
    public func stop(output: any NodeOutput) -> StopResult { .done }
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

    /// Writes a log line under the task and node's names.
    func log(_ level: LogLevel, _ message: String)

    /// Where alert levels outlive the task run; `nil` when nothing keeps them.
    var alertStates: (any AlertStateStore)? { get }
}

extension NodeOutput {
    public var alertStates: (any AlertStateStore)? { nil }
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

public enum LogLevel: String, Sendable, Hashable, Comparable, CaseIterable {
    case debug = "DEBUG", info = "INFO", warning = "WARN", error = "ERROR"

    private var rank: Int {
        switch self {
        case .debug: 0
        case .info: 1
        case .warning: 2
        case .error: 3
        }
    }

    public static func < (a: LogLevel, b: LogLevel) -> Bool { a.rank < b.rank }
}
