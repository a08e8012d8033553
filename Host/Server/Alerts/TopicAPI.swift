import Alerting
import Engine
import Foundation
import Hummingbird
import Storage
import TockModel

/// Kapacitor's alert topics API (`services/alert/api.go`), under `/kapacitor/v1/alerts/topics`:
///
/// - `GET /alerts/topics[?min-level=&pattern=]`: the topics, by ID, with their level and collected count.
/// - `GET|DELETE /alerts/topics/ID`: one topic; deleting it forgets its events (its handlers stay).
/// - `GET /alerts/topics/ID/events[?min-level=]`, `GET /alerts/topics/ID/events/EVENT`: the events' last states.
/// - `GET|POST /alerts/topics/ID/handlers[?pattern=]`, `GET|PUT|PATCH|DELETE /alerts/topics/ID/handlers/HANDLER`:
///   the topic handlers `{id, kind, options, match}`; `PATCH` takes a JSON Patch (RFC 6902).
///
/// The JSON is Kapacitor's, member for member. Where Kapacitor answers 500 for a request at fault (a handler whose
/// kind or options cannot be used, a handler ID taken, events of an unknown topic), Tock answers 400 or 404.
struct TopicAPI: Sendable {
    static let path = TaskAPI.base + "/alerts/topics"
    let alerting: AlertingService
    /// Where handlers are saved; `nil` keeps them in memory only.
    let store: Store?

    func register(on router: Router<BasicRequestContext>) {
        router.get(RouterPath(Self.path)) { request, _ in
            let q = request.uri.queryParameters
            let pattern = q.get("pattern") ?? ""
            if let problem = TockModel.Glob.problem(pattern) { throw APIError(.badRequest, "invalid pattern: \(problem)") }
            let minLevel = try Self.level(q.get("min-level"))
            let topics = alerting.topics.list(pattern: pattern, minLevel: minLevel)
            return TockAPI.json(.object([("link", Self.link(Self.requestHref(request))), ("topics", .array(topics.map(Self.topic)))]))
        }
        router.get(RouterPath(Self.path + "/:topic")) { _, context in
            let topic = try Self.parameter(context, "topic")
            guard let summary = alerting.topics.summary(of: topic) else { throw APIError(.notFound, "unknown topic: \(Self.quote(topic))") }
            return TockAPI.json(Self.topic(summary))
        }
        router.delete(RouterPath(Self.path + "/:topic")) { _, context in
            alerting.topics.remove(try Self.parameter(context, "topic"))
            return Response(status: .noContent)
        }
        router.get(RouterPath(Self.path + "/:topic/events")) { request, context in
            let topic = try Self.parameter(context, "topic")
            let minLevel = try Self.level(request.uri.queryParameters.get("min-level"))
            guard let events = alerting.topics.events(of: topic, minLevel: minLevel) else {
                throw APIError(.notFound, "failed to get topic events: unknown topic \(Self.quote(topic))")
            }
            return TockAPI.json(.object([("link", Self.link(Self.href(topic, "events"))), ("topic", .string(topic)),
                                         ("events", .array(events.map { Self.event($0, topic: topic) }))]))
        }
        router.get(RouterPath(Self.path + "/:topic/events/:event")) { _, context in
            let topic = try Self.parameter(context, "topic"), id = try Self.parameter(context, "event")
            guard let event = alerting.topics.event(id, of: topic) else {
                throw APIError(.notFound, "unknown event \(Self.quote(id)) in topic \(Self.quote(topic))")
            }
            return TockAPI.json(Self.event(event, topic: topic))
        }
        router.get(RouterPath(Self.path + "/:topic/handlers")) { request, context in
            let topic = try Self.parameter(context, "topic")
            let pattern = request.uri.queryParameters.get("pattern") ?? ""
            if let problem = TockModel.Glob.problem(pattern) { throw APIError(.badRequest, "invalid pattern: \(problem)") }
            let handlers = alerting.topicRouter.specs(topic: topic, pattern: pattern)
            return TockAPI.json(.object([("link", Self.link(Self.requestHref(request))), ("topic", .string(topic)),
                                         ("handlers", .array(handlers.map(Self.handler)))]))
        }
        router.post(RouterPath(Self.path + "/:topic/handlers")) { request, context in
            let topic = try Self.parameter(context, "topic")
            let spec = try Self.spec(from: await TockAPI.body(request), topic: topic, prefix: "invalid handler json")
            try validate(spec)
            if alerting.topicRouter.spec(topic: topic, id: spec.id) != nil {
                throw APIError(.badRequest, "failed to create handler: cannot register handler, handler with ID \(Self.quote(spec.id)) already exists")
            }
            try define(spec, replacing: nil, failure: "failed to create handler")
            return TockAPI.json(Self.handler(spec))
        }
        router.get(RouterPath(Self.path + "/:topic/handlers/:id")) { _, context in
            let spec = try existing(context).spec
            return TockAPI.json(Self.handler(spec))
        }
        router.put(RouterPath(Self.path + "/:topic/handlers/:id")) { request, context in
            let (old, topic) = try existing(context)
            let spec = try Self.spec(from: await TockAPI.body(request), topic: topic, prefix: "failed to unmarshal JSON")
            try update(old, to: spec)
            return TockAPI.json(Self.handler(spec))
        }
        router.patch(RouterPath(Self.path + "/:topic/handlers/:id")) { request, context in
            let (old, topic) = try existing(context)
            let ops: [JSON]
            do { ops = try JSONPatch.operations(await TockAPI.body(request)) } catch let error as JSONPatch.Failure {
                throw APIError(.badRequest, "invalid patch json: \(error)")
            }
            let patched: JSON
            do { patched = try JSONPatch.apply(ops, to: Self.stored(old, topic: true)) } catch {
                throw APIError(.badRequest, "failed to apply patch: \(error)")
            }
            let spec = try Self.spec(from: patched, topic: topic, prefix: "invalid handler json", topicMember: true)
            guard spec.topic == topic else { throw APIError(.badRequest, "failed to update handler: cannot change topic in update") }
            try update(old, to: spec)
            return TockAPI.json(Self.handler(spec))
        }
        router.delete(RouterPath(Self.path + "/:topic/handlers/:id")) { _, context in
            try remove(topic: Self.parameter(context, "topic"), id: Self.parameter(context, "id"))
            return Response(status: .noContent)
        }
    }

