import AsyncHTTPClient
import Engine
import Foundation
import LineProtocol
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL
import Synchronization
import TockModel

/// One `[[influxdb]]` cluster: its URLs, credentials, TLS and timeout, over the process's shared HTTP client.
///
/// A request goes to the URL that last answered; when that one cannot be reached, the next ones are tried in
/// turn (as Kapacitor's client moves to the next URL after a failure). A timeout is not retried elsewhere: the
/// request may have been carried out.
public final class InfluxDBCluster: Sendable {
    public let configuration: InfluxDBConfiguration
    let client: HTTPClient
    let tls: TLSConfiguration?
    let authorization: String?
    /// The index of the URL to try first.
    private let current: Mutex<Int>

    /// The largest response body read; a bigger one is an error rather than memory without bound.
    public static let maximumResponseSize = 256 * 1024 * 1024

    init(configuration: InfluxDBConfiguration, client: HTTPClient) throws(InfluxDBConfigurationError) {
        self.configuration = configuration
        self.client = client
        self.current = Mutex(0)
        if configuration.username.isEmpty && configuration.password.isEmpty {
            authorization = nil
        } else {
            let credentials = Data("\(configuration.username):\(configuration.password)".utf8).base64EncodedString()
            authorization = "Basic \(credentials)"
        }
        tls = try Self.tlsConfiguration(configuration)
    }

    static func tlsConfiguration(_ c: InfluxDBConfiguration) throws(InfluxDBConfigurationError) -> TLSConfiguration? {
        guard c.insecureSkipVerify || !c.sslCA.isEmpty || !c.sslCert.isEmpty else { return nil }
        var tls = TLSConfiguration.makeClientConfiguration()
        if c.insecureSkipVerify { tls.certificateVerification = .none }
        do {
            if !c.sslCA.isEmpty {
                tls.trustRoots = .certificates(try NIOSSLCertificate.fromPEMFile(c.sslCA))
            }
        } catch {
            throw InfluxDBConfigurationError(key: "ssl-ca", message: "cannot read PEM certificates from \"\(c.sslCA)\": \(error)")
        }
        if !c.sslCert.isEmpty {
            do {
                tls.certificateChain = try NIOSSLCertificate.fromPEMFile(c.sslCert).map { .certificate($0) }
            } catch {
                throw InfluxDBConfigurationError(key: "ssl-cert", message: "cannot read PEM certificate from \"\(c.sslCert)\": \(error)")
            }
            do {
                tls.privateKey = .privateKey(try NIOSSLPrivateKey(file: c.sslKey, format: .pem))
            } catch {
                throw InfluxDBConfigurationError(key: "ssl-key", message: "cannot read PEM private key from \"\(c.sslKey)\": \(error)")
            }
        }
        return tls
    }

    /// The section's `name`.
    public var name: String { configuration.name }

    // MARK: Requests

    /// An answer from InfluxDB: the status and the body.
    struct Reply {
        var status: Int
        var body: ByteBuffer
        var url: String
    }

    /// Sends a request to the cluster, failing over to the next URL while they cannot be reached.
    /// - Parameters:
    ///   - path: `/query`, `/write` or `/ping`.
    ///   - parameters: the query string's parameters, in order.
    func send(method: HTTPMethod, path: String, parameters: [(String, String)], body: [UInt8]? = nil,
              contentType: String? = nil) async throws(InfluxDBError) -> Reply {
        let urls = configuration.urls
        let first = current.withLock { $0 } % max(urls.count, 1)
        var lastError = InfluxDBError(.unreachable, "influxdb cluster \"\(name)\": no URL configured")
        for attempt in 0..<urls.count {
            let index = (first + attempt) % urls.count
            do {
                let reply = try await send(to: urls[index], method: method, path: path, parameters: parameters,
                                           body: body, contentType: contentType)
                if attempt > 0 { current.withLock { $0 = index } }
                return reply
            } catch where error.kind == .unreachable {
                lastError = error
            }
        }
        throw lastError
    }

