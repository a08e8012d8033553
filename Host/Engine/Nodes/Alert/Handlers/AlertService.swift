import Foundation
import TICKScript

/// Where alert nodes send their events: the handlers their scripts name, and the topics.
///
/// The engine knows only this interface. ``BuiltinAlertService`` serves `log`, `post`, `tcp` and `exec` with no
/// topics; the daemon and `tock run` give the `Alerting` module's service, which knows every handler kind.
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
}

extension AlertService {
    public var forcesStateChangesOnly: Bool { false }
}

/// Who opens an ``AlertSink``.
public struct AlertNodeContext: Sendable {
    public var taskID: String
    public var nodeID: String
    /// `.topic(name)`; `nil` when the node has none.
    public var topic: String?
    public var log: @Sendable (LogLevel, String) -> Void

    public init(taskID: String, nodeID: String, topic: String?, log: @escaping @Sendable (LogLevel, String) -> Void) {
        self.taskID = taskID
        self.nodeID = nodeID
        self.topic = topic
        self.log = log
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

/// The handlers the engine serves on its own: `log`, `post` (with a URL), `tcp` and `exec`, run in order on one
/// serial queue per node. Used when no other service is given (engine tests, embedding).
public struct BuiltinAlertService: AlertService {
    public init() {}

    public func check(_ handler: AlertHandlerSpec) throws {
        _ = try Self.make(handler)
    }

    public func open(_ node: AlertNodeContext, handlers: [AlertHandlerSpec]) throws -> any AlertSink {
        BuiltinSink(dispatcher: AlertDispatcher(handlers: try handlers.map(Self.make)), log: node.log)
    }

    static func make(_ spec: AlertHandlerSpec) throws -> any AlertHandler {
        let o = spec.options
        switch spec.kind {
        case "log":
            let path = o["path"]?.string ?? ""
            guard path.hasPrefix("/") else { throw AlertHandlerError("alert log path must be absolute: \(path) is not absolute") }
            var mode: UInt32 = 0o600
            if let m = o["mode"]?.int {
                guard let checked = AlertOptions.fileMode(m) else {
                    throw HandlerOptionError("invalid file mode \(m) in .mode(): give an octal mode between 0 and 07777, such as 0644",
                                             option: "mode")
                }
                mode = checked
            }
            return LogHandler(path: path, mode: mode)
        case "post":
            if o["endpoint"] != nil {
                throw AlertHandlerError("alert .post().endpoint() is not supported here ([[httppost]] endpoints serve the httpPost node only); give the URL")
            }
            guard let text = o["url"]?.string else {
                throw AlertHandlerError("alert .post() without a URL needs .endpoint(); give the URL")
            }
            guard let url = URL(string: text), let scheme = url.scheme, scheme == "http" || scheme == "https" else {
                throw AlertHandlerError("invalid post URL \(text): want http:// or https://")
            }
            let headers = (o["headers"]?.stringMap ?? [:]).sorted { $0.key < $1.key }.map { ($0.key, $0.value) }
            if headers.contains(where: { $0.0.lowercased() == "authenticate" }) {
                throw AlertHandlerError("setting the Authenticate header is not allowed from a script")
            }
            if o["skip-ssl-verification"]?.bool == true {
                throw AlertHandlerError("alert .post().skipSSLVerification() is not supported here")
            }
            let timeout = Double(o["timeout"]?.duration ?? 0) / 1e9
            return PostHandler(url: url, headers: headers, timeout: timeout)
        case "tcp":
            guard let address = o["address"]?.string, TCPHandler.split(address) != nil else {
                throw AlertHandlerError("alert .tcp() needs an address host:port")
            }
            return TCPHandler(address: address)
        case "exec":
            guard let program = o["prog"]?.string, !program.isEmpty else { throw AlertHandlerError("alert .exec() needs a program") }
            return ExecHandler(program: program, arguments: o["args"]?.strings ?? [])
        default:
            let method = HandlerCatalog.all.first { $0.kind == spec.kind }?.method ?? spec.kind
            throw AlertHandlerError("alert .\(method)() needs the alerting service of `tock serve` or `tock run` (this engine serves log, post, tcp and exec only)")
        }
    }
}

private struct BuiltinSink: AlertSink {
    let dispatcher: AlertDispatcher
    let log: @Sendable (LogLevel, String) -> Void

    func collect(_ event: AlertEvent, inhibited: Bool) {
        guard !inhibited else { return }
        dispatcher.dispatch(event.json, log: log)
    }

    func drain(_ done: @escaping @Sendable () -> Void) { dispatcher.drain(done) }

    func close() {}
}
