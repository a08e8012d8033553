import Alerting
import ArgumentParser
import Foundation
import TockModel

/// `tock define-silence`: silences matching alerts for a while (Tock's own verb; Kapacitor has no silences).
struct DefineSilence: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "define-silence",
        abstract: "Silence matching alerts for a while: they are still recorded in their topics but sent to no handler.",
        discussion: """
            Example: tock define-silence -topic cpu -tag host=db1 -duration 2h -comment "disk swap"
            Prints the silence's ID. `tock list silences` lists them, `tock delete silences ID` ends one early.
            Options may be spelled with one dash (as kapacitor's) or two.
            """)

    @Option(name: [.customLong("id", withSingleDash: true), .customLong("id")], help: "The silence's ID (default: a random one); an existing ID is replaced.")
    var id: String?

    @Option(name: [.customLong("topic", withSingleDash: true), .customLong("topic")], help: "A topic ID or glob (default: every topic).")
    var topic: String?

    @Option(name: [.customLong("event", withSingleDash: true), .customLong("event")], help: "An alert ID or glob (default: every event).")
    var event: String?

    @Option(name: [.customLong("tag", withSingleDash: true), .customLong("tag")], help: "KEY=VALUE the event's tags must hold; repeat for several.")
    var tag: [String] = []

    @Option(name: [.customLong("start", withSingleDash: true), .customLong("start")], help: "When it starts (RFC 3339; default now).")
    var start: String?

    @Option(name: [.customLong("end", withSingleDash: true), .customLong("end")], help: "When it ends (RFC 3339).")
    var end: String?

    @Option(name: [.customLong("duration", withSingleDash: true), .customLong("duration")], help: "How long it lasts from its start (2h, 30m, 1d).")
    var duration: String?

    @Option(name: [.customLong("comment", withSingleDash: true), .customLong("comment")], help: "Why (shown by list silences and show-topic).")
    var comment: String?

    @OptionGroup var server: ServerOptions

    func validate() throws {
        if (end == nil) == (duration == nil) { throw ValidationError("give exactly one of -end or -duration") }
        for t in tag where !t.contains("=") { throw ValidationError("-tag \(t): expected KEY=VALUE") }
    }

    func run() async throws {
        var body: [String: Any] = [:]
        for (key, value) in [("id", id), ("topic", topic), ("event", event), ("start", start), ("end", end),
                             ("duration", duration), ("comment", comment)] {
            if let value { body[key] = value }
        }
        if !tag.isEmpty {
            var tags: [String: String] = [:]
            for t in tag {
                let parts = t.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
                tags[String(parts[0])] = String(parts[1])
            }
            body["tags"] = tags
        }
        try await server.run { client in
            let silence = try await client.request("POST", "/alerts/silences", json: body).object()
            print(Table.text(silence["id"]))
        }
    }
}

/// `tock list silences` and `tock delete silences`.
enum SilenceTables {
    static func silences(_ client: KapacitorClient, topic: String? = nil) async throws(ClientError) -> [[String: Any]] {
        let reply = try await client.request("GET", "/alerts/silences", query: topic.map { [("topic", $0)] } ?? [])
        return try reply.object()["silences"] as? [[String: Any]] ?? []
    }

    /// One line per silence not yet ended: ID, Topic, Event, Tags, Start, End, Comment.
    static func list(_ client: KapacitorClient, patterns: [String]) async throws(ClientError) -> String {
        let all = try await silences(client)
        let rows = patterns.isEmpty ? all : all.filter { s in patterns.contains { Glob.matches($0, Table.text(s["id"])) } }
        return table(rows)
    }

    static func table(_ rows: [[String: Any]]) -> String {
        func tags(_ s: [String: Any]) -> String {
            let t = s["tags"] as? [String: Any] ?? [:]
            return t.keys.sorted().map { "\($0)=\(Table.text(t[$0]))" }.joined(separator: ",")
        }
        let columns: [(String, ([String: Any]) -> String)] = [
            ("ID", { Table.text($0["id"]) }),
            ("Topic", { Table.text($0["topic"]).isEmpty ? "*" : Table.text($0["topic"]) }),
            ("Event", { Table.text($0["event"]).isEmpty ? "*" : Table.text($0["event"]) }),
            ("Tags", tags),
            ("Start", { Table.rfc822($0["start"]) }),
            ("End", { Table.rfc822($0["end"]) }),
        ]
        let widths = columns.map { c in rows.map { c.1($0).count }.reduce(c.0.count, max) + 1 }
        func line(_ cells: [String], _ comment: String) -> String {
            zip(cells, widths).map { Table.pad($0, $1) }.joined() + comment + "\n"
        }
        return line(columns.map(\.0), "Comment") + rows.map { row in line(columns.map { $0.1(row) }, Table.text(row["comment"])) }.joined()
    }

    static func delete(_ client: KapacitorClient, patterns: [String]) async throws(ClientError) {
        let all = try await silences(client).map { Table.text($0["id"]) }
        for pattern in patterns {
            let targets = isGlob(pattern) ? all.filter { Glob.matches(pattern, $0) } : [pattern]
            for id in targets { try await client.request("DELETE", "/alerts/silences/\(KapacitorClient.escape(id))") }
        }
    }
}
