import ArgumentParser
import Foundation

/// The server options every client verb takes: Kapacitor's `-url` and `-skipVerify`, the credentials, each
/// also spelled with two dashes.
struct ServerOptions: ParsableArguments {
    @Option(name: [.customLong("url", withSingleDash: true), .customLong("url")],
            help: "The server's URL http://host:port (default: $TOCK_URL, then $KAPACITOR_URL, then http://localhost:9092).")
    var url: String?

    @Option(name: [.customLong("username", withSingleDash: true), .customLong("username")],
            help: "User name for HTTP basic auth (default: $TOCK_USERNAME).")
    var username: String?

    @Option(name: [.customLong("password", withSingleDash: true), .customLong("password")],
            help: "Password for HTTP basic auth (default: $TOCK_PASSWORD).")
    var password: String?

    @Option(name: [.customLong("token", withSingleDash: true), .customLong("token")],
            help: "API token, sent as 'Authorization: Bearer' (default: $TOCK_TOKEN).")
    var token: String?

    @Flag(name: [.customLong("skipVerify", withSingleDash: true), .customLong("skipVerify")],
          help: "Do not verify the server's https certificate (also $TOCK_UNSAFE_SSL or $KAPACITOR_UNSAFE_SSL = true).")
    var skipVerify = false

    @Option(name: [.customLong("ca", withSingleDash: true), .customLong("ca")],
            help: "PEM file of the CA (or self-signed certificate) to trust for https (default: $TOCK_CA).")
    var ca: String?

    /// The credentials to send: a token, else user and password (flags, then environment, then the URL's
    /// `user:password@`).
    var credentials: ClientCredentials? {
        let env = ProcessInfo.processInfo.environment
        func pick(_ flag: String?, _ variable: String) -> String? {
            if let flag, !flag.isEmpty { return flag }
            if let value = env[variable], !value.isEmpty { return value }
            return nil
        }
        if let token = pick(token, "TOCK_TOKEN") { return .token(token) }
        if let user = pick(username, "TOCK_USERNAME") { return .basic(user: user, password: pick(password, "TOCK_PASSWORD") ?? "") }
        return nil
    }

    var tls: ClientTLSOptions {
        let env = ProcessInfo.processInfo.environment
        let unsafe = [env["TOCK_UNSAFE_SSL"], env["KAPACITOR_UNSAFE_SSL"]].contains { ["true", "1", "yes"].contains($0?.lowercased() ?? "") }
        let caFile = ca ?? env["TOCK_CA"].flatMap { $0.isEmpty ? nil : $0 }
        return ClientTLSOptions(skipVerify: skipVerify || unsafe, caFile: caFile)
    }

    /// A client for the resolved URL with these credentials and TLS options.
    func client() throws(ClientError) -> KapacitorClient {
        try KapacitorClient(baseURL: resolvedURL, credentials: credentials, tls: tls)
    }

    /// The URL to talk to: the flag, else `TOCK_URL`, else `KAPACITOR_URL`, else Kapacitor's default.
    var resolvedURL: String {
        let env = ProcessInfo.processInfo.environment
        for candidate in [url, env["TOCK_URL"], env["KAPACITOR_URL"]] {
            if let candidate, !candidate.isEmpty { return candidate }
        }
        return "http://localhost:9092"
    }

    /// Runs `body` with a client, printing any failure plainly on stderr (as `kapacitor` does) and exiting non-zero.
    func run(_ body: (KapacitorClient) async throws -> Void) async throws {
        do {
            try await body(try client())
        } catch let error as ClientError {
            FileHandle.standardError.write(Data((error.description + "\n").utf8))
            throw ExitCode(error.exitCode)
        }
    }
}

/// A failure talking to the server, worded for the person at the terminal.
struct ClientError: Error, CustomStringConvertible {
    let description: String
    /// 3 like `kapacitor` for a failed command, 4 when the server cannot be reached or the URL is bad.
    var exitCode: Int32 = 3
    /// The HTTP status the server answered with, 0 when the failure happened before a response.
    var status = 0

    init(_ description: String, exitCode: Int32 = 3, status: Int = 0) {
        self.description = description
        self.exitCode = exitCode
        self.status = status
    }
}

/// A response from the server.
struct HTTPReply: Sendable {
    let status: Int
    let body: Data
    let headers: [String: String]

    /// The JSON body as a dictionary, or an error naming what came back instead.
    func object() throws(ClientError) -> [String: Any] {
        guard let value = try? JSONSerialization.jsonObject(with: body), let object = value as? [String: Any] else {
            throw ClientError("unexpected response from the server (HTTP \(status)): \(String(decoding: body.prefix(200), as: UTF8.self))")
        }
        return object
    }
}

/// What the CLI proves itself with.
enum ClientCredentials: Sendable, Equatable {
    case basic(user: String, password: String)
    case token(String)

    var header: String {
        switch self {
        case .basic(let user, let password): "Basic " + Data("\(user):\(password)".utf8).base64EncodedString()
        case .token(let token): "Bearer " + token
        }
    }
}

/// Kapacitor's HTTP API (`/kapacitor/v1`) from the client side, over async-http-client (``CLIHTTP``).
struct KapacitorClient: Sendable {
    let baseURL: URL
    let credentials: ClientCredentials?
    let tls: ClientTLSOptions
    private static let base = "/kapacitor/v1"

