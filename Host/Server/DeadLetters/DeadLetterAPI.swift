import Alerting
import Engine
import Foundation
import Hummingbird
import Logging
import TockModel

/// `/kapacitor/v1/alerts/dead-letters`: the events handlers gave up (a Tock extension; Kapacitor has none).
///
/// - `GET` lists them, oldest first, filtered by the query's `task`, `node`, `topic`, `handler`, `kind` (globs) and
///   `reason`; `limit` keeps the newest that many. The answer also holds the counts since the daemon started.
/// - `GET/DELETE …/dead-letters/ID`: one letter.
/// - `DELETE …/dead-letters` with at least one filter (or `all=true`) deletes what matches: `{"deleted":[IDs]}`.
/// - `POST …/dead-letters/replay` with `{"ids":[…]}`, `{"all":true}` or filters (`{"task":"cpu*"}`) sends the events
///   again through their handlers (``AlertingService/replay(_:log:)``): `{"replayed":[{id, handler, running}],
///   "refused":[{id, error}]}`.
struct DeadLetterAPI: Sendable {
    static let path = TaskAPI.base + "/alerts/dead-letters"
    static let filterKeys = ["task", "node", "topic", "handler", "kind", "reason"]
    let alerting: AlertingService
    let log: Logger

    func register(on router: Router<BasicRequestContext>) {
        let office = alerting.deadLetters
        router.get(RouterPath(Self.path)) { request, _ in
            var pairs: [(String, String)] = []
            for (k, v) in request.uri.queryParameters { pairs.append((String(k), String(v))) }
            var letters = try Self.read { () throws in try office.letters(matching: try Self.filter(pairs, extra: ["limit"])) }
            if let limit = pairs.first(where: { $0.0 == "limit" })?.1 {
                guard let n = Int(limit), n >= 0 else { throw APIError(.badRequest, "limit must be a whole number, got \"\(limit)\"") }
                letters = Array(letters.suffix(n))
            }
            let counts = office.counts
            return TockAPI.json(.object([
                ("link", .object([("rel", .string("self")), ("href", .string(Self.path))])),
                ("deadLetters", .array(letters.map { DeadLetterJSON.api($0, link: Self.path + "/\($0.id)") })),
                ("counts", .object(DeadLetter.Reason.allCases.map { ($0.rawValue, .int(Int64(counts.recorded[$0] ?? 0))) }
                    + [("pruned", .int(Int64(counts.pruned))), ("lost", .int(Int64(counts.lost))), ("max", .int(Int64(office.limit)))])),
            ]))
        }
        router.get(RouterPath(Self.path + "/:id")) { _, context in
            let letter = try Self.one(try context.parameters.require("id"), in: office)
            return TockAPI.json(DeadLetterJSON.api(letter, link: Self.path + "/\(letter.id)"))
        }
        router.delete(RouterPath(Self.path + "/:id")) { _, context in
            let letter = try Self.one(try context.parameters.require("id"), in: office)
            _ = try Self.read { () throws in try office.remove(matching: DeadLetterFilter(ids: [letter.id])) }
            return Response(status: .noContent)
        }
        router.delete(RouterPath(Self.path)) { request, _ in
            var pairs: [(String, String)] = []
            for (k, v) in request.uri.queryParameters { pairs.append((String(k), String(v))) }
            let all = pairs.contains { $0.0 == "all" && $0.1 == "true" }
            guard all || pairs.contains(where: { Self.filterKeys.contains($0.0) || $0.0 == "id" }) else {
                throw APIError(.badRequest, "say which dead letters to delete: give a filter (\(Self.filterKeys.joined(separator: ", ")), id) or all=true")
            }
            let filter = try Self.filter(pairs.filter { $0.0 != "all" }, extra: [])
            let gone = try Self.read { () throws in try office.remove(matching: filter) }
            return TockAPI.json(.object([("deleted", .array(gone.map { .int($0) }))]))
        }
        router.post(RouterPath(Self.path + "/replay")) { request, _ in
            let body = try await TockAPI.body(request)
            guard let members = body.objectValue else { throw APIError(.badRequest, "the replay request must be a JSON object") }
            var pairs: [(String, String)] = []
            var all = false
            for (key, value) in members {
                switch key {
                case "all":
                    guard let b = value.boolValue else { throw APIError(.badRequest, "all must be true or false") }
                    all = b
                case "ids":
                    guard let ids = value.arrayValue else { throw APIError(.badRequest, "ids must be a list of dead letter IDs") }
                    for id in ids {
                        guard let n = id.int64Value else { throw APIError(.badRequest, "ids: \(id.serialized) is not a dead letter ID") }
                        pairs.append(("id", String(n)))
                    }
                default:
                    guard let s = value.stringValue else { throw APIError(.badRequest, "\(key) must be a string") }
                    pairs.append((key, s))
                }
            }
            guard all || !pairs.isEmpty else {
                throw APIError(.badRequest, "say which dead letters to replay: ids, a filter (\(Self.filterKeys.joined(separator: ", "))) or \"all\": true")
            }
            let letters = try Self.read { () throws in try office.letters(matching: try Self.filter(pairs, extra: [])) }
            var replayed: [JSON] = [], refused: [JSON] = []
            let log = self.log
            for letter in letters {
                do {
                    let (handler, running) = try alerting.replay(
                        letter, logger: log.with("task", letter.origin.task).with("node", letter.origin.node))
                    replayed.append(.object([("id", .int(letter.id)), ("handler", .string(handler)), ("running", .bool(running))]))
                } catch {
                    refused.append(.object([("id", .int(letter.id)), ("error", .string((error as? ReplayRefusal)?.reason ?? "\(error)"))]))
                }
            }
            return TockAPI.json(.object([("replayed", .array(replayed)), ("refused", .array(refused))]))
        }
    }