    // MARK: Defining

    /// Creates or replaces the handler `spec.id` of `spec.topic` (the `[load]` service's way, and the CLI's).
    func put(_ spec: TopicHandlerSpec) throws(APIError) {
        try validate(spec)
        let exists = alerting.topicRouter.spec(topic: spec.topic, id: spec.id) != nil
        try define(spec, replacing: exists ? spec.id : nil, failure: exists ? "failed to update handler" : "failed to create handler")
    }

    /// Deletes a handler from the service and the store.
    func remove(topic: String, id: String) throws(APIError) {
        guard alerting.deleteTopicHandler(topic: topic, id: id) else { return }
        do { try store?.deleteTopicHandler(topic: topic, id: id) } catch {
            throw APIError(.internalServerError, "failed to delete handler: \(error)")
        }
    }

    private func existing(_ context: BasicRequestContext) throws -> (spec: TopicHandlerSpec, topic: String) {
        let topic = try Self.parameter(context, "topic"), id = try Self.parameter(context, "id")
        guard let spec = alerting.topicRouter.spec(topic: topic, id: id) else { throw APIError(.notFound, "unknown handler: \(Self.quote(id))") }
        return (spec, topic)
    }

    private func validate(_ spec: TopicHandlerSpec) throws(APIError) {
        do { try spec.validate() } catch { throw APIError(.badRequest, "invalid handler spec: \(error)") }
    }

    private func update(_ old: TopicHandlerSpec, to spec: TopicHandlerSpec) throws(APIError) {
        try validate(spec)
        if spec.id != old.id, alerting.topicRouter.spec(topic: spec.topic, id: spec.id) != nil {
            throw APIError(.badRequest, "failed to update handler: a handler with ID \(Self.quote(spec.id)) already exists")
        }
        try define(spec, replacing: old.id, failure: "failed to update handler")
    }