    /// `baseURL` may carry `user:password@`, used when `credentials` is nil.
    init(baseURL: String, credentials: ClientCredentials? = nil, tls: ClientTLSOptions = .init()) throws(ClientError) {
        let trimmed = baseURL.hasSuffix("/") ? String(baseURL.dropLast()) : baseURL
        guard var components = URLComponents(string: trimmed), let scheme = components.scheme,
              ["http", "https"].contains(scheme), components.host != nil else {
            throw ClientError("invalid server URL \"\(baseURL)\": expected http(s)://host:port", exitCode: 4)
        }
        var credentials = credentials
        if let user = components.user {
            if credentials == nil {
                credentials = .basic(user: user.removingPercentEncoding ?? user,
                                     password: components.password.map { $0.removingPercentEncoding ?? $0 } ?? "")
            }
            components.user = nil
            components.password = nil
        }
        guard let url = components.url else {
            throw ClientError("invalid server URL \"\(baseURL)\": expected http(s)://host:port", exitCode: 4)
        }
        self.baseURL = url
        self.credentials = credentials
        self.tls = tls
    }

    /// Sends one request to `path` under `/kapacitor/v1` (or at the root when `path` starts with `//`).
    /// A response in the 4xx/5xx range throws the server's `{"error": …}` text.
    @discardableResult
    func request(_ method: String, _ path: String, query: [(String, String)] = [], json: Any? = nil,
                 body: Data? = nil) async throws(ClientError) -> HTTPReply {
        let fullPath = path.hasPrefix("//") ? String(path.dropFirst()) : Self.base + path
        guard var components = URLComponents(url: baseURL, resolvingAgainstBaseURL: false) else {
            throw ClientError("invalid server URL \(baseURL)", exitCode: 4)
        }
        components.percentEncodedPath = components.percentEncodedPath + fullPath
        if !query.isEmpty { components.queryItems = query.map { URLQueryItem(name: $0.0, value: $0.1) } }
        guard let url = components.url else { throw ClientError("cannot form a URL for \(fullPath)") }
        var fields: [(String, String)] = []
        var payload = body
        if let json {
            do { payload = try JSONSerialization.data(withJSONObject: json, options: [.sortedKeys]) } catch {
                throw ClientError("cannot encode the request body: \(error)")
            }
            fields.append(("Content-Type", "application/json"))
        }
        if let credentials { fields.append(("Authorization", credentials.header)) }
        let reply = try await send(method, url, fields, payload)
        if reply.status >= 400 {
            if let object = try? reply.object(), let message = object["error"] as? String ?? object["Error"] as? String {
                throw ClientError(message, status: reply.status)
            }
            let text = String(decoding: reply.body, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
            throw ClientError(text.isEmpty ? "HTTP \(reply.status) from \(method) \(fullPath)" : text, status: reply.status)
        }
        return reply
    }

    /// One exchange through the process's client (async-http-client; `-ca` and `-skipVerify` set its TLS).
    private func send(_ method: String, _ url: URL, _ fields: [(String, String)], _ body: Data?) async throws(ClientError) -> HTTPReply {
        do {
            let reply = try await CLIHTTP.send(method: method, url: url, headers: fields, body: body, tls: tls)
            return HTTPReply(status: reply.status, body: reply.body, headers: reply.headers)
        } catch {
            throw ClientError("cannot reach the server at \(baseURL.absoluteString): \(CLIHTTP.describe(error))", exitCode: 4)
        }
    }

    // MARK: Resources

    /// All tasks whose ID matches the glob `pattern` (all tasks when nil), paging like `kapacitor` (100 at a time).
    func listTasks(pattern: String?, fields: [String]) async throws(ClientError) -> [[String: Any]] {
        try await listAll("/tasks", key: "tasks", pattern: pattern, fields: fields)
    }

    func listTemplates(pattern: String?, fields: [String]) async throws(ClientError) -> [[String: Any]] {
        try await listAll("/templates", key: "templates", pattern: pattern, fields: fields)
    }

    func listRecordings(pattern: String?, fields: [String]) async throws(ClientError) -> [[String: Any]] {
        try await listAll("/recordings", key: "recordings", pattern: pattern, fields: fields)
    }

    func listReplays(pattern: String?, fields: [String]) async throws(ClientError) -> [[String: Any]] {
        try await listAll("/replays", key: "replays", pattern: pattern, fields: fields)
    }

    private func listAll(_ path: String, key: String, pattern: String?, fields: [String]) async throws(ClientError) -> [[String: Any]] {
        var all: [[String: Any]] = []
        let limit = 100
        while true {
            var query: [(String, String)] = [("offset", String(all.count)), ("limit", String(limit))]
            if let pattern { query.append(("pattern", pattern)) }
            if !fields.isEmpty { query.append(("fields", fields.joined(separator: ","))) }
            let page = try await request("GET", path, query: query).object()[key] as? [[String: Any]] ?? []
            all += page
            if page.count < limit { return all }
        }
    }

    /// The task, or nil when the server answers 404.
    func task(_ id: String) async throws(ClientError) -> [String: Any]? {
        try await optional("/tasks/\(Self.escape(id))")
    }

    /// The template, or nil when the server answers 404.
    func template(_ id: String) async throws(ClientError) -> [String: Any]? {
        try await optional("/templates/\(Self.escape(id))")
    }

    private func optional(_ path: String) async throws(ClientError) -> [String: Any]? {
        do { return try await request("GET", path).object() } catch {
            if error.status == 404 { return nil }
            throw error
        }
    }

    /// Percent-escapes an ID for a path segment.
    static func escape(_ id: String) -> String {
        var allowed = CharacterSet.urlPathAllowed
        allowed.remove("/")
        return id.addingPercentEncoding(withAllowedCharacters: allowed) ?? id
    }
}

/// Whether `text` holds glob characters (`*`, `?`, `[`), so it must be expanded through a list.
func isGlob(_ text: String) -> Bool {
    text.contains { $0 == "*" || $0 == "?" || $0 == "[" }
}
