import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import NIOSSL
import Synchronization

/// Posts batches to `/write` of a Tock daemon or an InfluxDB 1.x server, over one shared HTTP client (connections
/// are reused), with the agent's authentication and TLS settings.
public final class WriteClient: Sendable {
    /// What became of one request.
    public enum Outcome: Sendable, Hashable {
        /// The server took the batch (2xx).
        case written
        /// The server refused the points themselves (400): sending them again cannot help.
        case rejected(String)
        /// The batch is larger than the server takes (413): send it in smaller parts.
        case tooLarge(String)
        /// Not now (connection refused, timeout, 5xx, 401/403, database missing): keep the batch and try later.
        case retry(String)
    }

    let client: HTTPClient
    let configuration: AgentConfiguration
    let authorization: String?
    let userAgent: String
    /// ``writeRequest(_:database:retentionPolicy:)``'s requests, by server, database and retention policy.
    private let requests = Mutex<[String: HTTPClient.Request]>([:])

    public init(configuration: AgentConfiguration, version: String) throws(AgentConfigurationError) {
        self.configuration = configuration
        userAgent = "tock-agent/\(version)"
        if !configuration.username.isEmpty || !configuration.password.isEmpty {
            authorization = "Basic " + Data("\(configuration.username):\(configuration.password)".utf8).base64EncodedString()
        } else if !configuration.token.isEmpty {
            authorization = "Token \(configuration.token)"
        } else {
            authorization = nil
        }
        var tls = TLSConfiguration.makeClientConfiguration()
        if configuration.insecureSkipVerify { tls.certificateVerification = .none }
        do {
            if !configuration.sslCA.isEmpty {
                tls.trustRoots = .certificates(try NIOSSLCertificate.fromPEMFile(configuration.sslCA))
            }
        } catch {
            throw AgentConfigurationError("ssl-ca: cannot read PEM certificates from \(configuration.sslCA): \(error)")
        }
        if !configuration.sslCert.isEmpty {
            do {
                tls.certificateChain = try NIOSSLCertificate.fromPEMFile(configuration.sslCert).map { .certificate($0) }
                tls.privateKey = .privateKey(try NIOSSLPrivateKey(file: configuration.sslKey, format: .pem))
            } catch {
                throw AgentConfigurationError("ssl-cert/ssl-key: cannot read \(configuration.sslCert) and \(configuration.sslKey): \(error)")
            }
        }
        var http = HTTPClient.Configuration(tlsConfiguration: tls, redirectConfiguration: .disallow)
        http.timeout = .init(connect: Self.amount(configuration.timeout), read: Self.amount(configuration.timeout))
        client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: http)
    }

    public func shutdown() async {
        try? await client.shutdown()
    }

    /// ``shutdown()`` on the calling thread, which it blocks (never an event loop's).
    public func shutdownBlocking() {
        try? client.syncShutdown()
    }

    /// Sends `batch` to the first server that takes it: a server that cannot be reached or answers 5xx is skipped
    /// for the next. A server that refuses the points answers for all of them.
    ///
    /// Blocks the calling thread until the answer (the agent's sender has a thread of its own, so that a write wakes
    /// no thread of Swift's or Dispatch's pools): never call it on an event loop. `interruption` cuts the request
    /// short when the agent stops.
    public func write(_ batch: DiskBuffer.Batch, interruption: WriteInterruption? = nil) -> Outcome {
        var failures: [String] = []
        for base in configuration.urls {
            switch write(batch, to: base, interruption: interruption) {
            case .retry(let reason): failures.append(reason)
            case let outcome: return outcome
            }
        }
        return .retry(failures.joined(separator: "; "))
    }

    func write(_ batch: DiskBuffer.Batch, to base: String, mayCreate: Bool = true, interruption: WriteInterruption? = nil) -> Outcome {
        let template: HTTPClient.Request
        do { template = try writeRequest(base, database: batch.database, retentionPolicy: batch.retentionPolicy) } catch {
            return .retry("\(base): \(Self.describe(error))")
        }
        var headers = HTTPHeaders()
        headers.add(name: "Content-Type", value: "text/plain; charset=utf-8")
        headers.add(name: "User-Agent", value: userAgent)
        if batch.gzip { headers.add(name: "Content-Encoding", value: "gzip") }
        if let authorization { headers.add(name: "Authorization", value: authorization) }
        let (status, message): (HTTPResponseStatus, String)
        do {
            let response = try execute(template, headers: headers, body: batch.body, interruption: interruption)
            status = response.status
            // Read only when the server refused: a 2xx answer's body says nothing, and parsing it would keep
            // Foundation's JSON and error code resident in the agent.
            message = (200..<300).contains(response.status.code) ? "" : Self.errorMessage(response.body ?? ByteBuffer())
        } catch {
            return .retry("\(base): \(Self.describe(error))")
        }
        switch status.code {
        case 200..<300: return .written
        case 400: return .rejected("\(base) refused the points (400): \(message)")
        case 413: return .tooLarge("\(base): request too large (413)")
        case 404 where mayCreate && message.contains("database not found"):
            // InfluxDB 1.x writes only into a database that exists; Telegraf creates it, so does the agent.
            if createDatabase(batch.database, at: base, interruption: interruption) {
                return write(batch, to: base, mayCreate: false, interruption: interruption)
            }
            return .retry("\(base): database \"\(batch.database)\" not found, and it could not be created")
        case 401, 403:
            return .retry("\(base) refused the credentials (\(status.code)): \(message) — check username/password or token")
        default:
            return .retry("\(base) answered \(status.code): \(message)")
        }
    }

    func createDatabase(_ database: String, at base: String, interruption: WriteInterruption? = nil) -> Bool {
        let escaped = database.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
        var headers = HTTPHeaders()
        if let authorization { headers.add(name: "Authorization", value: authorization) }
        let url = Self.endpoint(base, path: "/query", query: [("q", "CREATE DATABASE \"\(escaped)\"")])
        guard let request = try? HTTPClient.Request(url: url, method: .POST),
              let response = try? execute(request, headers: headers, body: [], interruption: interruption) else { return false }
        return (200..<300).contains(response.status.code)
    }

    /// The POST to `/write` of one server, database and retention policy, made once: a URL built, percent-encoded
    /// and parsed per batch would keep Foundation's URL and Unicode code resident in the agent for nothing.
    private func writeRequest(_ base: String, database: String, retentionPolicy: String) throws -> HTTPClient.Request {
        let key = [base, database, retentionPolicy].joined(separator: "\u{0}")
        if let made = requests.withLock({ $0[key] }) { return made }
        let url = Self.endpoint(base, path: "/write", query: [("db", database), ("rp", retentionPolicy), ("precision", "ns")])
        let made = try HTTPClient.Request(url: url, method: .POST)
        requests.withLock { requests in
            if requests.count >= 64 { requests = [:] }
            requests[key] = made
        }
        return made
    }

    /// One POST of `request` with `headers` and `body`, waited for on the calling thread, within the configured
    /// timeout.
    private func execute(_ template: HTTPClient.Request, headers: HTTPHeaders, body: [UInt8],
                         interruption: WriteInterruption?) throws -> HTTPClient.Response {
        var request = template
        request.headers = headers
        request.body = .bytes(body)
        let task = client.execute(request: request, delegate: ResponseAccumulator(request: request, maxBodySize: 64 << 10),
                                  deadline: .now() + Self.amount(configuration.timeout))
        guard interruption?.register(task) ?? true else { throw CancellationError() }
        defer { interruption?.unregister() }
        return try task.futureResult.wait()
    }

    /// `base` with `path` when it has none, and the query.
    static func endpoint(_ base: String, path: String, query: [(String, String)]) -> String {
        var components = URLComponents(string: base) ?? URLComponents()
        if components.path.isEmpty || components.path == "/" {
            components.path = path
        } else if path != "/write" {
            // A base with its own write path (a proxy): keep its prefix for the other endpoints.
            let prefix = components.path.hasSuffix("/write") ? String(components.path.dropLast(6)) : components.path
            components.path = prefix + path
        }
        var items = components.queryItems ?? []
        for (name, value) in query where !value.isEmpty { items.append(URLQueryItem(name: name, value: value)) }
        components.percentEncodedQuery = items.map { item in
            "\(Self.encode(item.name))=\(Self.encode(item.value ?? ""))"
        }.joined(separator: "&")
        return components.string ?? base
    }

    static func encode(_ text: String) -> String {
        text.addingPercentEncoding(withAllowedCharacters: .alphanumerics.union(CharacterSet(charactersIn: "-_.~"))) ?? text
    }

    /// The `error` of InfluxDB's and Tock's JSON error bodies, else the body's start.
    static func errorMessage(_ body: ByteBuffer) -> String {
        let text = String(buffer: body)
        if let data = text.data(using: .utf8),
           let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
           let error = object["error"] as? String {
            return error
        }
        return String(text.prefix(300)).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    static func describe(_ error: any Error) -> String {
        if error is CancellationError { return "cancelled: the agent is stopping" }
        if (error as? HTTPClientError) == .cancelled { return "cancelled: the agent is stopping" }
        if let error = error as? HTTPClientError {
            switch error {
            case .connectTimeout: return "connect timed out"
            case .readTimeout, .deadlineExceeded: return "timed out"
            case .remoteConnectionClosed: return "the server closed the connection"
            default: return "\(error)"
            }
        }
        return "\(error)"
    }

    static func amount(_ duration: Duration) -> TimeAmount {
        let (seconds, attoseconds) = duration.components
        return .nanoseconds(seconds * 1_000_000_000 + attoseconds / 1_000_000_000)
    }
}

/// Cuts the agent's write in progress short when the agent stops, and every write after it.
public final class WriteInterruption: Sendable {
    private let state = Mutex<(interrupted: Bool, task: HTTPClient.Task<HTTPClient.Response>?)>((false, nil))

    public init() {}

    /// Cancels the request in progress and refuses the next ones.
    public func interrupt() {
        let task = state.withLock { state in
            state.interrupted = true
            return state.task
        }
        task?.cancel()
    }

    /// Whether ``interrupt()`` was called.
    public var isInterrupted: Bool { state.withLock { $0.interrupted } }

    /// Notes the request in progress; false (and the request cancelled) once interrupted.
    func register(_ task: HTTPClient.Task<HTTPClient.Response>) -> Bool {
        let interrupted = state.withLock { state in
            state.task = task
            return state.interrupted
        }
        if interrupted { task.cancel() }
        return !interrupted
    }

    func unregister() { state.withLock { $0.task = nil } }
}
