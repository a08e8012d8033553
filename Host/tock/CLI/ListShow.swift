import ArgumentParser
import Foundation
import TICKScript

/// `tock list tasks|templates [globs…]`: Kapacitor's tables.
struct List: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "List tasks, templates, recordings, replays, topics, topic-handlers, silences, dead-letters or service-tests, optionally only those matching IDs or globs.",
        discussion: "Topic handlers take the topic (or a pattern of topics) first: `tock list topic-handlers system email*`.")

    @Argument(help: "What to list: tasks, templates, recordings, replays, topics, topic-handlers, silences, dead-letters or service-tests.")
    var kind: String

    @Argument(help: "IDs or globs (default: all).")
    var patterns: [String] = []

    @OptionGroup var server: ServerOptions

    func validate() throws {
        guard ["tasks", "templates", "recordings", "replays", "topics", "topic-handlers", "silences", "dead-letters", "service-tests"].contains(kind) else {
            throw ValidationError("cannot list \"\(kind)\": did you mean tasks, templates, recordings, replays, topics, topic-handlers, silences, dead-letters or service-tests?")
        }
    }

    func run() async throws {
        try await server.run { client in
            switch kind {
            case "service-tests": return print(try await ServiceTestVerbs.list(client, patterns: patterns), terminator: "")
            case "topics": return print(try await TopicTables.listTopics(client, patterns: patterns), terminator: "")
            case "topic-handlers": return print(try await TopicTables.listHandlers(client, patterns: patterns), terminator: "")
            case "silences": return print(try await SilenceTables.list(client, patterns: patterns), terminator: "")
            case "dead-letters": return print(try await DeadLetterTables.list(client, patterns: patterns), terminator: "")
            default: break
            }
            var seen: Set<String> = []
            var rows: [[String: Any]] = []
            for pattern in patterns.isEmpty ? [nil] : patterns.map(Optional.some) {
                let found = switch kind {
                case "tasks": try await client.listTasks(pattern: pattern, fields: ["type", "status", "executing", "dbrps"])
                case "recordings": try await client.listRecordings(pattern: pattern, fields: ["type", "size", "date", "status"])
                case "replays": try await client.listReplays(pattern: pattern, fields: ["task", "recording", "status", "clock", "date"])
                default: try await client.listTemplates(pattern: pattern, fields: ["type", "vars"])
                }
                for row in found {
                    guard let id = row["id"] as? String, seen.insert(id).inserted else { continue }
                    rows.append(row)
                }
            }
            let table = switch kind {
            case "tasks": Table.tasks(rows)
            case "recordings": Table.recordings(rows)
            case "replays": Table.replays(rows)
            default: Table.templates(rows)
            }
            print(table, terminator: "")
        }
    }
}

/// `tock show <task>`: one task in Kapacitor's layout, DOT with the node statistics; with `--svg`, the graph as SVG.
struct Show: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Show a task: its state, TICKscript and DOT with stats.",
        discussion: "--svg prints the pipeline graph as an SVG picture instead (nodes with their counters, edges with the "
            + "messages that crossed them), drawn by Tock without Graphviz: `tock show cpu_alert --svg > cpu_alert.svg`.")

    @Argument(help: "The task ID.")
    var id: String

    @Flag(name: [.customLong("svg"), .customLong("svg", withSingleDash: true)],
          help: "Print the pipeline graph with its counters as SVG, not the text.")
    var svg = false

    @OptionGroup var server: ServerOptions

    func run() async throws {
        try await server.run { client in
            let task = try await client.request("GET", "/tasks/\(KapacitorClient.escape(id))").object()
            if svg { return print(try GraphPicture.svg(dot: Table.text(task["dot"]), of: "task \(id)"), terminator: "") }
            print(Table.task(task), terminator: "")
        }
    }
}

/// `tock show-template <id>`; with `--svg`, the template's graph as SVG.
struct ShowTemplate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "show-template", abstract: "Show a task template.")

    @Argument(help: "The template ID.")
    var id: String

    @Flag(name: [.customLong("svg"), .customLong("svg", withSingleDash: true)],
          help: "Print the template's pipeline graph as SVG, not the text.")
    var svg = false

    @OptionGroup var server: ServerOptions

    func run() async throws {
        try await server.run { client in
            let template = try await client.request("GET", "/templates/\(KapacitorClient.escape(id))").object()
            if svg {
                // Tock's API sends no DOT for a template: its script's graph is built here, as `show-graph` does.
                var dot = Table.text(template["dot"])
                if dot.isEmpty {
                    let script = Table.text(template["script"])
                    do {
                        dot = try ShowGraph.dot(of: script, name: id)
                    } catch let error as ScriptError {
                        throw ValidationError("the graph of template \(id) cannot be built:\n" + error.rendered(source: script))
                    }
                }
                return print(try GraphPicture.svg(dot: dot, of: "template \(id)"), terminator: "")
            }
            print(Table.template(template), terminator: "")
        }
    }
}

/// Kapacitor's text layouts (cmd/kapacitor/main.go), built from the API's JSON.
enum Table {
    /// Go's `%-Ns`: left-aligned, padded to `width`, never truncated.
    static func pad(_ text: String, _ width: Int) -> String {
        text.count >= width ? text : text + String(repeating: " ", count: width - text.count)
    }

    /// Go's `%v` of `[]client.DBRP`: `["db"."rp" "db2"."rp2"]`.
    static func dbrps(_ value: Any?) -> String {
        let items = (value as? [[String: Any]] ?? []).map { "\(goQuote($0["db"] as? String ?? "")).\(goQuote($0["rp"] as? String ?? ""))" }
        return "[" + items.joined(separator: " ") + "]"
    }

