import ArgumentParser
import Foundation
import TockModel
import Yams

/// `tock define-topic-handler FILE`: creates or replaces a topic handler from a YAML or JSON spec, as
/// `kapacitor define-topic-handler` does (`cmd/kapacitor/main.go` `doDefineTopicHandler`).
struct DefineTopicHandler: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "define-topic-handler",
        abstract: "Create or update a topic handler from a YAML (.yaml, .yml) or JSON (.json) spec file.",
        discussion: """
            The file names the topic, the handler's ID, its kind, options and an optional match expression:

                topic: cpu
                id: slack
                kind: slack
                match: changed() == TRUE
                options:
                  channel: '#alerts'
            """)

    @Argument(help: "The handler spec file.")
    var path: String

    @OptionGroup var server: ServerOptions

    func run() async throws {
        let spec = try TopicHandlerSpecFile.read(path)
        try await server.run { client in
            let handler = "/alerts/topics/\(KapacitorClient.escape(spec.topic))/handlers/\(KapacitorClient.escape(spec.id))"
            let exists: Bool
            do {
                try await client.request("GET", handler)
                exists = true
            } catch let error as ClientError where error.status == 404 {
                exists = false
            }
            if exists {
                try await client.request("PUT", handler, json: spec.body)
            } else {
                try await client.request("POST", "/alerts/topics/\(KapacitorClient.escape(spec.topic))/handlers", json: spec.body)
            }
        }
    }
}

/// A topic handler spec file, read as Kapacitor's `client.TopicHandlerOptions`.
struct TopicHandlerSpecFile {
    var topic: String
    var id: String
    /// What the API takes: `id`, `kind`, `options`, `match`.
    var body: [String: Any]

    static func read(_ path: String) throws(ClientError) -> TopicHandlerSpecFile {
        let ext = (path as NSString).pathExtension.lowercased()
        guard ["yaml", "yml", "json"].contains(ext) else {
            throw ClientError("handler spec file \"\(path)\": the name must end in .yaml, .yml or .json, which tells its format")
        }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ClientError("failed to open handler spec file \"\(path)\"")
        }
        let root: Any
        if ext == "json" {
            do { root = try JSONSerialization.jsonObject(with: data) } catch {
                throw ClientError("failed to unmarshal json handler file \"\(path)\": \(error.localizedDescription)")
            }
        } else {
            do {
                guard let node = try Yams.compose(yaml: String(decoding: data, as: UTF8.self)) else {
                    throw ClientError("handler spec file \"\(path)\" is empty")
                }
                root = plain(node)
            } catch let error as ClientError {
                throw error
            } catch {
                throw ClientError("failed to unmarshal yaml handler file \"\(path)\": \(error)")
            }
        }
        guard let object = root as? [String: Any] else {
            throw ClientError("handler spec file \"\(path)\": expected a mapping with topic, id, kind, options and match")
        }
        let known: Set<String> = ["topic", "id", "kind", "options", "match"]
        if let unknown = object.keys.sorted().first(where: { !known.contains($0) }) {
            throw ClientError("handler spec file \"\(path)\": unknown key \"\(unknown)\" (a spec has topic, id, kind, options and match)")
        }
        func text(_ key: String) throws(ClientError) -> String {
            guard let value = object[key] else { return "" }
            guard let s = value as? String else { throw ClientError("handler spec file \"\(path)\": \(key) must be a string") }
            return s
        }
        let topic = try text("topic"), id = try text("id"), kind = try text("kind"), match = try text("match")
        for (key, value) in [("topic", topic), ("id", id), ("kind", kind)] where value.isEmpty {
            throw ClientError("handler spec file \"\(path)\": \(key) is required")
        }
        let options = object["options"] ?? [String: Any]()
        guard options is [String: Any] else { throw ClientError("handler spec file \"\(path)\": options must be a mapping") }
        return TopicHandlerSpecFile(topic: topic, id: id, body: ["id": id, "kind": kind, "options": options, "match": match])
    }

    /// A YAML node as JSON-compatible values, scalars typed by YAML's core schema (timestamps stay strings).
    private static func plain(_ node: Node) -> Any {
        switch node {
        case .mapping(let mapping):
            var out: [String: Any] = [:]
            for (key, value) in mapping { out[key.string ?? "\(key)"] = plain(value) }
            return out
        case .sequence(let sequence):
            return sequence.map(plain)
        case .scalar(let scalar):
            if scalar.style == .singleQuoted || scalar.style == .doubleQuoted { return scalar.string }
            if node.null != nil { return NSNull() }
            if let bool = node.bool { return bool }
            if let int = node.int { return int }
            if let float = node.float { return float }
            return scalar.string
        case .alias:
            return node.any
        }
    }
}

