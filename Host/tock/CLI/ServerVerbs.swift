import ArgumentParser
import Foundation

/// `tock stats general|ingress`: the server's counters from `/debug/vars`, laid out like Kapacitor.
struct Stats: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Show server statistics: general or ingress.")

    @Argument(help: "general or ingress.")
    var kind: String

    @OptionGroup var server: ServerOptions

    func validate() throws {
        guard ["general", "ingress"].contains(kind) else { throw ValidationError("unknown stats \"\(kind)\": use general or ingress") }
    }

    func run() async throws {
        try await server.run { client in
            let vars = try await client.request("GET", "/debug/vars").object()
            if kind == "general" {
                let rows: [(String, String)] = [
                    ("ClusterID", "cluster_id"), ("ServerID", "server_id"), ("Host", "host"), ("Tasks", "num_tasks"),
                    ("Enabled Tasks", "num_enabled_tasks"), ("Subscriptions", "num_subscriptions"), ("Version", "version"),
                ]
                for (label, key) in rows { print(Table.pad(label + ":", 20) + Table.text(vars[key])) }
            } else {
                func line(_ a: String, _ b: String, _ c: String, _ d: String) -> String {
                    Table.pad(a, 30) + Table.pad(b, 30) + Table.pad(c, 30) + d
                }
                print(line("Database", "Retention Policy", "Measurement", "Points Received"))
                var rows: [(String, String, String, String)] = []
                let stats = vars["kapacitor"] as? [String: Any] ?? [:]
                for case let stat as [String: Any] in stats.values where stat["name"] as? String == "ingress" {
                    let tags = stat["tags"] as? [String: Any] ?? [:]
                    let values = stat["values"] as? [String: Any] ?? [:]
                    rows.append((Table.text(tags["database"]), Table.text(tags["retention_policy"]),
                                 Table.text(tags["measurement"]), Table.text(values["points_received"])))
                }
                for r in rows.sorted(by: { ($0.0, $0.1, $0.2) < ($1.0, $1.1, $1.2) }) { print(line(r.0, r.1, r.2, r.3)) }
            }
        }
    }
}

/// `tock vars`: the server's `/debug/vars` JSON.
struct Vars: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Print the server's /debug/vars JSON.")

    @OptionGroup var server: ServerOptions

    func run() async throws {
        try await server.run { client in
            let reply = try await client.request("GET", "/debug/vars")
            print(String(decoding: reply.body, as: UTF8.self))
        }
    }
}

/// `tock level debug|info|error`: the server's log level.
struct Level: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Set the server's log level: debug, info or error.")

    @Argument(help: "debug, info or error.")
    var level: String

    @OptionGroup var server: ServerOptions

    func run() async throws {
        try await server.run { client in
            try await client.request("POST", "/loglevel", json: ["level": level])
        }
    }
}

/// `tock version`: the client's version, and the server's when one answers at the URL.
struct Version: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Print the client's version and the server's.")

    @OptionGroup var server: ServerOptions

    func run() async throws {
        print("Tock \(Tock.version) (client)")
        do {
            let client = try server.client()
            let reply = try await client.request("GET", "/ping")
            let version = reply.headers["x-kapacitor-version"] ?? "unknown version"
            print("Tock \(version) (server at \(client.baseURL.absoluteString))")
        } catch {
            print("no server at \(server.resolvedURL): \(error.description)")
        }
    }
}
