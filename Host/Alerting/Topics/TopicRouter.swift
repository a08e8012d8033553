import Logging
import Engine
import Synchronization
import TockModel

/// The topics' handlers defined over the API (`/alerts/topics/<topic>/handlers`) and the way events reach them.
///
/// ``publish(_:to:inhibited:)`` records an event in its topic (``TopicStates``) and hands it to every handler of the
/// topic whose match expression selects it, unless the event is inhibited or a silence covers it in that topic.
/// A delivering handler has its own ``DeliveryQueue`` (timeout, retries, counters in
/// ``AlertingService/deliveryStats``); `aggregate` collects for its interval and publishes the result; `publish`
/// re-publishes the event to other topics. An event travels at most ``maxHops`` topics deep, so that handlers
/// publishing in a circle stop (with an error in the log) instead of looping.
public final class TopicRouter: Sendable {
    /// How many times an event may be re-published (by `publish` or `aggregate` handlers) before it is dropped.
    public static let maxHops = 8

    /// One defined handler and what it does with an event.
    struct Entry: Sendable {
        let spec: TopicHandlerSpec
        let match: MatchExpression?
        let action: Action
    }

    enum Action: Sendable {
        case deliver(DeliveryQueue)
        case aggregate(AggregateHandler)
        case publish([String])
    }

    let states: TopicStates
    let silences: Silences
    private let currentLogger = Mutex(Logger.discarding)
    private let entries = Mutex<[String: [String: Entry]]>([:])

    init(states: TopicStates, silences: Silences) {
        self.states = states
        self.silences = silences
    }

    /// Where topic handlers log (the daemon's logger; each line has the `topic` and `handler` as metadata); nowhere
    /// until set. A handler's delivery queue keeps the logger of when the handler was defined: set it first.
    public var logger: Logger {
        get { currentLogger.withLock { $0 } }
        set { currentLogger.withLock { $0 = newValue } }
    }

    // MARK: Handlers

    /// The handler `id` of `topic`.
    public func spec(topic: String, id: String) -> TopicHandlerSpec? {
        entries.withLock { $0[topic]?[id]?.spec }
    }

    /// The handlers of `topic` whose ID matches `pattern` (every one for an empty pattern), by ID.
    public func specs(topic: String, pattern: String = "") -> [TopicHandlerSpec] {
        let all = entries.withLock { $0[topic] ?? [:] }
        return all.keys.sorted().filter { pattern.isEmpty || Glob.matches(pattern, $0) }.map { all[$0]!.spec }
    }

    /// Every handler of every topic, by topic then ID.
    public var allSpecs: [TopicHandlerSpec] {
        let all = entries.withLock { $0 }
        return all.keys.sorted().flatMap { topic in all[topic]!.keys.sorted().map { all[topic]![$0]!.spec } }
    }

    /// Puts `entry` in place (replacing `replacing`, when given) and stops what it replaces.
    func install(_ entry: Entry, replacing old: String? = nil) {
        let spec = entry.spec
        let removed: [Entry] = entries.withLock { e in
            var gone: [Entry] = []
            if let old, let previous = e[spec.topic]?.removeValue(forKey: old) { gone.append(previous) }
            if let previous = e[spec.topic, default: [:]].updateValue(entry, forKey: spec.id) { gone.append(previous) }
            return gone
        }
        states.ensure(spec.topic)
        if case .aggregate(let aggregate) = entry.action {
            let hops = 1
            aggregate.start { [weak self] event in self?.publish(event, to: aggregate.topic, inhibited: false, hops: hops) }
        }
        for r in removed { stop(r) }
    }

    /// Removes the handler; whether it existed.
    @discardableResult
    func uninstall(topic: String, id: String) -> Bool {
        let removed = entries.withLock { e -> Entry? in
            let r = e[topic]?.removeValue(forKey: id)
            if e[topic]?.isEmpty == true { e[topic] = nil }
            return r
        }
        guard let removed else { return false }
        stop(removed)
        return true
    }

    private func stop(_ entry: Entry) {
        switch entry.action {
        case .deliver(let queue): queue.close()
        case .aggregate(let aggregate): aggregate.stop()
        case .publish: break
        }
    }

    /// Every delivering handler's queue, with its topic and ID.
    var queues: [(topic: String, id: String, queue: DeliveryQueue)] {
        entries.withLock { e in
            e.flatMap { topic, handlers in
                handlers.compactMap { id, entry -> (topic: String, id: String, queue: DeliveryQueue)? in
                    if case .deliver(let q) = entry.action { return (topic, id, q) }
                    return nil
                }
            }
        }
    }

    /// Stops every handler (the process is ending): waiting events are dropped.
    func shutdown() {
        let all = entries.withLock { e in defer { e = [:] }; return e.values.flatMap(\.values) }
        for entry in all {
            switch entry.action {
            case .deliver(let queue): queue.cancel()
            case .aggregate(let aggregate): aggregate.stop()
            case .publish: break
            }
        }
    }

    // MARK: Events

    /// Records `event` in `topic` and hands it to the topic's handlers that select it.
    /// - Parameter hops: how many topics the event went through before this one (re-publishing).
    public func publish(_ event: AlertEvent, to topic: String, inhibited: Bool, hops: Int = 0) {
        let previous = states.record(event, topic: topic)
        guard !inhibited else { return }
        let handlers = entries.withLock { e in e[topic].map { Array($0.values) } ?? [] }
        guard !handlers.isEmpty, silences.silencing(event, topics: [topic]) == nil else { return }
        let subject = MatchExpression.Subject(changed: event.level != previous, level: event.level, name: event.name,
                                              taskName: event.taskName, duration: event.duration, tags: event.tags)
        for entry in handlers.sorted(by: { $0.spec.id < $1.spec.id }) {
            if let match = entry.match {
                do {
                    guard try match.matches(subject) else { continue }
                } catch {
                    logger.error("failed to evaluate match expression for event \(event.id): \(error)",
                                 metadata: ["topic": .string(topic), "handler": .string(entry.spec.id)])
                    continue
                }
            }
            switch entry.action {
            case .deliver(let queue):
                queue.collect(event)
            case .aggregate(let aggregate):
                aggregate.collect(event)
            case .publish(let targets):
                guard hops + 1 <= Self.maxHops else {
                    logger.error("event \(event.id) dropped after \(Self.maxHops) re-publications (do publish or aggregate handlers form a loop?)",
                                 metadata: ["topic": .string(topic), "handler": .string(entry.spec.id)])
                    continue
                }
                for target in targets { publish(event, to: target, inhibited: false, hops: hops + 1) }
            }
        }
    }
}
