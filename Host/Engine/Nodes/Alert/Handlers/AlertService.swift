import Logging
import TockModel
import Foundation
import TICKScript

/// Where alert nodes send their events: the handlers their scripts name, and the topics.
///
/// The engine knows only this interface and delivers nothing itself: the daemon, `tock run` and `tock test` give the
/// `Alerting` module's service, which knows every handler kind; without one, ``NoAlertService`` refuses handlers.
public protocol AlertService: Sendable {
    /// Checks one handler of a script at define time: its kind is known, its options are valid and the
    /// configuration it needs is there. The error's description says what is wrong (the builder adds the
    /// script position).
    func check(_ handler: AlertHandlerSpec) throws

    /// Opens one alert node's way out, when its task starts: its script's handlers (on Kapacitor's anonymous
    /// topic `main:<task>:<node>`) and the topic it publishes to with `.topic()`, if any. `log` reports
    /// delivery failures under the task and node.
    func open(_ node: AlertNodeContext, handlers: [AlertHandlerSpec]) throws -> any AlertSink

    /// Whether every alert node sends only state changes, as if it had `.stateChangesOnly()`: Kapacitor does so
    /// when a service with `global = true` also has `state-changes-only = true` (`[smtp]`, `[slack]`, …).
    var forcesStateChangesOnly: Bool { get }

    /// The outbound HTTP client of the `httpPost` node; `nil` when the service has none (its requests then fail).
    var httpPoster: (any HTTPPoster)? { get }
}

extension AlertService {
    public var forcesStateChangesOnly: Bool { false }
    public var httpPoster: (any HTTPPoster)? { nil }
}

/// Who opens an ``AlertSink``.
public struct AlertNodeContext: Sendable {
    public var taskID: String
    public var nodeID: String
    /// `.topic(name)`; `nil` when the node has none.
    public var topic: String?
    /// Where the node's handlers log: the task's logger with the node's name as `node` metadata.
    public var logger: Logger

    public init(taskID: String, nodeID: String, topic: String?, logger: Logger = .discarding) {
        self.taskID = taskID
        self.nodeID = nodeID
        self.topic = topic
        self.logger = logger
    }

    /// Kapacitor's anonymous topic of a node's script handlers: `main:<task>:<node>`.
    public var anonymousTopic: String { "main:\(taskID):\(nodeID)" }
}

/// One alert node's open way out.
public protocol AlertSink: Sendable {
    /// Records `event` in the node's topics and queues it for their handlers, unless `inhibited` (then only the
    /// topics' state sees it). Never waits for a receiver.
    func collect(_ event: AlertEvent, inhibited: Bool)

    /// Calls `done` once every event collected so far has had its first delivery attempt (retries may go on in
    /// the service after that).
    func drain(_ done: @escaping @Sendable () -> Void)

    /// The node has stopped: releases what it opened.
    func close()
}

/// The service of an engine embedded without one: alert nodes keep their state and topics, but a script that names a
/// handler is refused at define time, since only the `Alerting` module (`tock serve`, `tock run`, `tock test`)
/// delivers alerts.
public struct NoAlertService: AlertService {
    public init() {}

    public func check(_ handler: AlertHandlerSpec) throws {
        let method = HandlerCatalog.all.first { $0.kind == handler.kind }?.method ?? handler.kind
        throw AlertHandlerError("alert .\(method)() needs an alert service: this engine was embedded without one (tock serve, tock run and tock test deliver alerts)")
    }

    public func open(_ node: AlertNodeContext, handlers: [AlertHandlerSpec]) throws -> any AlertSink {
        if let first = handlers.first { try check(first) }
        return NoSink()
    }
}

/// A handler that cannot be used.
public struct AlertHandlerError: Error, Sendable, CustomStringConvertible {
    public var description: String
    init(_ description: String) { self.description = description }
}

private struct NoSink: AlertSink {
    func collect(_ event: AlertEvent, inhibited: Bool) {}
    func drain(_ done: @escaping @Sendable () -> Void) { done() }
    func close() {}
}
