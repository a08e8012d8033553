import ArgumentParser
import Foundation
import Yams

/// `tock define <id>`: creates or updates a task, as `kapacitor define` does.
///
/// An option left out leaves that property unchanged on an existing task. Re-defining an enabled
/// task reloads it (disable, then enable) unless `-no-reload` is given.
struct Define: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Create or update a task (Kapacitor's `define`).",
        discussion: """
            Example: tock define cpu_alert -tick cpu_alert.tick -type stream -dbrp telegraf.autogen
            Options may be spelled with one dash (as kapacitor does) or two.
            """)

    @Argument(help: "The task ID.")
    var id: String

    @Option(name: [.customLong("tick", withSingleDash: true), .customLong("tick")], help: "Path to the TICKscript.")
    var tick: String?

    @Option(name: [.customLong("type", withSingleDash: true), .customLong("type")], help: "The task type: stream or batch.")
    var type: String?

    @Option(name: [.customLong("dbrp", withSingleDash: true), .customLong("dbrp")],
            help: "A database and retention policy \"db\".\"rp\" (quotes optional); repeat for several.")
    var dbrp: [String] = []

    @Option(name: [.customLong("template", withSingleDash: true), .customLong("template")],
            help: "Create the task from this template.")
    var template: String?

    @Option(name: [.customLong("vars", withSingleDash: true), .customLong("vars")],
            help: "A JSON file of template vars: {\"name\": {\"type\": \"int\", \"value\": 1}}.")
    var vars: String?

    @Option(name: [.customLong("file", withSingleDash: true), .customLong("file")],
            help: "A JSON task definition file (template-id, dbrps, vars).")
    var file: String?

    @Flag(name: [.customLong("no-reload", withSingleDash: true), .customLong("no-reload")],
          help: "Do not reload the task even if it is enabled.")
    var noReload = false

    @OptionGroup var server: ServerOptions

    func run() async throws {
        try await server.run { client in
            var body: [String: Any] = [:]
            if let file {
                let definition = try readJSONObject(file, what: "task definition file")
                if let templateID = definition["template-id"] as? String { body["template-id"] = templateID }
                if let dbrps = definition["dbrps"] { body["dbrps"] = dbrps }
                if let vars = definition["vars"] { body["vars"] = vars }
            }
            if let tick { body["script"] = try readText(tick, what: "TICKscript") }
            if let type {
                guard type == "stream" || type == "batch" else {
                    throw ClientError("invalid task type \"\(type)\": use stream or batch", exitCode: 2)
                }
                body["type"] = type
            }
            if !dbrp.isEmpty {
                body["dbrps"] = try dbrp.map { text throws(ClientError) -> [String: String] in
                    let pair = try DBRPFlag(parsing: text)
                    return ["db": pair.database, "rp": pair.retentionPolicy]
                }
            }
            if let template { body["template-id"] = template }
            if let vars { body["vars"] = try readJSONObject(vars, what: "vars file") }

            let path = "/tasks/\(KapacitorClient.escape(id))"
            if let existing = try await client.task(id) {
                guard !body.isEmpty else { throw ClientError("nothing to change: give -tick, -type, -dbrp, -template, -vars or -file", exitCode: 2) }
                try await client.request("PATCH", path, json: body)
                if !noReload, existing["status"] as? String == "enabled" {
                    try await client.request("PATCH", path, json: ["status": "disabled"])
                    try await client.request("PATCH", path, json: ["status": "enabled"])
                }
            } else {
                guard body["script"] != nil || body["template-id"] != nil else {
                    throw ClientError("must specify either a TICKscript (-tick) or a template (-template) to create task \(id)", exitCode: 2)
                }
                body["id"] = id
                body["status"] = "disabled"
                try await client.request("POST", "/tasks", json: body)
            }
        }
    }
}

