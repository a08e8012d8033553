import ArgumentParser
import Foundation
import TockModel

/// `tock hosts list|show|set|delete|metrics`: the host inventory of a running daemon (`/kapacitor/v1/hosts`).
struct Hosts: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "hosts",
        abstract: "The host inventory: hosts registered from their data, their locations, labels, facts and recent metrics.",
        subcommands: [HostsList.self, HostsShow.self, HostsSet.self, HostsDelete.self, HostsMetrics.self])
}

/// `tock hosts list [--location L] [--unassigned] [--silent 5m]`.
struct HostsList: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "list",
        abstract: "List hosts: Host, Location, Labels, First seen, Last seen, Agent, Status.",
        discussion: "--unassigned: reporting but without a location. --silent 5m: no data for 5m, or never reported.")

    @Option(name: [.customLong("location", withSingleDash: true), .customLong("location")], help: "Only the hosts of this location.")
    var location: String?

    @Flag(name: [.customLong("unassigned", withSingleDash: true), .customLong("unassigned")],
          help: "Only hosts that report but have no location.")
    var unassigned = false

    @Option(name: [.customLong("silent", withSingleDash: true), .customLong("silent")],
            help: "Only hosts silent for at least this long (5m, 1h), and those that never reported.")
    var silent: String?

    @OptionGroup var server: ServerOptions

    func validate() throws {
        if let silent, GoDuration.parse(silent) == nil { throw ValidationError("--silent \"\(silent)\" is not a duration such as 5m") }
    }

    func run() async throws {
        var query: [(String, String)] = []
        if let location { query.append(("location", location)) }
        if unassigned { query.append(("unassigned", "true")) }
        if let silent { query.append(("silent", silent)) }
        try await server.run { client in
            let hosts = try await client.request("GET", "/hosts", query: query).object()["hosts"] as? [[String: Any]] ?? []
            print(HostTables.list(hosts), terminator: "")
        }
    }
}

/// `tock hosts show HOST`.
struct HostsShow: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "show", abstract: "Show one host: location, labels, agent and facts.")

    @Argument(help: "The host.")
    var host: String

    @OptionGroup var server: ServerOptions

    func run() async throws {
        try await server.run { client in
            let h = try await client.request("GET", "/hosts/\(KapacitorClient.escape(host))").object()
            print(HostTables.show(h), terminator: "")
        }
    }
}

/// `tock hosts set HOST location=725 rack=b owner=`.
struct HostsSet: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "set",
        abstract: "Set a host's location and labels (creating the host if it has not reported yet).",
        discussion: "location=L sets the location (location= removes it); any other key=value is a label, key= removes the label.")

    @Argument(help: "The host.")
    var host: String

    @Argument(help: "location=L and label=value pairs.")
    var settings: [String] = []

    @OptionGroup var server: ServerOptions

    func validate() throws {
        if settings.isEmpty { throw ValidationError("give location=L or label=value pairs to set") }
        for s in settings where !s.contains("=") || s.hasPrefix("=") {
            throw ValidationError("\"\(s)\" is not key=value (location=725, rack=b, rack= to remove)")
        }
    }

    /// The PATCH body: `location` and `labels`, empty values as null (removal).
    var body: [String: Any] {
        var body: [String: Any] = [:]
        var labels: [String: Any] = [:]
        for s in settings {
            let eq = s.firstIndex(of: "=")!
            let key = String(s[..<eq]), value = String(s[s.index(after: eq)...])
            let json: Any = value.isEmpty ? NSNull() : value
            if key == "location" { body["location"] = json } else { labels[key] = json }
        }
        if !labels.isEmpty { body["labels"] = labels }
        return body
    }

    func run() async throws {
        let body = self.body
        try await server.run { client in
            let path = "/hosts/\(KapacitorClient.escape(host))"
            do {
                try await client.request("PATCH", path, json: body)
            } catch let error as ClientError where error.status == 404 {
                var create = body
                create["host"] = host
                try await client.request("POST", "/hosts", json: create)
            }
        }
    }
}

/// `tock hosts delete HOST…`.
struct HostsDelete: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "delete", abstract: "Delete hosts from the inventory (a host that reports again comes back, without location).")

    @Argument(help: "The hosts.")
    var hosts: [String]

    @OptionGroup var server: ServerOptions

    func validate() throws { if hosts.isEmpty { throw ValidationError("give the hosts to delete") } }

    func run() async throws {
        try await server.run { client in
            for host in hosts { try await client.request("DELETE", "/hosts/\(KapacitorClient.escape(host))") }
        }
    }
}