    private func send(to base: String, method: HTTPMethod, path: String, parameters: [(String, String)], body: [UInt8]?,
                      contentType: String?) async throws(InfluxDBError) -> Reply {
        var components = URLComponents(string: base)
        let basePath = components?.path ?? ""
        components?.path = (basePath.hasSuffix("/") ? String(basePath.dropLast()) : basePath) + path
        components?.queryItems = parameters.isEmpty ? nil : parameters.map { URLQueryItem(name: $0.0, value: $0.1) }
        // `+` in a value must reach InfluxDB as a plus, not a space.
        let encodedQuery = components?.percentEncodedQuery?.replacingOccurrences(of: "+", with: "%2B")
        components?.percentEncodedQuery = encodedQuery
        guard let url = components?.string else {
            throw InfluxDBError(.unreachable, "influxdb cluster \"\(name)\": \"\(base)\" is not a URL")
        }
        var request = HTTPClientRequest(url: url)
        request.method = method
        if let authorization { request.headers.add(name: "Authorization", value: authorization) }
        if let contentType { request.headers.add(name: "Content-Type", value: contentType) }
        request.headers.add(name: "User-Agent", value: "Tock")
        if let body { request.body = .bytes(body) }
        request.tlsConfiguration = tls
        let timeout = configuration.timeout
        let deadline: NIODeadline = timeout > 0 ? .now() + .nanoseconds(timeout) : .distantFuture
        do {
            let response = try await client.execute(request, deadline: deadline)
            let bytes = try await response.body.collect(upTo: Self.maximumResponseSize)
            return Reply(status: Int(response.status.code), body: bytes, url: base)
        } catch let error as HTTPClientError where error == .deadlineExceeded || error == .readTimeout {
            throw InfluxDBError(.timeout, "influxdb cluster \"\(name)\": no answer from \(base) within \(GoDuration.format(timeout))")
        } catch let error as HTTPClientError where error == .connectTimeout {
            throw InfluxDBError(.unreachable, "influxdb cluster \"\(name)\": cannot connect to \(base): connection timed out")
        } catch let error as NIOTooManyBytesError {
            throw InfluxDBError(.rejected(status: 0), "influxdb cluster \"\(name)\": the answer of \(base) is larger than \(error.maxBytes.map(String.init) ?? "the limit") bytes")
        } catch {
            throw InfluxDBError(.unreachable, "influxdb cluster \"\(name)\": cannot reach \(base): \(Self.describe(error))")
        }
    }

    static func describe(_ error: any Error) -> String {
        var error = error
        if let connection = error as? NIOConnectionError, let first = connection.connectionErrors.first { error = first.error }
        if let io = error as? IOError { return String(cString: strerror(io.errnoCode)).lowercased() }
        return "\(error)"
    }

