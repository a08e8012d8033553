import Engine
import Synchronization
import TockModel

/// The last state of every alert event of every topic, in memory, as Kapacitor's topics API shows them.
///
/// A topic is a node's `.topic(name)` or the anonymous topic `main:<task>:<node>` of its script handlers; each event
/// (by alert ID) keeps the level, message, time and duration of its last event, inhibited ones included.
public final class TopicStates: Sendable {
    /// One event's last state.
    public struct EventState: Sendable, Hashable {
        public var id: String
        public var level: AlertLevel
        public var message: String
        public var details: String
        public var time: Timestamp
        /// Nanoseconds.
        public var duration: Int64
    }

    /// A topic and its highest event level.
    public struct TopicSummary: Sendable, Hashable {
        public var id: String
        public var level: AlertLevel
    }

    private let topics = Mutex<[String: [String: EventState]]>([:])

    public init() {}

    /// Records `event` as the last state of its ID in `topic`.
    public func record(_ event: AlertEvent, topic: String) {
        let state = EventState(id: event.id, level: event.level, message: event.message, details: event.details,
                               time: event.time, duration: event.duration)
        topics.withLock { $0[topic, default: [:]][event.id] = state }
    }

    /// Every topic, sorted by ID, with the highest level of its events (OK for a topic without events).
    /// `minLevel` keeps topics at that level or above; `pattern` is a glob on the ID (`*` and `?`), as the API's.
    public func list(pattern: String? = nil, minLevel: AlertLevel = .ok) -> [TopicSummary] {
        let all = topics.withLock { $0 }
        return all.keys.sorted().compactMap { id in
            let level = all[id]!.values.map(\.level).max() ?? .ok
            guard level >= minLevel, pattern.map({ Glob.matches($0, id) }) ?? true else { return nil }
            return TopicSummary(id: id, level: level)
        }
    }

    /// The events of `topic`, sorted by ID; `nil` when the topic is unknown.
    public func events(of topic: String, minLevel: AlertLevel = .ok) -> [EventState]? {
        guard let events = topics.withLock({ $0[topic] }) else { return nil }
        return events.values.filter { $0.level >= minLevel }.sorted { $0.id < $1.id }
    }

    /// One event of `topic`.
    public func event(_ id: String, of topic: String) -> EventState? {
        topics.withLock { $0[topic]?[id] }
    }

    /// Forgets `topic` and its events (the API's `DELETE /topics/<id>`).
    public func remove(_ topic: String) {
        topics.withLock { $0[topic] = nil }
    }
}

/// Kapacitor's topic patterns (Go's `path.Match` without classes): `*` any run, `?` one character.
public enum Glob {
    public static func matches(_ pattern: String, _ text: String) -> Bool {
        let p = Array(pattern), t = Array(text)
        var pi = 0, ti = 0, star = -1, mark = 0
        while ti < t.count {
            if pi < p.count && (p[pi] == "?" || p[pi] == t[ti]) {
                pi += 1; ti += 1
            } else if pi < p.count && p[pi] == "*" {
                star = pi; mark = ti; pi += 1
            } else if star >= 0 {
                pi = star + 1; mark += 1; ti = mark
            } else {
                return false
            }
        }
        while pi < p.count && p[pi] == "*" { pi += 1 }
        return pi == p.count
    }
}
