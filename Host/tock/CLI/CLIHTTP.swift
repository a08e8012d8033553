import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL
import Synchronization

/// How the CLI trusts an `https://` server: the system's roots by default, a CA file (`-ca`), or no
/// verification at all (`-skipVerify`, for a self-signed certificate on a trusted network).
struct ClientTLSOptions: Sendable, Hashable {
    var skipVerify = false
    var caFile: String?
}

/// The CLI's outbound HTTP: async-http-client, one pooled client per process and trust setting (a command uses one),
/// so a verb that makes many requests (paging, polling a replay) reuses its connection.
enum CLIHTTP {
    struct Reply: Sendable {
        var status: Int
        var headers: [String: String]
        var body: Data
    }

    struct TransportError: Error, CustomStringConvertible {
        let description: String
    }

    /// Clients live as long as the process (statics are never torn down, so none needs shutting down).
    private static let clients = Mutex<[ClientTLSOptions: HTTPClient]>([:])

    static func client(_ tls: ClientTLSOptions) throws -> HTTPClient {
        try clients.withLock { clients in
            if let client = clients[tls] { return client }
            var configuration = TLSConfiguration.makeClientConfiguration()
            if tls.skipVerify { configuration.certificateVerification = .none }
            if let ca = tls.caFile {
                guard FileManager.default.isReadableFile(atPath: ca) else {
                    throw TransportError(description: "cannot read the CA file \(ca)")
                }
                configuration.trustRoots = .file(ca)
            }
            var c = HTTPClient.Configuration(tlsConfiguration: configuration, timeout: .init(connect: .seconds(10)))
            // A refused connection is reported at once, not retried until the timeout.
            c.connectionPool.retryConnectionEstablishment = false
            let client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: c)
            clients[tls] = client
            return client
        }
    }

    static func send(method: String, url: URL, headers: [(String, String)], body: Data?, tls: ClientTLSOptions,
                     timeout: TimeAmount = .seconds(60)) async throws -> Reply {
        var request = HTTPClientRequest(url: url.absoluteString)
        request.method = HTTPMethod(rawValue: method)
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        if let body { request.body = .bytes(ByteBuffer(bytes: body)) }
        let response = try await client(tls).execute(request, timeout: timeout)
        var collected = try await response.body.collect(upTo: 1 << 30)
        var fields: [String: String] = [:]
        for field in response.headers { fields[field.name.lowercased()] = field.value }
        return Reply(status: Int(response.status.code), headers: fields,
                     body: Data(collected.readBytes(length: collected.readableBytes) ?? []))
    }

    /// What went wrong, for "cannot reach the server at …".
    static func describe(_ error: any Error) -> String {
        if error is NIOSSLError || error is BoringSSLError || error is NIOSSLExtraError {
            return "TLS failure: \(error) (for a self-signed certificate pass -ca FILE or -skipVerify)"
        }
        if let e = error as? HTTPClientError, e == .deadlineExceeded || e == .readTimeout || e == .connectTimeout {
            return "no answer in time (\(e))"
        }
        // NIO's text for a refused connect is "connection reset (error set): Connection refused) (errno: 111)".
        if let e = error as? IOError { return String(cString: strerror(e.errnoCode)).lowercased() }
        if let e = error as? NIOConnectionError {
            if let dns = e.dnsAAAAError ?? e.dnsAError { return "cannot resolve \(e.host): \(dns)" }
            if let first = e.connectionErrors.first { return describe(first.error) }
        }
        return "\(error)"
    }
}