/// `tock show-topic TOPIC`: the topic's level, collected count, handlers and events, in Kapacitor's layout.
struct ShowTopic: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "show-topic", abstract: "Show a topic: its level, handlers and events.")

    @Argument(help: "The topic ID.")
    var topic: String

    @OptionGroup var server: ServerOptions

    func run() async throws {
        try await server.run { client in
            let base = "/alerts/topics/\(KapacitorClient.escape(topic))"
            let summary = try await client.request("GET", base).object()
            let events = try await client.request("GET", base + "/events").object()["events"] as? [[String: Any]] ?? []
            let handlers = try await client.request("GET", base + "/handlers").object()["handlers"] as? [[String: Any]] ?? []
            print(TopicTables.topic(summary, events: events, handlers: handlers), terminator: "")
            // Tock's silences, after Kapacitor's layout, only when some apply to the topic.
            let silences = try await SilenceTables.silences(client, topic: topic)
            if !silences.isEmpty { print("Silences:\n" + SilenceTables.table(silences), terminator: "") }
        }
    }
}

/// `tock show-topic-handler TOPIC HANDLER`.
struct ShowTopicHandler: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "show-topic-handler", abstract: "Show a topic handler: kind, match and options.")

    @Argument(help: "The topic ID.")
    var topic: String

    @Argument(help: "The handler ID.")
    var handler: String

    @OptionGroup var server: ServerOptions

    func run() async throws {
        try await server.run { client in
            let path = "/alerts/topics/\(KapacitorClient.escape(topic))/handlers/\(KapacitorClient.escape(handler))"
            print(TopicTables.handler(try await client.request("GET", path).object(), topic: topic), terminator: "")
        }
    }
}

/// The topic requests and tables of `tock list|delete topics|topic-handlers` and `show-topic`.
enum TopicTables {
    /// The topics matching `pattern` (all for ""), as the server orders them.
    static func topics(_ client: KapacitorClient, pattern: String) async throws(ClientError) -> [[String: Any]] {
        let reply = try await client.request("GET", "/alerts/topics", query: pattern.isEmpty ? [] : [("pattern", pattern)])
        return try reply.object()["topics"] as? [[String: Any]] ?? []
    }

    /// The handlers of `topic` matching `pattern`.
    static func handlers(_ client: KapacitorClient, topic: String, pattern: String) async throws(ClientError) -> [[String: Any]] {
        let reply = try await client.request("GET", "/alerts/topics/\(KapacitorClient.escape(topic))/handlers",
                                             query: pattern.isEmpty ? [] : [("pattern", pattern)])
        return try reply.object()["handlers"] as? [[String: Any]] ?? []
    }

    /// `tock list topics [patterns…]`: ID, Level, Collected (`%-Nv%-Mv%10v`).
    static func listTopics(_ client: KapacitorClient, patterns: [String]) async throws(ClientError) -> String {
        var rows: [[String: Any]] = []
        for pattern in patterns.isEmpty ? [""] : patterns { rows += try await topics(client, pattern: pattern) }
        let idWidth = rows.map { Table.text($0["id"]).count }.reduce(2, max) + 1
        let levelWidth = rows.map { Table.text($0["level"]).count }.reduce(8, max) + 1
        func line(_ a: String, _ b: String, _ c: String) -> String {
            Table.pad(a, idWidth) + Table.pad(b, levelWidth) + String(repeating: " ", count: max(0, 10 - c.count)) + c + "\n"
        }
        return line("ID", "Level", "Collected") + rows.map { line(Table.text($0["id"]), Table.text($0["level"]), Table.text($0["collected"])) }.joined()
    }