    /// The letter `text` names, or why there is none (400 for a bad ID, 404 for an unknown one).
    static func one(_ text: String, in office: DeadLetterOffice) throws -> DeadLetter {
        guard let id = Int64(text) else { throw APIError(.badRequest, "\"\(text)\" is not a dead letter ID (a number)") }
        guard let letter = try read({ () throws in try office.letters(matching: DeadLetterFilter(ids: [id])) }).first else {
            throw APIError(.notFound, "dead letter \(id) does not exist")
        }
        return letter
    }

    /// The filter of query or body pairs; unknown keys and bad values are refused by name.
    static func filter(_ pairs: [(String, String)], extra: Set<String>) throws(APIError) -> DeadLetterFilter {
        var f = DeadLetterFilter()
        for (key, value) in pairs {
            switch key {
            case "task": f.task = value
            case "node": f.node = value
            case "topic": f.topic = value
            case "handler": f.handler = value
            case "kind": f.kind = value
            case "reason":
                guard let r = DeadLetter.Reason(rawValue: value) else {
                    throw APIError(.badRequest, "reason \"\(value)\" is not one of \(DeadLetter.Reason.allCases.map(\.rawValue).joined(separator: ", "))")
                }
                f.reason = r
            case "id":
                guard let id = Int64(value) else { throw APIError(.badRequest, "id \"\(value)\" is not a dead letter ID (a number)") }
                f.ids = (f.ids ?? []).union([id])
            default:
                guard extra.contains(key) else {
                    throw APIError(.badRequest, "unknown dead letter filter \"\(key)\" (known: \((filterKeys + ["id"] + extra.sorted()).joined(separator: ", ")))")
                }
            }
        }
        return f
    }

    /// Runs a read or delete of the archive; its failure is the server's (500), with the store's words.
    static func read<T>(_ body: () throws -> T) throws -> T {
        do { return try body() } catch let e as APIError { throw e } catch {
            throw APIError(.internalServerError, "dead letters: \(error)")
        }
    }
}
