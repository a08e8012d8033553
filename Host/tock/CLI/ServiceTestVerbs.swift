import ArgumentParser
import Foundation

/// `tock service-tests <name…>`: runs each named service's test with its default options, as
/// `kapacitor service-tests` does (`cmd/kapacitor/main.go` `doServiceTest`); names may be globs.
struct ServiceTests: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "service-tests",
        abstract: "Test services: send one test alert through each named service with its default options.",
        discussion: "The service name can be a glob style pattern. `tock list service-tests` lists the services.")

    @Argument(help: "Service names or glob patterns.")
    var names: [String] = []

    @OptionGroup var server: ServerOptions

    func validate() throws {
        if names.isEmpty { throw ValidationError("must provide at least one service name or pattern.") }
    }

    func run() async throws {
        try await server.run { client in
            var services: [String] = []
            for pattern in names { services += try await ServiceTestVerbs.names(client, pattern: pattern) }
            var rows: [(String, Bool, String)] = []
            for name in services {
                let reply = try await client.request("POST", "/service-tests/" + KapacitorClient.escape(name), body: Data("null".utf8))
                let result = try reply.object()
                rows.append((name, result["success"] as? Bool ?? false, result["message"] as? String ?? ""))
            }
            print(ServiceTestVerbs.results(rows), terminator: "")
        }
    }
}

/// The service-test requests and tables shared by `tock service-tests` and `tock list service-tests`.
enum ServiceTestVerbs {
    /// The names of the services matching `pattern`, as the server orders them.
    static func names(_ client: KapacitorClient, pattern: String) async throws(ClientError) -> [String] {
        let reply = try await client.request("GET", "/service-tests", query: pattern.isEmpty ? [] : [("pattern", pattern)])
        let services = try reply.object()["services"] as? [[String: Any]] ?? []
        return services.compactMap { $0["name"] as? String }
    }

    /// Kapacitor's `%-20s%-10v%s` table: Service, Success, Message.
    static func results(_ rows: [(String, Bool, String)]) -> String {
        func line(_ a: String, _ b: String, _ c: String) -> String { pad(a, 20) + pad(b, 10) + c + "\n" }
        return line("Service", "Success", "Message") + rows.map { line($0.0, $0.1 ? "true" : "false", $0.2) }.joined()
    }

    /// `tock list service-tests [patterns…]`: Kapacitor's one-column table.
    static func list(_ client: KapacitorClient, patterns: [String]) async throws(ClientError) -> String {
        var out = "Service Name\n"
        for pattern in patterns.isEmpty ? [""] : patterns {
            for name in try await names(client, pattern: pattern) { out += name + "\n" }
        }
        return out
    }

    private static func pad(_ s: String, _ width: Int) -> String {
        s.count >= width ? s : s + String(repeating: " ", count: width - s.count)
    }
}