    /// `tock list topic-handlers [topic pattern] [handler patterns…]`: Topic, ID, Kind.
    static func listHandlers(_ client: KapacitorClient, patterns: [String]) async throws(ClientError) -> String {
        let topicPattern = patterns.first ?? ""
        let handlerPatterns = patterns.count > 1 ? Array(patterns.dropFirst()) : [""]
        var rows: [(String, String, String)] = []
        for topic in try await topics(client, pattern: topicPattern) {
            let id = Table.text(topic["id"])
            for pattern in handlerPatterns {
                for h in try await handlers(client, topic: id, pattern: pattern) { rows.append((id, Table.text(h["id"]), Table.text(h["kind"]))) }
            }
        }
        let widths = (rows.map(\.0.count).reduce(10, max) + 1, rows.map(\.1.count).reduce(10, max) + 1, rows.map(\.2.count).reduce(10, max) + 1)
        func line(_ a: String, _ b: String, _ c: String) -> String { Table.pad(a, widths.0) + Table.pad(b, widths.1) + Table.pad(c, widths.2) + "\n" }
        return line("Topic", "ID", "Kind") + rows.map { line($0.0, $0.1, $0.2) }.joined()
    }

    /// `show-topic`'s layout: the summary, then the events by time (`%-Ns%-9s%-Ms%-23s`).
    static func topic(_ summary: [String: Any], events: [[String: Any]], handlers: [[String: Any]]) -> String {
        func state(_ e: [String: Any]) -> [String: Any] { e["state"] as? [String: Any] ?? [:] }
        let sorted = events.enumerated().sorted { a, b in
            let (ta, tb) = (Table.text(state(a.element)["time"]), Table.text(state(b.element)["time"]))
            return ta == tb ? a.offset < b.offset : ta < tb
        }.map(\.element)
        let eventWidth = events.map { Table.text($0["id"]).count }.reduce(5, max) + 1
        let messageWidth = events.map { Table.text(state($0)["message"]).count }.reduce(7, max) + 1
        func line(_ a: String, _ b: String, _ c: String, _ d: String) -> String {
            Table.pad(a, eventWidth) + Table.pad(b, 9) + Table.pad(c, messageWidth) + Table.pad(d, 23) + "\n"
        }
        var out = "ID: \(Table.text(summary["id"]))\nLevel: \(Table.text(summary["level"]))\nCollected: \(Table.text(summary["collected"]))\n"
        out += "Handlers: [\(handlers.map { Table.text($0["id"]) }.joined(separator: ", "))]\nEvents:\n"
        out += line("Event", "Level", "Message", "Date")
        for e in sorted {
            let s = state(e)
            out += line(Table.text(e["id"]), Table.text(s["level"]), Table.text(s["message"]), Table.rfc822(s["time"]))
        }
        return out
    }

    /// `show-topic-handler`'s layout; options as Go's `json.Marshal` prints a map (sorted keys, `<>&` escaped).
    static func handler(_ h: [String: Any], topic: String) -> String {
        "ID: \(Table.text(h["id"]))\nTopic: \(topic)\nKind: \(Table.text(h["kind"]))\nMatch: \(Table.text(h["match"]))\nOptions: \(goJSON(h["options"] ?? [String: Any]()))\n"
    }

    static func goJSON(_ value: Any) -> String {
        guard let data = try? JSONSerialization.data(withJSONObject: value, options: [.sortedKeys, .withoutEscapingSlashes, .fragmentsAllowed]) else {
            return "null"
        }
        return String(decoding: data, as: UTF8.self)
            .replacingOccurrences(of: "<", with: "\\u003c").replacingOccurrences(of: ">", with: "\\u003e")
            .replacingOccurrences(of: "&", with: "\\u0026")
    }

    /// `tock delete topics PATTERN…`: every topic matching each pattern.
    static func deleteTopics(_ client: KapacitorClient, patterns: [String]) async throws(ClientError) {
        for pattern in patterns {
            for topic in try await topics(client, pattern: pattern) {
                try await client.request("DELETE", "/alerts/topics/\(KapacitorClient.escape(Table.text(topic["id"])))")
            }
        }
    }

    /// `tock delete topic-handlers TOPIC PATTERN…`.
    static func deleteHandlers(_ client: KapacitorClient, topic: String, patterns: [String]) async throws(ClientError) {
        for pattern in patterns {
            for h in try await handlers(client, topic: topic, pattern: pattern) {
                try await client.request("DELETE", "/alerts/topics/\(KapacitorClient.escape(topic))/handlers/\(KapacitorClient.escape(Table.text(h["id"])))")
            }
        }
    }
}