    /// Starts the handler, then saves it; a handler that cannot be saved is taken back.
    private func define(_ spec: TopicHandlerSpec, replacing old: String?, failure: String) throws(APIError) {
        let previous = old.flatMap { alerting.topicRouter.spec(topic: spec.topic, id: $0) }
        do { try alerting.defineTopicHandler(spec, replacing: old) } catch { throw APIError(.badRequest, "\(failure): \(error)") }
        do {
            try store?.saveTopicHandler(StoredTopicHandler(topic: spec.topic, id: spec.id, json: Self.stored(spec).serialized), replacing: old)
        } catch {
            alerting.deleteTopicHandler(topic: spec.topic, id: spec.id)
            if let previous { try? alerting.defineTopicHandler(previous) }
            throw APIError(.internalServerError, "\(failure): \(error)")
        }
    }

    // MARK: JSON

    static func link(_ href: String, rel: String = "self") -> JSON { .object([("rel", .string(rel)), ("href", .string(href))]) }

    static func href(_ topic: String, _ rest: String...) -> String { ([path, topic] + rest).joined(separator: "/") }

    /// The request's path and query, as Go's `r.URL.String()` gives them for a server request.
    static func requestHref(_ request: Request) -> String {
        let query = request.uri.query ?? ""
        return request.uri.path + (query.isEmpty ? "" : "?" + query)
    }

    static func topic(_ t: TopicStates.TopicSummary) -> JSON {
        .object([("link", link(href(t.id))), ("id", .string(t.id)), ("level", .string(t.level.description)),
                 ("collected", .int(t.collected)), ("events-link", link(href(t.id, "events"), rel: "events")),
                 ("handlers-link", link(href(t.id, "handlers"), rel: "handlers"))])
    }

    static func event(_ e: TopicStates.EventState, topic: String) -> JSON {
        .object([("link", link(href(topic, "events", e.id))), ("id", .string(e.id)),
                 ("state", .object([("message", .string(e.message)), ("details", .string(e.details)),
                                    ("time", .string(RFC3339Nano.format(e.time))), ("duration", .string(GoDuration.format(e.duration))),
                                    ("level", .string(e.level.description))]))])
    }

    static func handler(_ h: TopicHandlerSpec) -> JSON {
        .object([("link", link(href(h.topic, "handlers", h.id)))] + (stored(h).objectValue ?? []))
    }

    /// The handler as stored (and as Kapacitor marshals a `HandlerSpec` for a patch, with `topic` when asked).
    static func stored(_ h: TopicHandlerSpec, topic: Bool = false) -> JSON {
        .object([("id", .string(h.id))] + (topic ? [("topic", .string(h.topic))] : []) + [
            ("kind", .string(h.kind)),
            ("options", .object(h.options.keys.sorted().map { ($0, ConfigJSON.json(h.options[$0]!)) })),
            ("match", .string(h.match)),
        ])
    }

    /// A handler from a request body (or a stored or patched document); the error names the member at fault.
    static func spec(from body: JSON, topic: String, prefix: String, topicMember: Bool = false) throws(APIError) -> TopicHandlerSpec {
        guard body.objectValue != nil else { throw APIError(.badRequest, "\(prefix): a handler must be a JSON object") }
        func text(_ key: String) throws(APIError) -> String {
            guard let value = body[key], value != .null else { return "" }
            guard let s = value.stringValue else { throw APIError(.badRequest, "\(prefix): \(key) must be a string") }
            return s
        }
        var options: [String: HandlerOption] = [:]
        if let given = body["options"], given != .null {
            guard let object = given.objectValue else { throw APIError(.badRequest, "\(prefix): options must be an object") }
            for (k, v) in object { if let o = ConfigJSON.option(v) { options[k] = o } }
        }
        let ownTopic = topicMember ? try text("topic") : topic
        return TopicHandlerSpec(topic: ownTopic, id: try text("id"), kind: try text("kind"), options: options, match: try text("match"))
    }

    static func level(_ text: String?) throws(APIError) -> AlertLevel {
        guard let text, !text.isEmpty else { return .ok }
        guard let level = AlertLevel.allCases.first(where: { $0.description == text }) else {
            throw APIError(.badRequest, "unknown alert level '\(text)' (OK, INFO, WARNING or CRITICAL)")
        }
        return level
    }

    static func parameter(_ context: BasicRequestContext, _ name: String) throws -> String {
        let raw = try context.parameters.require(name)
        return raw.removingPercentEncoding ?? raw
    }

    static func quote(_ s: String) -> String {
        var out = ""
        JSON.quote(s, into: &out)
        return out
    }
}