    static func goQuote(_ s: String) -> String {
        "\"" + s.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\""
    }

    static func text(_ value: Any?) -> String {
        switch value {
        case let s as String: return s
        // JSONSerialization hands back numbers and booleans alike as NSNumber; only its type tells them apart.
        case let n as NSNumber where String(cString: n.objCType) == "c": return n.boolValue ? "true" : "false"
        case let n as NSNumber: return n.stringValue
        case let b as Bool: return b ? "true" : "false"
        case nil, is NSNull: return ""
        default: return "\(value!)"
        }
    }

    static func tasks(_ rows: [[String: Any]]) -> String {
        func line(_ a: String, _ b: String, _ c: String, _ d: String, _ e: String) -> String {
            pad(a, 30) + pad(b, 10) + pad(c, 10) + pad(d, 10) + e + "\n"
        }
        var out = line("ID", "Type", "Status", "Executing", "Databases and Retention Policies")
        for t in rows {
            out += line(text(t["id"]), text(t["type"]), text(t["status"]), text(t["executing"] ?? false), dbrps(t["dbrps"]))
        }
        return out
    }

    static func templates(_ rows: [[String: Any]]) -> String {
        func line(_ a: String, _ b: String, _ c: String) -> String { pad(a, 30) + pad(b, 10) + pad(c, 40) + "\n" }
        var out = line("ID", "Type", "Vars")
        for t in rows {
            let vars = (t["vars"] as? [String: Any] ?? [:]).keys.sorted().joined(separator: ",")
            out += line(text(t["id"]), text(t["type"]), vars)
        }
        return out
    }

    /// Go's `time.RFC822` ("02 Jan 06 15:04 MST") of an RFC 3339 timestamp; the text as given if it is not one.
    static func rfc822(_ value: Any?) -> String {
        let s = text(value)
        let c = Array(s)
        guard c.count >= 16, c[4] == "-", c[7] == "-", c[10] == "T" || c[10] == " ", c[13] == ":",
              let month = Int(String(c[5...6])), (1...12).contains(month) else { return s }
        let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
        var zone = "UTC"
        if let sign = s.dropFirst(19).firstIndex(where: { $0 == "+" || $0 == "-" }) {
            let offset = s[sign...].replacingOccurrences(of: ":", with: "")
            if offset != "+0000" { zone = offset }
        }
        return "\(String(c[8...9])) \(months[month - 1]) \(String(c[2...3])) \(String(c[11...15])) \(zone)"
    }

    static func vars(_ value: Any?) -> String {
        guard let vars = value as? [String: Any], !vars.isEmpty else { return "" }
        func line(_ a: String, _ b: String, _ c: String) -> String { pad(a, 30) + pad(b, 10) + c + "\n" }
        var out = "Vars:\n" + line("Name", "Type", "Value")
        for name in vars.keys.sorted() {
            let v = vars[name] as? [String: Any] ?? [:]
            out += line(name, text(v["type"]), varValue(v["value"]))
        }
        return out
    }

    /// A template's variables as `kapacitor show-template` lists them: defaults, `<required>` where none.
    static func templateVars(_ value: Any?) -> String {
        guard let vars = value as? [String: Any], !vars.isEmpty else { return "" }
        func line(_ a: String, _ b: String, _ c: String, _ d: String) -> String {
            pad(a, 30) + pad(b, 10) + pad(c, 40) + d + "\n"
        }
        var out = "Vars:\n" + line("Name", "Type", "Default Value", "Description")
        for name in vars.keys.sorted() {
            let v = vars[name] as? [String: Any] ?? [:]
            let value = v["value"].flatMap { $0 is NSNull ? nil : $0 }
            out += line(name, text(v["type"]), value.map { varValue($0) } ?? "<required>", text(v["description"]))
        }
        return out
    }

    private static func varValue(_ value: Any?) -> String {
        if let list = value as? [Any] {
            return "[" + list.map { item in
                if let item = item as? [String: Any] {
                    return item["type"] as? String == "star" ? "*" : varValue(item["value"])
                }
                return text(item)
            }.joined(separator: ", ") + "]"
        }
        return text(value)
    }

    static func task(_ t: [String: Any]) -> String {
        var out = ""
        out += "ID: \(text(t["id"]))\n"
        out += "Error: \(text(t["error"]))\n"
        out += "Template: \(text(t["template-id"]))\n"
        out += "Type: \(text(t["type"]))\n"
        out += "Status: \(text(t["status"]))\n"
        out += "Executing: \(text(t["executing"] ?? false))\n"
        out += "Created: \(rfc822(t["created"]))\n"
        out += "Modified: \(rfc822(t["modified"]))\n"
        out += "LastEnabled: \(rfc822(t["last-enabled"]))\n"
        out += "Databases Retention Policies: \(dbrps(t["dbrps"]))\n"
        out += "TICKscript:\n\(text(t["script"]))\n"
        out += vars(t["vars"])
        out += "DOT:\n\(text(t["dot"]))\n"
        return out
    }

    static func template(_ t: [String: Any]) -> String {
        var out = ""
        out += "ID: \(text(t["id"]))\n"
        out += "Error: \(text(t["error"]))\n"
        out += "Type: \(text(t["type"]))\n"
        out += "Created: \(rfc822(t["created"]))\n"
        out += "Modified: \(rfc822(t["modified"]))\n"
        out += "TICKscript:\n\(text(t["script"]))\n"
        out += templateVars(t["vars"])
        out += "DOT:\n\(text(t["dot"]))\n"
        return out
    }
}
