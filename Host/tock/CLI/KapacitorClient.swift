import ArgumentParser
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// The server options every client verb takes: Kapacitor's `-url`, also spelled `--url`.
struct ServerOptions: ParsableArguments {
    @Option(name: [.customLong("url", withSingleDash: true), .customLong("url")],
            help: "The server's URL http://host:port (default: $TOCK_URL, then $KAPACITOR_URL, then http://localhost:9092).")
    var url: String?

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
            try await body(try KapacitorClient(baseURL: resolvedURL))
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

/// Kapacitor's HTTP API (`/kapacitor/v1`) from the client side, over URLSession.
struct KapacitorClient: Sendable {
    let baseURL: URL
    private static let base = "/kapacitor/v1"

    init(baseURL: String) throws(ClientError) {
        let trimmed = baseURL.hasSuffix("/") ? String(baseURL.dropLast()) : baseURL
        guard let url = URL(string: trimmed), let scheme = url.scheme, ["http", "https"].contains(scheme), url.host != nil else {
            throw ClientError("invalid server URL \"\(baseURL)\": expected http(s)://host:port", exitCode: 4)
        }
        self.baseURL = url
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
        var request = URLRequest(url: url)
        request.httpMethod = method
        request.timeoutInterval = 60
        if let json {
            do { request.httpBody = try JSONSerialization.data(withJSONObject: json, options: [.sortedKeys]) } catch {
                throw ClientError("cannot encode the request body: \(error)")
            }
            request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        } else if let body {
            request.httpBody = body
        }
        let data: Data, response: URLResponse
        do {
            (data, response) = try await URLSession.shared.data(for: request)
        } catch {
            throw ClientError("cannot reach the server at \(baseURL.absoluteString): \(error.localizedDescription)", exitCode: 4)
        }
        guard let http = response as? HTTPURLResponse else { throw ClientError("no HTTP response from \(url)") }
        var headers: [String: String] = [:]
        for (key, value) in http.allHeaderFields {
            if let key = key as? String, let value = value as? String { headers[key.lowercased()] = value }
        }
        let reply = HTTPReply(status: http.statusCode, body: data, headers: headers)
        if http.statusCode >= 400 {
            if let object = try? reply.object(), let message = object["error"] as? String ?? object["Error"] as? String {
                throw ClientError(message, status: http.statusCode)
            }
            let text = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
            throw ClientError(text.isEmpty ? "HTTP \(http.statusCode) from \(method) \(fullPath)" : text,
                              status: http.statusCode)
        }
        return reply
    }

    // MARK: Resources

    /// All tasks whose ID matches the glob `pattern` (all tasks when nil), paging like `kapacitor` (100 at a time).
    func listTasks(pattern: String?, fields: [String]) async throws(ClientError) -> [[String: Any]] {
        try await listAll("/tasks", key: "tasks", pattern: pattern, fields: fields)
    }

    func listTemplates(pattern: String?, fields: [String]) async throws(ClientError) -> [[String: Any]] {
        try await listAll("/templates", key: "templates", pattern: pattern, fields: fields)
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
