import Alerting
import ArgumentParser
import Foundation
import TockModel

/// `tock replay-dead-letters`: sends given-up events again (Tock's own verb; Kapacitor has no dead letters).
struct ReplayDeadLetters: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "replay-dead-letters",
        abstract: "Send dead letters again through their handlers; each one queued is removed (a new failure makes a new one).",
        discussion: """
            Example: tock replay-dead-letters 12 13    or    tock replay-dead-letters -all    or    tock replay-dead-letters -task 'cpu*'
            A letter whose alert node still runs goes through that handler's queue (and rate limit); otherwise its handler
            is built again from the stored kind and options. One that cannot be is kept, and the reason printed.
            `tock list dead-letters` shows their IDs.
            """)

    @Argument(help: "Dead letter IDs.")
    var ids: [String] = []

    @Flag(name: [.customLong("all", withSingleDash: true), .customLong("all")], help: "Replay every dead letter.")
    var all = false

    @Option(name: [.customLong("task", withSingleDash: true), .customLong("task")], help: "Only the letters of tasks matching this glob.")
    var task: String?

    @OptionGroup var server: ServerOptions

    func validate() throws {
        if ids.isEmpty && !all && task == nil { throw ValidationError("give dead letter IDs, -task GLOB or -all") }
        if all && !ids.isEmpty { throw ValidationError("give dead letter IDs or -all, not both") }
        for id in ids where Int64(id) == nil { throw ValidationError("\"\(id)\" is not a dead letter ID (a number; see tock list dead-letters)") }
    }

    func run() async throws {
        var body: [String: Any] = [:]
        if all { body["all"] = true }
        if !ids.isEmpty { body["ids"] = ids.compactMap { Int64($0) } }
        if let task { body["task"] = task }
        var refusedAny = false
        try await server.run { client in
            let reply = try await client.request("POST", "/alerts/dead-letters/replay", json: body).object()
            let replayed = reply["replayed"] as? [[String: Any]] ?? []
            let refused = reply["refused"] as? [[String: Any]] ?? []
            for r in replayed {
                let how = (r["running"] as? Bool) == true ? "queued on its running handler" : "sent through a rebuilt handler"
                print("\(Table.text(r["id"])): \(how) (\(Table.text(r["handler"])))")
            }
            for r in refused {
                FileHandle.standardError.write(Data("\(Table.text(r["id"])): not replayed: \(Table.text(r["error"]))\n".utf8))
            }
            if replayed.isEmpty && refused.isEmpty { print("no dead letters matched") }
            refusedAny = !refused.isEmpty
        }
        if refusedAny { throw ExitCode(3) }
    }
}

/// `tock list dead-letters` and `tock delete dead-letters`: IDs select letters, globs select them by task.
enum DeadLetterTables {
    /// One line per letter, oldest first: ID, Time, Task, Node, Handler, Reason, Attempts, Event, then the detail.
    static func list(_ client: KapacitorClient, patterns: [String]) async throws(ClientError) -> String {
        let reply = try await client.request("GET", "/alerts/dead-letters").object()
        let all = reply["deadLetters"] as? [[String: Any]] ?? []
        let rows = patterns.isEmpty ? all : all.filter { letter in
            patterns.contains { p in Int64(p) != nil ? Table.text(letter["id"]) == p : Glob.matches(p, Table.text(letter["task"])) }
        }
        return table(rows)
    }

    static func table(_ rows: [[String: Any]]) -> String {
        let columns: [(String, ([String: Any]) -> String)] = [
            ("ID", { Table.text($0["id"]) }),
            ("Time", { Table.rfc822($0["time"]) }),
            ("Task", { Table.text($0["task"]) }),
            ("Node", { Table.text($0["node"]) }),
            ("Handler", { Table.text($0["handler"]) }),
            ("Reason", { Table.text($0["reason"]) }),
            ("Attempts", { Table.text($0["attempts"]) }),
            ("Event", { Table.text(($0["event"] as? [String: Any])?["id"]) + " " + Table.text(($0["event"] as? [String: Any])?["level"]) }),
        ]
        let widths = columns.map { c in rows.map { c.1($0).count }.reduce(c.0.count, max) + 1 }
        func line(_ cells: [String], _ detail: String) -> String {
            zip(cells, widths).map { Table.pad($0, $1) }.joined() + detail + "\n"
        }
        return line(columns.map(\.0), "Detail") + rows.map { row in line(columns.map { $0.1(row) }, Table.text(row["detail"])) }.joined()
    }

    static func delete(_ client: KapacitorClient, patterns: [String]) async throws(ClientError) {
        for pattern in patterns {
            if let id = Int64(pattern) {
                try await client.request("DELETE", "/alerts/dead-letters/\(id)")
            } else {
                try await client.request("DELETE", "/alerts/dead-letters", query: [("task", pattern)])
            }
        }
    }
}