    /// The `error` of a JSON body (`{"error":"…"}`), or the body itself.
    static func errorText(_ body: ByteBuffer) -> String {
        struct ErrorBody: Decodable { var error: String? }
        let data = Data(body.readableBytesView)
        if let decoded = try? JSONDecoder().decode(ErrorBody.self, from: data), let error = decoded.error { return error }
        return String(decoding: data.prefix(1000), as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    // MARK: Operations

    /// `GET /ping`: throws unless InfluxDB answers.
    public func ping() async throws(InfluxDBError) {
        let reply = try await send(method: .GET, path: "/ping", parameters: [])
        guard reply.status / 100 == 2 else {
            throw InfluxDBError(.rejected(status: reply.status),
                                "influxdb cluster \"\(name)\": /ping answered \(reply.status): \(Self.errorText(reply.body))")
        }
    }

    /// Runs one InfluxQL query (`POST /query`, `epoch=ns`) and returns its first statement's series.
    public func query(_ query: InfluxQuery) async throws(InfluxDBError) -> [QuerySeries] {
        var parameters = [("q", query.text)]
        if let db = query.database, !db.isEmpty { parameters.append(("db", db)) }
        if let rp = query.retentionPolicy, !rp.isEmpty { parameters.append(("rp", rp)) }
        parameters.append(("epoch", "ns"))
        let reply = try await send(method: .POST, path: "/query", parameters: parameters)
        do {
            return try QueryResultDecoder.decode(reply.body, status: reply.status)
        } catch {
            switch error {
            case .rejected(let status, let text):
                throw InfluxDBError(.rejected(status: status),
                                    "influxdb cluster \"\(name)\": query \(Self.quoted(query.text)) failed: \(text)")
            case .malformed(let text):
                throw InfluxDBError(.rejected(status: reply.status),
                                    "influxdb cluster \"\(name)\": the answer to query \(Self.quoted(query.text)) is not InfluxDB's JSON: \(text)")
            }
        }
    }

    /// Writes points (`POST /write`) in line protocol at the write's precision.
    public func write(_ write: InfluxWrite) async throws(InfluxDBError) {
        guard let precision = Precision(write.precision) else {
            throw InfluxDBError(.rejected(status: 0), "influxdb cluster \"\(name)\": invalid precision \"\(write.precision)\" (n, u, ms, s, m, h)")
        }
        let body: [UInt8]
        do {
            body = try LineProtocolSerializer(precision: precision).serialize(write.points)
        } catch {
            throw InfluxDBError(.rejected(status: 0), "influxdb cluster \"\(name)\": cannot write to \"\(write.database)\": \(error)")
        }
        guard !body.isEmpty else { return }
        var parameters = [("db", write.database)]
        if !write.retentionPolicy.isEmpty { parameters.append(("rp", write.retentionPolicy)) }
        parameters.append(("precision", precision.rawValue))
        if !write.writeConsistency.isEmpty { parameters.append(("consistency", write.writeConsistency)) }
        let reply = try await send(method: .POST, path: "/write", parameters: parameters, body: body,
                                   contentType: "text/plain; charset=utf-8")
        guard reply.status / 100 == 2 else {
            let target = write.retentionPolicy.isEmpty ? "\"\(write.database)\"" : "\"\(write.database)\".\"\(write.retentionPolicy)\""
            throw InfluxDBError(.rejected(status: reply.status),
                                "influxdb cluster \"\(name)\": write to \(target) failed (\(reply.status)): \(Self.errorText(reply.body))")
        }
    }

    /// `CREATE DATABASE "db"`, with `WITH NAME "rp"` for a retention policy other than `autogen` (Kapacitor's
    /// influxDBOut `.create()`); when the database exists already without that policy, the policy is created
    /// (`DURATION INF REPLICATION 1`).
    public func createDatabase(_ database: String, retentionPolicy: String?) async throws(InfluxDBError) {
        let rp = retentionPolicy ?? ""
        var text = "CREATE DATABASE \(Self.quoteIdentifier(database))"
        if !rp.isEmpty && rp != "autogen" { text += " WITH NAME \(Self.quoteIdentifier(rp))" }
        do {
            _ = try await query(InfluxQuery(cluster: name, text: text))
        } catch where error.kind == .rejected(status: 0) && !rp.isEmpty {
            let policies = try await query(InfluxQuery(cluster: name, text: "SHOW RETENTION POLICIES ON \(Self.quoteIdentifier(database))"))
            let names = policies.flatMap { series in
                series.values.compactMap { row -> String? in
                    guard let i = series.columns.firstIndex(of: "name"), i < row.count, case .string(let s)? = row[i] else { return nil }
                    return s
                }
            }
            guard !names.contains(rp) else { return }
            _ = try await query(InfluxQuery(
                cluster: name,
                text: "CREATE RETENTION POLICY \(Self.quoteIdentifier(rp)) ON \(Self.quoteIdentifier(database)) DURATION INF REPLICATION 1"))
        }
    }

    /// An InfluxQL identifier in double quotes (influxql.QuoteIdent).
    public static func quoteIdentifier(_ s: String) -> String { InfluxQL.quoteIdentifier(s) }

    /// An InfluxQL string literal in single quotes.
    public static func quoteString(_ s: String) -> String { InfluxQL.quoteString(s) }

    static func quoted(_ text: String) -> String {
        text.count > 200 ? "\"\(text.prefix(200))…\"" : "\"\(text)\""
    }
}
