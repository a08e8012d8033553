import Dispatch

/// Where alert events go: a file, a URL, a socket, a program.
///
/// Handlers run on the alert node's handler queue, one event at a time and in order, away from the
/// task's executor, so a slow receiver never stalls the pipeline. They may block.
protocol AlertHandler: Sendable {
    /// The handler as the script names it, for logs: `log /var/log/alerts.log`.
    var name: String { get }
    /// Delivers `body`: the alert JSON followed by a newline, as Kapacitor's `json.Encoder` writes it.
    /// A failure is thrown and logged; it never stops the task.
    func deliver(_ body: [UInt8]) throws
}

/// A handler that could not deliver an event.
public struct AlertHandlerError: Error, Sendable, CustomStringConvertible {
    public var description: String
    init(_ description: String) { self.description = description }
}

/// Runs an alert node's handlers in order on one serial queue.
final class AlertDispatcher: Sendable {
    let handlers: [any AlertHandler]
    private let queue = DispatchQueue(label: "tock.alert.handlers")

    init(handlers: [any AlertHandler]) {
        self.handlers = handlers
    }

    /// Queues `json` for every handler; failures are logged through `log`.
    func dispatch(_ json: String, log: @escaping @Sendable (LogLevel, String) -> Void) {
        guard !handlers.isEmpty else { return }
        let body = Array((json + "\n").utf8)
        let handlers = self.handlers
        queue.async {
            for handler in handlers {
                do {
                    try handler.deliver(body)
                } catch {
                    log(.error, "alert handler \(handler.name) failed: \(error)")
                }
            }
        }
    }

    /// Calls `done` once every queued event has been delivered.
    func drain(_ done: @escaping @Sendable () -> Void) {
        queue.async(execute: done)
    }
}
