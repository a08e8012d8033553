import Engine
import TockModel

/// Where a handler's events come from and what its sender is made of: enough to name it in a dead letter and to
/// build its sender again when a dead letter is replayed after the handler is gone.
public struct DeliveryOrigin: Sendable, Hashable {
    public var task: String
    public var node: String
    /// The node's topic (its anonymous `main:TASK:NODE` topic when it names none).
    public var topic: String
    /// The handler's kind (`slack`, `tcp`, a notifier plugin's name).
    public var kind: String
    /// The handler's options as the script or topic handler set them.
    public var options: [String: HandlerOption]

    public init(task: String, node: String, topic: String, kind: String, options: [String: HandlerOption] = [:]) {
        self.task = task
        self.node = node
        self.topic = topic
        self.kind = kind
        self.options = options
    }

    /// The kind whose `[alerting.rate-limits]` entry applies: a `.notify('NAME')` handler's notifier name, else
    /// ``kind``.
    public var limitKind: String { kind == "notify" ? options["notifier"]?.string ?? kind : kind }
}

/// An event a handler could not deliver, kept with why so that it can be looked at, replayed or deleted.
public struct DeadLetter: Sendable, Hashable {
    /// Why an event was given up.
    public enum Reason: String, Sendable, Hashable, CaseIterable, CustomStringConvertible {
        /// The receiver refused it (a permanent failure: 4xx, a bad address); not retried.
        case refused
        /// Its last attempt (`retry-max-attempts`) failed too.
        case retriesExhausted = "retries-exhausted"
        /// The handler's queue was full (`queue-size`) and this was its oldest waiting event.
        case queueFull = "queue-full"
        /// It was still waiting (or being attempted) when the handler stopped: the daemon or `tock run`/`tock test`
        /// ending after their drain bound.
        case stopped

        public var description: String { rawValue }
    }

    /// Assigned when the letter is recorded: increasing, never reused by one store.
    public var id: Int64
    /// When the event was given up (nanoseconds since the epoch, wall clock).
    public var time: Timestamp
    /// The handler's description (`tcp 127.0.0.1:7777`, `notifier pager`).
    public var handler: String
    public var origin: DeliveryOrigin
    /// The event, whole: replaying it sends the same alert.
    public var event: AlertEvent
    public var reason: Reason
    /// The last failure's text (`connection refused`), or what happened (`queue full: 1000 events waiting`).
    public var detail: String
    /// The attempts made (0 when it never left the queue).
    public var attempts: Int

    public init(id: Int64 = 0, time: Timestamp, handler: String, origin: DeliveryOrigin, event: AlertEvent,
                reason: Reason, detail: String, attempts: Int) {
        self.id = id
        self.time = time
        self.handler = handler
        self.origin = origin
        self.event = event
        self.reason = reason
        self.detail = detail
        self.attempts = attempts
    }
}

/// Which dead letters to list or delete; `nil` members match everything. Text members are globs (`*`, `?`).
public struct DeadLetterFilter: Sendable, Hashable {
    public var ids: Set<Int64>?
    public var task: String?
    public var node: String?
    public var topic: String?
    public var handler: String?
    public var kind: String?
    public var reason: DeadLetter.Reason?

    public init(ids: Set<Int64>? = nil, task: String? = nil, node: String? = nil, topic: String? = nil,
                handler: String? = nil, kind: String? = nil, reason: DeadLetter.Reason? = nil) {
        self.ids = ids
        self.task = task
        self.node = node
        self.topic = topic
        self.handler = handler
        self.kind = kind
        self.reason = reason
    }

    /// Every letter.
    public static let all = DeadLetterFilter()

    /// Whether `letter` meets every member that is set.
    public func matches(_ letter: DeadLetter) -> Bool {
        func glob(_ pattern: String?, _ value: String) -> Bool { pattern.map { Glob.matches($0, value) } ?? true }
        return (ids?.contains(letter.id) ?? true) && glob(task, letter.origin.task) && glob(node, letter.origin.node)
            && glob(topic, letter.origin.topic) && glob(handler, letter.handler) && glob(kind, letter.origin.kind)
            && (reason.map { $0 == letter.reason } ?? true)
    }
}