/// `tock hosts metrics HOST --measurement cpu --field usage_user --past 1h`.
struct HostsMetrics: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "metrics", abstract: "Print a host's recent values of a measurement (one field, or all): one line per value.")

    @Argument(help: "The host.")
    var host: String

    @Option(name: [.customLong("measurement", withSingleDash: true), .customLong("measurement")], help: "The measurement.")
    var measurement: String

    @Option(name: [.customLong("field", withSingleDash: true), .customLong("field")], help: "The field (default: every numeric field).")
    var field: String?

    @Option(name: [.customLong("past", withSingleDash: true), .customLong("past")], help: "How far back (default 1h).")
    var past = "1h"

    @OptionGroup var server: ServerOptions

    func validate() throws {
        guard let d = GoDuration.parse(past), d > 0 else { throw ValidationError("--past \"\(past)\" is not a duration such as 1h") }
    }

    func run() async throws {
        var query: [(String, String)] = [("measurement", measurement), ("past", past)]
        if let field { query.append(("field", field)) }
        try await server.run { client in
            let reply = try await client.request("GET", "/hosts/\(KapacitorClient.escape(host))/metrics", query: query).object()
            print(HostTables.metrics(reply["series"] as? [[String: Any]] ?? []), terminator: "")
        }
    }
}

/// The text the `hosts` verbs print.
enum HostTables {
    static func labels(_ value: Any?) -> String {
        (value as? [String: Any] ?? [:]).sorted { $0.key < $1.key }.map { "\($0.key)=\(Table.text($0.value))" }.joined(separator: ",")
    }

    static func list(_ rows: [[String: Any]]) -> String {
        let columns: [(String, ([String: Any]) -> String)] = [
            ("Host", { Table.text($0["host"]) }),
            ("Location", { Table.text($0["location"]) }),
            ("Labels", { labels($0["labels"]) }),
            ("First seen", { Table.rfc822($0["first-seen"]) }),
            ("Last seen", { Table.rfc822($0["last-seen"]) }),
            ("Agent", { Table.text($0["agent-version"]) }),
            ("Status", { Table.text($0["status"]) }),
        ]
        let widths = columns.map { c in rows.map { c.1($0).count }.reduce(c.0.count, max) + 2 }
        func line(_ cells: [String]) -> String {
            var text = zip(cells, widths).map { Table.pad($0, $1) }.joined()
            while text.hasSuffix(" ") { text.removeLast() }
            return text + "\n"
        }
        return line(columns.map(\.0)) + rows.map { row in line(columns.map { $0.1(row) }) }.joined()
    }

    static func show(_ h: [String: Any]) -> String {
        var out = ""
        func add(_ name: String, _ value: String) { out += Table.pad(name + ":", 19) + value + "\n" }
        add("Host", Table.text(h["host"]))
        add("Location", Table.text(h["location"]))
        add("Labels", labels(h["labels"]))
        add("Status", Table.text(h["status"]))
        add("Created", Table.rfc822(h["created"]))
        add("First seen", Table.rfc822(h["first-seen"]))
        add("Last seen", Table.rfc822(h["last-seen"]))
        add("Points", Table.text(h["points"]))
        add("Last database", Table.text(h["last-database"]))
        add("Reported location", Table.text(h["reported-location"]))
        add("Agent", [Table.text(h["agent-version"]), labels(h["agent"])].filter { !$0.isEmpty }.joined(separator: " "))
        out += "Facts:\n"
        for (key, value) in (h["facts"] as? [String: Any] ?? [:]).sorted(by: { $0.key < $1.key }) {
            out += "  " + Table.pad(key + ":", 17) + Table.text(value) + "\n"
        }
        return out
    }

    /// One line per value: time, series (measurement, tags, field), value.
    static func metrics(_ series: [[String: Any]]) -> String {
        var out = ""
        for s in series {
            let tags = labels(s["tags"])
            let field = (s["columns"] as? [Any])?.last.map { Table.text($0) } ?? ""
            let name = Table.text(s["name"]) + (tags.isEmpty ? "" : "," + tags) + " " + field
            for v in s["values"] as? [[Any]] ?? [] where v.count == 2 {
                out += Table.text(v[0]) + "  " + name + "  " + Table.text(v[1]) + "\n"
            }
        }
        return out
    }
}
