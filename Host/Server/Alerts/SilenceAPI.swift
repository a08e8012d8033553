import Alerting
import Engine
import Foundation
import Hummingbird
import Logging
import Storage
import TockModel

/// `/kapacitor/v1/alerts/silences`: Tock's silences (Kapacitor has none), with Kapacitor's API conventions.
///
/// `POST` takes `{"id"?, "topic"?, "event"?, "tags"?, "start"?, "end" | "duration", "comment"?}` (times RFC 3339,
/// `duration` a Go duration from `start`, which defaults to now) and answers the silence; `GET` lists those not yet
/// ended (`?topic=ID` keeps those whose topic pattern matches that topic); `GET/DELETE /alerts/silences/ID`.
struct SilenceAPI: Sendable {
    static let path = TaskAPI.base + "/alerts/silences"
    let silences: Silences

    func register(on router: Router<BasicRequestContext>) {
        router.get(RouterPath(Self.path)) { request, _ in
            let topic = request.uri.queryParameters.get("topic")
            let listed = silences.list().filter { s in topic.map { s.applies(toTopic: $0) } ?? true }
            return TockAPI.json(.object([("link", Self.link(Self.path)), ("silences", .array(listed.map(json)))]))
        }
        router.post(RouterPath(Self.path)) { request, _ in
            let silence = try Self.silence(from: await TockAPI.body(request), now: silences.now)
            do { try silences.add(silence) } catch { throw APIError(.badRequest, "\(error)") }
            return TockAPI.json(json(silence))
        }
        router.get(RouterPath(Self.path + "/:id")) { _, context in
            let id = try context.parameters.require("id")
            guard let silence = silences.silence(id) else { throw APIError(.notFound, "silence \(id) does not exist") }
            return TockAPI.json(json(silence))
        }
        router.delete(RouterPath(Self.path + "/:id")) { _, context in
            let id = try context.parameters.require("id")
            guard silences.remove(id) else { throw APIError(.notFound, "silence \(id) does not exist") }
            return Response(status: .noContent)
        }
    }

    /// Loads the stored silences into `silences` and saves every later change to `store`.
    static func restore(_ silences: Silences, from store: Store, log: Logger) throws {
        var restored: [Silence] = []
        for stored in try store.silences() {
            guard let json = try? JSON.parse(Array(stored.json.utf8)), let silence = try? silence(stored: json, id: stored.id) else {
                log.warning("skipping a stored silence that cannot be read", metadata: ["silence": .string(stored.id)])
                continue
            }
            restored.append(silence)
        }
        silences.restore(restored) { all in
            do {
                try store.replaceSilences(with: all.map { StoredSilence(id: $0.id, json: Self.stored($0).serialized) })
            } catch {
                log.error("failed to save silences", metadata: ["err": "\(error)"])
            }
        }
    }

    func json(_ s: Silence) -> JSON {
        .object([
            ("link", Self.link(Self.path + "/" + s.id)),
            ("id", .string(s.id)),
            ("topic", .string(s.topic)),
            ("event", .string(s.event)),
            ("tags", .object(s.tags.sorted { $0.key < $1.key }.map { ($0.key, .string($0.value)) })),
            ("start", .string(rfc3339Nano(s.start))),
            ("end", .string(rfc3339Nano(s.end))),
            ("comment", .string(s.comment)),
            ("created", .string(rfc3339Nano(s.created))),
            ("active", .bool(s.isActive(at: silences.now))),
        ])
    }

    static func link(_ href: String) -> JSON { .object([("rel", .string("self")), ("href", .string(href))]) }

    /// A silence from the API's body; the error names the member at fault.
    static func silence(from body: JSON, now: Int64) throws(APIError) -> Silence {
        guard let members = body.objectValue else { throw APIError(.badRequest, "a silence must be a JSON object") }
        let known: Set<String> = ["id", "topic", "event", "tags", "start", "end", "duration", "comment"]
        if let unknown = members.map(\.0).first(where: { !known.contains($0) }) {
            throw APIError(.badRequest, "unknown silence member \"\(unknown)\" (a silence has id, topic, event, tags, start, end or duration, comment)")
        }
        func text(_ key: String) throws(APIError) -> String? {
            guard let value = body[key], value != .null else { return nil }
            guard let s = value.stringValue else { throw APIError(.badRequest, "silence \(key) must be a string") }
            return s
        }
        func time(_ key: String) throws(APIError) -> Int64? {
            guard let s = try text(key) else { return nil }
            guard let t = RFC3339Nano.parse(s) else { throw APIError(.badRequest, "silence \(key) \"\(s)\" is not an RFC 3339 time") }
            return t
        }
        let id = try text("id") ?? Self.newID()
        guard !id.isEmpty, id.allSatisfy({ $0.isLetter || $0.isNumber || "-_.".contains($0) }) else {
            throw APIError(.badRequest, "silence id \"\(id)\" may hold only letters, digits, '-', '_' and '.'")
        }
        var tags: [String: String] = [:]
        if let given = body["tags"], given != .null {
            guard let object = given.objectValue else { throw APIError(.badRequest, "silence tags must be an object of strings") }
            for (k, v) in object {
                guard let s = v.stringValue else { throw APIError(.badRequest, "silence tag \(k) must be a string") }
                tags[k] = s
            }
        }
        let start = try time("start") ?? now
        let end: Int64
        switch (try time("end"), try text("duration")) {
        case (let e?, nil): end = e
        case (nil, let d?):
            guard let ns = GoDuration.parse(d, days: true), ns > 0 else {
                throw APIError(.badRequest, "silence duration \"\(d)\" is not a positive duration")
            }
            end = start + ns
        case (nil, nil): throw APIError(.badRequest, "a silence needs an end or a duration")
        default: throw APIError(.badRequest, "a silence takes an end or a duration, not both")
        }
        return Silence(id: id, topic: try text("topic") ?? "", event: try text("event") ?? "", tags: tags,
                       start: start, end: end, comment: try text("comment") ?? "", created: now)
    }

    /// The stored form: the API's members, times in nanoseconds.
    static func stored(_ s: Silence) -> JSON {
        .object([("topic", .string(s.topic)), ("event", .string(s.event)),
                 ("tags", .object(s.tags.sorted { $0.key < $1.key }.map { ($0.key, .string($0.value)) })),
                 ("start", .int(s.start)), ("end", .int(s.end)), ("comment", .string(s.comment)), ("created", .int(s.created))])
    }

    static func silence(stored json: JSON, id: String) throws -> Silence {
        guard let start = json["start"]?.int64Value, let end = json["end"]?.int64Value else { throw APIError(.badRequest, "bad stored silence") }
        var tags: [String: String] = [:]
        for (k, v) in json["tags"]?.objectValue ?? [] { tags[k] = v.stringValue ?? "" }
        return Silence(id: id, topic: json["topic"]?.stringValue ?? "", event: json["event"]?.stringValue ?? "", tags: tags,
                       start: start, end: end, comment: json["comment"]?.stringValue ?? "",
                       created: json["created"]?.int64Value ?? start)
    }

    static func newID() -> String {
        (0..<4).map { _ in String(format: "%02x", UInt8.random(in: 0...255)) }.joined()
    }
}
