import Engine
import Foundation
import Synchronization
import TockModel

/// Kapacitor's `aggregate` topic handler: collects a topic's events for `interval` and then publishes one event that
/// sums them up to another topic: the highest level, the latest time, the longest duration, the messages as details
/// (one per line), and `message` (a template of `{{ .Count }}` and `{{ .Interval }}`; Kapacitor's default
/// "Received {{ .Count }} events in the last {{.Interval}}.").
///
/// Nothing is published for an interval without events. At most ``maxDetails`` messages are kept per interval (the
/// count stays exact).
final class AggregateHandler: Sendable {
    /// Messages kept for one interval's details.
    static let maxDetails = 1_000
    static let defaultMessage = "Received {{ .Count }} events in the last {{.Interval}}."

    let id: String
    let interval: Int64
    let topic: String
    let message: String
    private let pending = Mutex<(count: Int, best: AlertEvent?, time: Timestamp, duration: Int64, details: [String])>((0, nil, 0, 0, []))
    private let timer = Mutex<Task<Void, Never>?>(nil)

    /// Reads the options (`interval` and `topic` are required); `defaultID` is the handler's ID, used when `id` is not set.
    init(options: [String: HandlerOption], defaultID: String) throws(TopicHandlerError) {
        var r = OptionReader(options, kind: "aggregate")
        do {
            guard let interval = try r.duration("interval"), interval > 0 else {
                throw TopicHandlerError("aggregate needs a positive interval (such as \"1m\")")
            }
            guard let topic = try r.string("topic"), !topic.isEmpty else {
                throw TopicHandlerError("aggregate needs the topic to publish the aggregated event to")
            }
            self.interval = interval
            self.topic = topic
            self.message = try r.string("message") ?? Self.defaultMessage
            self.id = try r.string("id") ?? defaultID
            try r.finish()
        } catch let error as HandlerOptionError {
            throw TopicHandlerError(error.message)
        } catch let error as TopicHandlerError {
            throw error
        } catch {
            throw TopicHandlerError("\(error)")
        }
        _ = try Self.render(message, count: 0, interval: interval)
    }

    /// Starts the interval timer; every tick hands the aggregated event, if any, to `publish`.
    func start(_ publish: @escaping @Sendable (AlertEvent) -> Void) {
        let interval = self.interval
        let task = Task { [weak self] in
            while !Task.isCancelled {
                do { try await Task.sleep(for: .nanoseconds(interval)) } catch { return }
                guard let self, let event = self.flush() else { continue }
                publish(event)
            }
        }
        timer.withLock { $0 = task }
    }

    func stop() { timer.withLock { $0?.cancel() } }

    func collect(_ event: AlertEvent) {
        pending.withLock { p in
            p.count += 1
            if p.best == nil || event.level > p.best!.level { p.best = event }
            p.time = max(p.time, event.time)
            p.duration = max(p.duration, event.duration)
            if p.details.count < Self.maxDetails { p.details.append(event.message) }
        }
    }

    /// The interval's aggregated event, and a fresh interval; `nil` when no event came.
    func flush() -> AlertEvent? {
        let p = pending.withLock { p in
            defer { p = (0, nil, 0, 0, []) }
            return p
        }
        guard p.count > 0, let best = p.best else { return nil }
        let text = (try? Self.render(message, count: p.count, interval: interval)) ?? message
        return AlertEvent(id: id, message: text, details: p.details.joined(separator: "\n"), time: p.time, duration: p.duration,
                          level: best.level, previousLevel: .ok, recoverable: true, data: best.data, taskName: best.taskName,
                          name: best.name, group: best.group, tags: best.tags, fields: best.fields, category: best.category)
    }

    /// The message with `{{ .Count }}` and `{{ .Interval }}` filled in; another action is refused.
    static func render(_ template: String, count: Int, interval: Int64) throws(TopicHandlerError) -> String {
        var out = ""
        var rest = Substring(template)
        while let open = rest.range(of: "{{") {
            out += rest[..<open.lowerBound]
            guard let close = rest[open.upperBound...].range(of: "}}") else {
                throw TopicHandlerError("aggregate message: unclosed action \"{{\"")
            }
            let action = rest[open.upperBound..<close.lowerBound].trimmingCharacters(in: .whitespaces)
            switch action {
            case ".Count": out += String(count)
            case ".Interval": out += GoDuration.format(interval)
            default: throw TopicHandlerError("aggregate message: unknown action {{\(action)}} (the message knows {{.Count}} and {{.Interval}})")
            }
            rest = rest[close.upperBound...]
        }
        return out + rest
    }
}