/// `tock define-template <id>`: creates or updates a task template.
struct DefineTemplate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "define-template",
        abstract: "Create or update a task template (Kapacitor's `define-template`).")

    @Argument(help: "The template ID.")
    var id: String

    @Option(name: [.customLong("tick", withSingleDash: true), .customLong("tick")], help: "Path to the TICKscript.")
    var tick: String?

    @Option(name: [.customLong("type", withSingleDash: true), .customLong("type")], help: "The template type: stream or batch.")
    var type: String?

    @OptionGroup var server: ServerOptions

    func run() async throws {
        try await server.run { client in
            var body: [String: Any] = [:]
            if let tick { body["script"] = try readText(tick, what: "TICKscript") }
            if let type {
                guard type == "stream" || type == "batch" else {
                    throw ClientError("invalid template type \"\(type)\": use stream or batch", exitCode: 2)
                }
                body["type"] = type
            }
            if try await client.template(id) != nil {
                guard !body.isEmpty else { throw ClientError("nothing to change: give -tick or -type", exitCode: 2) }
                try await client.request("PATCH", "/templates/\(KapacitorClient.escape(id))", json: body)
            } else {
                guard body["script"] != nil else { throw ClientError("must specify a TICKscript (-tick) to create template \(id)", exitCode: 2) }
                body["id"] = id
                try await client.request("POST", "/templates", json: body)
            }
        }
    }
}

/// A database and retention policy pair as `-dbrp` takes it: `db.rp`, `"db"."rp"`, quotes optional.
struct DBRPFlag: Equatable {
    var database: String
    var retentionPolicy: String

    /// Parses Kapacitor's `-dbrp` syntax; a quoted part may contain dots and `\"`.
    init(parsing text: String) throws(ClientError) {
        var rest = Substring(text)
        func part(_ rest: inout Substring, last: Bool) throws(ClientError) -> String {
            if rest.first == "\"" {
                rest.removeFirst()
                var value = ""
                while let c = rest.first {
                    rest.removeFirst()
                    if c == "\\", rest.first == "\"" { value.append("\""); rest.removeFirst(); continue }
                    if c == "\"" { return value }
                    value.append(c)
                }
                throw ClientError("invalid dbrp \(text): unterminated quote", exitCode: 2)
            }
            if last { defer { rest = "" }; return String(rest) }
            guard let dot = rest.firstIndex(of: ".") else {
                throw ClientError("invalid dbrp \(text): it must be in the form \"db\".\"rp\" where the quotes are optional", exitCode: 2)
            }
            defer { rest = rest[dot...] }
            return String(rest[..<dot])
        }
        database = try part(&rest, last: false)
        guard rest.first == "." else {
            throw ClientError("invalid dbrp \(text): it must specify a retention policy, missing or extra '.'?", exitCode: 2)
        }
        rest.removeFirst()
        retentionPolicy = try part(&rest, last: true)
        guard rest.isEmpty, !database.isEmpty, !retentionPolicy.isEmpty else {
            throw ClientError("invalid dbrp \(text): it must be in the form \"db\".\"rp\" where the quotes are optional", exitCode: 2)
        }
    }
}

func readText(_ path: String, what: String) throws(ClientError) -> String {
    do { return try String(contentsOfFile: path, encoding: .utf8) } catch {
        throw ClientError("cannot read the \(what) \(path): \(error.localizedDescription)", exitCode: 2)
    }
}

/// Reads a JSON object, or YAML (`.yaml`/`.yml`, as `kapacitor define -file` accepts), from `path`.
func readJSONObject(_ path: String, what: String) throws(ClientError) -> [String: Any] {
    let text = try readText(path, what: what)
    if path.hasSuffix(".yaml") || path.hasSuffix(".yml") {
        let value: Any?
        do { value = try Yams.load(yaml: text) } catch {
            throw ClientError("the \(what) \(path) is not valid YAML: \(error)", exitCode: 2)
        }
        guard let object = value as? [String: Any] else {
            throw ClientError("the \(what) \(path) is not a YAML mapping", exitCode: 2)
        }
        return object
    }
    guard let value = try? JSONSerialization.jsonObject(with: Data(text.utf8)), let object = value as? [String: Any] else {
        throw ClientError("the \(what) \(path) is not a JSON object", exitCode: 2)
    }
    return object
}
