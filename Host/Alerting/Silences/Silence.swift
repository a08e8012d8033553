import Engine
import TockModel

/// A silence: for a while, events that match it are recorded in their topics but delivered to no handler.
///
/// Kapacitor has none (its users asked for maintenance windows); Tock's follows Alertmanager's idea with Kapacitor's
/// vocabulary: a topic pattern, an alert-ID pattern (both Kapacitor's globs, `*` and `?`), tags that must all be equal,
/// and a wall-clock window `[start, end)`.
public struct Silence: Sendable, Hashable {
    public var id: String
    /// A glob on the topic ID; empty matches every topic.
    public var topic: String
    /// A glob on the alert's ID; empty matches every event.
    public var event: String
    /// Tags the event must carry, each with exactly this value.
    public var tags: [String: String]
    /// Wall-clock nanoseconds since the epoch.
    public var start: Int64
    public var end: Int64
    public var comment: String
    public var created: Int64

    public init(id: String, topic: String = "", event: String = "", tags: [String: String] = [:],
                start: Int64, end: Int64, comment: String = "", created: Int64) {
        self.id = id
        self.topic = topic
        self.event = event
        self.tags = tags
        self.start = start
        self.end = end
        self.comment = comment
        self.created = created
    }

    /// Whether the window holds `now`.
    public func isActive(at now: Int64) -> Bool { start <= now && now < end }

    /// Whether `event`, published to `topic`, is one this silence covers (its window aside).
    public func covers(_ event: AlertEvent, topic: String) -> Bool {
        (self.topic.isEmpty || Glob.matches(self.topic, topic))
            && (self.event.isEmpty || Glob.matches(self.event, event.id))
            && tags.allSatisfy { event.tags[$0.key] == $0.value }
    }

    /// Whether this silence can ever cover an event of `topic` (its topic pattern matches it).
    public func applies(toTopic topic: String) -> Bool { self.topic.isEmpty || Glob.matches(self.topic, topic) }
}

/// Why a silence was refused.
public struct SilenceError: Error, Sendable, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}
