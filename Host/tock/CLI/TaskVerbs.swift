import ArgumentParser
import Foundation

/// The task IDs named by `arguments`: globs expand through the server's list (matching none is not an
/// error, as in Kapacitor); plain IDs are used as given, so a missing task gets the server's error.
private func taskIDs(_ arguments: [String], client: KapacitorClient) async throws(ClientError) -> [String] {
    var ids: [String] = []
    for argument in arguments {
        if isGlob(argument) {
            ids += try await client.listTasks(pattern: argument, fields: ["id"]).compactMap { $0["id"] as? String }
        } else {
            ids.append(argument)
        }
    }
    return ids
}

private func setStatus(_ status: String, of id: String, client: KapacitorClient) async throws(ClientError) {
    try await client.request("PATCH", "/tasks/\(KapacitorClient.escape(id))", json: ["status": status])
}

/// The arguments of `enable`, `disable` and `reload`: task IDs or globs, and the server.
struct TaskSelection: ParsableArguments {
    @Argument(help: "Task IDs or globs such as *_alert.")
    var tasks: [String]

    @OptionGroup var server: ServerOptions

    func validate() throws {
        if tasks.isEmpty { throw ValidationError("Must pass at least one task ID") }
    }

    /// Runs `body` for every selected task, in order; the first failure is printed and ends the command.
    func forEach(_ body: @escaping (String, KapacitorClient) async throws(ClientError) -> Void) async throws {
        try await server.run { client in
            for id in try await taskIDs(tasks, client: client) { try await body(id, client) }
        }
    }
}

/// `tock enable <ids or globs…>`: starts tasks on live data.
struct Enable: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Enable and start tasks (IDs or globs such as *_alert).")

    @OptionGroup var selection: TaskSelection

    func run() async throws {
        try await selection.forEach { id, client throws(ClientError) in try await setStatus("enabled", of: id, client: client) }
    }
}

/// `tock disable <ids or globs…>`: stops tasks.
struct Disable: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Disable and stop tasks (IDs or globs).")

    @OptionGroup var selection: TaskSelection

    func run() async throws {
        try await selection.forEach { id, client throws(ClientError) in try await setStatus("disabled", of: id, client: client) }
    }
}

/// `tock reload <ids or globs…>`: disables then enables tasks, picking up their current definition.
struct Reload: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Disable then enable tasks (IDs or globs).")

    @OptionGroup var selection: TaskSelection

    func run() async throws {
        try await selection.forEach { id, client throws(ClientError) in
            try await setStatus("disabled", of: id, client: client)
            try await setStatus("enabled", of: id, client: client)
        }
    }
}

/// `tock delete tasks|templates <ids or globs…>`.
struct Delete: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Delete tasks, templates, recordings, replays, topics, topic handlers, silences or dead letters (IDs or globs).",
        discussion: "Topic handlers take their topic first: `tock delete topic-handlers system slack`.")

    @Argument(help: "What to delete: tasks, templates, recordings, replays, topics, topic-handlers, silences or dead-letters.")
    var kind: String

    @Argument(help: "IDs or globs.")
    var ids: [String] = []

    @OptionGroup var server: ServerOptions

    func validate() throws {
        guard ["tasks", "templates", "recordings", "replays", "topics", "topic-handlers", "silences", "dead-letters"].contains(kind) else {
            throw ValidationError("cannot delete \"\(kind)\": did you mean tasks, templates, recordings, replays, topics, topic-handlers, silences or dead-letters?")
        }
        if ids.isEmpty { throw ValidationError("Must pass at least one ID or glob") }
        if kind == "topic-handlers" && ids.count < 2 { throw ValidationError("Must pass the topic, then at least one handler ID or glob") }
    }

    func run() async throws {
        try await server.run { client in
            switch kind {
            case "topics": return try await TopicTables.deleteTopics(client, patterns: ids)
            case "topic-handlers": return try await TopicTables.deleteHandlers(client, topic: ids[0], patterns: Array(ids.dropFirst()))
            case "silences": return try await SilenceTables.delete(client, patterns: ids)
            case "dead-letters": return try await DeadLetterTables.delete(client, patterns: ids)
            default: break
            }
            for argument in ids {
                var targets = [argument]
                if isGlob(argument) {
                    let found = switch kind {
                    case "tasks": try await client.listTasks(pattern: argument, fields: ["id"])
                    case "recordings": try await client.listRecordings(pattern: argument, fields: ["id"])
                    case "replays": try await client.listReplays(pattern: argument, fields: ["id"])
                    default: try await client.listTemplates(pattern: argument, fields: ["id"])
                    }
                    targets = found.compactMap { $0["id"] as? String }
                }
                for id in targets {
                    try await client.request("DELETE", "/\(kind)/\(KapacitorClient.escape(id))")
                }
            }
        }
    }
}
