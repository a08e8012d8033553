import Alerting
import Engine
import Foundation
import Logging
import Storage
import TockModel

/// The topics' persistence: handlers are saved by ``TopicAPI`` as they are defined; the events' last states are
/// saved in batches by ``persist(_:to:every:log:)`` and both are put back by ``restore(_:from:log:)`` at start.
extension TopicAPI {
    /// Defines the stored handlers (one that can no longer be defined is logged and skipped, and stays stored) and
    /// puts back the stored event states.
    static func restore(_ alerting: AlertingService, from store: Store, log: Logger) throws {
        alerting.topicRouter.logger = log
        for stored in try store.topicHandlers() {
            do {
                guard let json = try? JSON.parse(Array(stored.json.utf8)) else { throw TopicHandlerError("the stored handler is not JSON") }
                var spec = try Self.spec(from: json, topic: stored.topic, prefix: "stored handler")
                spec.id = stored.id
                try alerting.defineTopicHandler(spec)
            } catch {
                log.error("failed to load handler on startup", metadata: [
                    "topic": .string(stored.topic), "handler": .string(stored.id), "err": "\(error)",
                ])
            }
        }
        var byTopic: [String: [TopicStates.EventState]] = [:]
        for (topic, e) in try store.topicEvents() {
            byTopic[topic, default: []].append(TopicStates.EventState(
                id: e.id, level: AlertLevel(rawValue: e.level) ?? .ok, message: e.message, details: e.details, time: e.time,
                duration: e.duration))
        }
        for (topic, events) in byTopic { alerting.topics.restore(topic, events: events) }
        if !byTopic.isEmpty { log.info("restored topic states", metadata: ["topics": "\(byTopic.count)"]) }
    }

    /// Saves the topics' changes every `interval` (nanoseconds) until cancelled, then once more.
    static func persist(_ topics: TopicStates, to store: Store, every interval: Int64 = GoDuration.second, log: Logger) async {
        while !Task.isCancelled {
            do { try await Task.sleep(for: .nanoseconds(interval)) } catch { break }
            save(topics, to: store, log: log)
        }
        save(topics, to: store, log: log)
    }

    /// Writes what changed since the last save, in one transaction.
    static func save(_ topics: TopicStates, to store: Store, log: Logger) {
        let changes = topics.takeChanges()
        guard !changes.isEmpty else { return }
        do {
            try store.updateTopicEvents(
                saved: changes.saved.map { (topic: $0.topic, events: $0.events.map {
                    StoredTopicEvent(id: $0.id, level: $0.level.rawValue, message: $0.message, details: $0.details, time: $0.time,
                                     duration: $0.duration)
                }) },
                deleted: changes.deleted)
        } catch {
            log.error("failed to save topic states", metadata: ["err": "\(error)"])
        }
    }
}
