import Engine
import Synchronization
import TockModel

/// The last state of every alert event of every topic, in memory, as Kapacitor's topics API shows them.
///
/// A topic is a node's `.topic(name)`, the anonymous topic `main:<task>:<node>` of its script handlers, or a topic
/// that a topic handler names; each event (by alert ID) keeps the level, message, time and duration of its last event,
/// inhibited ones included. A topic also counts the events it collected since the daemon started (Kapacitor's
/// `collected`, which is not persisted either).
///
/// Changes are remembered until ``takeChanges()`` hands them to the store, so that a writer can save them in batches.
/// A topic holds at most ``maxEventsPerTopic`` events: the one with the oldest time makes room for a new ID.
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

        public init(id: String, level: AlertLevel, message: String, details: String, time: Timestamp, duration: Int64) {
            self.id = id
            self.level = level
            self.message = message
            self.details = details
            self.time = time
            self.duration = duration
        }
    }

    /// A topic, its highest event level and how many events it collected.
    public struct TopicSummary: Sendable, Hashable {
        public var id: String
        public var level: AlertLevel
        public var collected: Int64
    }

    /// What changed since the last ``takeChanges()``: topics to save whole, topics to forget.
    public struct Changes: Sendable, Hashable {
        public var saved: [(topic: String, events: [EventState])]
        public var deleted: [String]

        public var isEmpty: Bool { saved.isEmpty && deleted.isEmpty }

        public static func == (a: Changes, b: Changes) -> Bool {
            a.deleted == b.deleted && a.saved.map(\.topic) == b.saved.map(\.topic) && a.saved.map(\.events) == b.saved.map(\.events)
        }

        public func hash(into hasher: inout Hasher) {
            hasher.combine(deleted)
            for s in saved { hasher.combine(s.topic); hasher.combine(s.events) }
        }
    }

    /// The most events one topic keeps.
    public static let maxEventsPerTopic = 10_000

    private struct Topic {
        var events: [String: EventState] = [:]
        var collected: Int64 = 0
    }

    private struct State {
        var topics: [String: Topic] = [:]
        /// Anonymous topics of stopped alert nodes: kept (and saved) but not shown, as Kapacitor's `CloseTopic`.
        var closed: [String: Topic] = [:]
        /// How many running alert nodes hold each anonymous topic open.
        var holders: [String: Int] = [:]
        var dirty: Set<String> = []
        var deleted: Set<String> = []
    }

    private let state = Mutex(State())

    public init() {}

    /// Records `event` as the last state of its ID in `topic` (creating the topic) and counts it as collected.
    /// - Returns: the level the event had in this topic before, OK when it had none (Kapacitor's previous state).
    @discardableResult
    public func record(_ event: AlertEvent, topic: String) -> AlertLevel {
        let new = EventState(id: event.id, level: event.level, message: event.message, details: event.details,
                             time: event.time, duration: event.duration)
        return state.withLock { s in
            var t = s.topics[topic] ?? s.closed.removeValue(forKey: topic) ?? Topic()
            let previous = t.events[event.id]?.level ?? .ok
            if t.events[event.id] == nil && t.events.count >= Self.maxEventsPerTopic,
               let oldest = t.events.values.min(by: { ($0.time, $0.id) < ($1.time, $1.id) }) {
                t.events[oldest.id] = nil
            }
            t.events[event.id] = new
            t.collected += 1
            s.topics[topic] = t
            s.dirty.insert(topic)
            s.deleted.remove(topic)
            return previous
        }
    }

    /// Makes `topic` exist without events (a topic handler was defined on it), as Kapacitor's `RegisterHandler` does.
    public func ensure(_ topic: String) {
        state.withLock { s in
            if s.topics[topic] == nil { s.topics[topic] = Topic() }
        }
    }

    /// An alert node with handlers started: its anonymous topic is shown again (Kapacitor's `RestoreTopic`).
    public func open(_ topic: String) {
        state.withLock { s in
            s.holders[topic, default: 0] += 1
            if let t = s.closed.removeValue(forKey: topic) { s.topics[topic] = t }
        }
    }

    /// The alert node holding `topic` stopped (its task was disabled or is restarting): once no running node holds
    /// it, the topic is hidden until one does again, its events kept (Kapacitor's `CloseTopic`).
    public func close(_ topic: String) {
        state.withLock { s in
            let left = (s.holders[topic] ?? 1) - 1
            s.holders[topic] = left > 0 ? left : nil
            guard left <= 0, let t = s.topics.removeValue(forKey: topic) else { return }
            s.closed[topic] = t
        }
    }

    /// Puts back the stored events of `topic` (at start), without marking them as changed.
    public func restore(_ topic: String, events: [EventState]) {
        state.withLock { s in
            var t = s.topics[topic] ?? Topic()
            for e in events.prefix(Self.maxEventsPerTopic) { t.events[e.id] = e }
            s.topics[topic] = t
        }
    }

    /// Every topic, sorted by ID, with the highest level of its events (OK for a topic without events).
    /// `minLevel` keeps topics at that level or above; `pattern` is a glob on the ID (`*` and `?`), as the API's.
    public func list(pattern: String? = nil, minLevel: AlertLevel = .ok) -> [TopicSummary] {
        let all = state.withLock { $0.topics }
        return all.keys.sorted().compactMap { id in
            let topic = all[id]!
            let level = topic.events.values.map(\.level).max() ?? .ok
            guard level >= minLevel, pattern.map({ $0.isEmpty || Glob.matches($0, id) }) ?? true else { return nil }
            return TopicSummary(id: id, level: level, collected: topic.collected)
        }
    }

    /// One topic's summary; `nil` when the topic is unknown.
    public func summary(of topic: String) -> TopicSummary? {
        guard let t = state.withLock({ $0.topics[topic] }) else { return nil }
        return TopicSummary(id: topic, level: t.events.values.map(\.level).max() ?? .ok, collected: t.collected)
    }

    /// The events of `topic`, sorted by ID; `nil` when the topic is unknown.
    public func events(of topic: String, minLevel: AlertLevel = .ok) -> [EventState]? {
        guard let events = state.withLock({ $0.topics[topic]?.events }) else { return nil }
        return events.values.filter { $0.level >= minLevel }.sorted { $0.id < $1.id }
    }

    /// One event of `topic`.
    public func event(_ id: String, of topic: String) -> EventState? {
        state.withLock { $0.topics[topic]?.events[id] }
    }

    /// Forgets `topic` and its events (the API's `DELETE /topics/<id>`); whether it existed.
    @discardableResult
    public func remove(_ topic: String) -> Bool {
        state.withLock { s in
            s.dirty.remove(topic)
            s.deleted.insert(topic)
            let hidden = s.closed.removeValue(forKey: topic) != nil
            return s.topics.removeValue(forKey: topic) != nil || hidden
        }
    }

    /// Forgets the anonymous topics of `task` (`main:<task>:<node>`), as Kapacitor does when a task is deleted.
    public func removeAnonymous(ofTask task: String) {
        let prefix = "main:\(task):"
        state.withLock { s in
            let ids = Set(s.topics.keys).union(s.closed.keys)
            for id in ids where id.hasPrefix(prefix) && !id.dropFirst(prefix.count).contains(":") {
                s.topics[id] = nil
                s.closed[id] = nil
                s.dirty.remove(id)
                s.deleted.insert(id)
            }
        }
    }

    /// What changed since the last call: the whole state of every topic that collected events, and the topics removed.
    public func takeChanges() -> Changes {
        state.withLock { s in
            let saved = s.dirty.sorted().compactMap { id in
                (s.topics[id] ?? s.closed[id]).map { (topic: id, events: $0.events.values.sorted { $0.id < $1.id }) }
            }
            let deleted = s.deleted.sorted()
            s.dirty = []
            s.deleted = []
            return Changes(saved: saved, deleted: deleted)
        }
    }
}
