import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import NIOSSL

/// Outbound HTTP for every HTTP-based alert service: one pooled client for the process, and one classification of
/// answers into delivered, retryable and permanent, as Alertmanager's notifiers classify them.
public enum AlertHTTP {
    /// The process's client for alert deliveries (connection reuse across events and services).
    public static let shared = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration())

    /// The configuration of every alert client: redirects followed, a 10 s connect timeout, and a refused or failed
    /// connection reported at once (the delivery path retries with its own backoff, so the client must not retry
    /// connecting until its timeout, as async-http-client does by default).
    public static func configuration(tls: TLSConfiguration? = nil) -> HTTPClient.Configuration {
        var c = HTTPClient.Configuration(
            tlsConfiguration: tls, redirectConfiguration: .follow(max: 5, allowCycles: false),
            timeout: .init(connect: .seconds(10)), decompression: .enabled(limit: .ratio(20)))
        c.connectionPool.retryConnectionEstablishment = false
        return c
    }

    /// The default time one attempt may take.
    public static let defaultTimeout: Duration = .seconds(30)

    /// An answer the receiver gave.
    public struct Response: Sendable {
        public var status: Int
        public var headers: [(String, String)]
        /// At most 64 KiB of the body.
        public var body: [UInt8]
        public var text: String { String(decoding: body, as: UTF8.self) }
    }

    /// Sends one request and classifies the outcome: 2xx is returned; a connection error, a timeout, a 5xx or a 429
    /// is retryable (after `Retry-After` when the receiver gives one); any other status is permanent. Errors name the
    /// method, the URL and the first 512 bytes of the receiver's answer.
    public static func send(
        _ method: HTTPMethod = .POST, url: String, headers: [(String, String)] = [], body: [UInt8]? = nil,
        timeout: Duration = defaultTimeout, client: HTTPClient = shared
    ) async throws(DeliveryFailure) -> Response {
        var request = HTTPClientRequest(url: url)
        request.method = method
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        if let body { request.body = .bytes(ByteBuffer(bytes: body)) }
        let what = "\(method.rawValue) \(redacting(url))"
        let response: HTTPClientResponse
        var collected: ByteBuffer
        do {
            response = try await client.execute(request, timeout: .nanoseconds(Int64(timeout.components.seconds) * 1_000_000_000
                + timeout.components.attoseconds / 1_000_000_000))
            collected = try await response.body.collect(upTo: 64 << 10)
        } catch let error as NIOTooManyBytesError {
            throw .permanent("\(what): the answer is larger than 64 KiB (\(error))")
        } catch {
            throw .retryable("\(what) failed: \(describe(error))")
        }
        let bytes = collected.readBytes(length: collected.readableBytes) ?? []
        let result = Response(status: Int(response.status.code), headers: response.headers.map { ($0.name, $0.value) }, body: bytes)
        switch result.status {
        case 200..<300:
            return result
        case 429, 500..<600:
            let after = response.headers.first(name: "Retry-After").flatMap(Int.init).map { Duration.seconds($0) }
            throw .retryable("\(what) returned status \(result.status)\(excerpt(bytes))", after: after)
        default:
            throw .permanent("\(what) returned status \(result.status)\(excerpt(bytes))")
        }
    }

    /// JSON POST: `Content-Type: application/json` and the given headers.
    public static func postJSON(
        url: String, body: [UInt8], headers: [(String, String)] = [], timeout: Duration = defaultTimeout
    ) async throws(DeliveryFailure) -> Response {
        try await send(.POST, url: url, headers: [("Content-Type", "application/json")] + headers, body: body, timeout: timeout)
    }

    static func excerpt(_ body: [UInt8]) -> String {
        let text = String(decoding: body.prefix(512), as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        return text.isEmpty ? "" : ": \(text)"
    }

    /// The URL without its query string and user info, which often hold tokens (Slack and Teams hooks carry theirs in
    /// the path, so the path is cut after its first segment too).
    static func redacting(_ url: String) -> String {
        guard var parts = URLComponents(string: url) else { return url }
        parts.query = nil
        parts.user = nil
        parts.password = nil
        let segments = parts.path.split(separator: "/")
        let cut = segments.count > 2
        if cut { parts.path = "/" + segments.prefix(2).joined(separator: "/") + "/" }
        return (parts.string ?? url) + (cut ? "…" : "")
    }

    static func describe(_ error: any Error) -> String {
        if let e = error as? HTTPClientError, e == .deadlineExceeded || e == .readTimeout || e == .connectTimeout {
            return "timed out"
        }
        // NIO's text for a refused connect is "connection reset (error set): Connection refused) (errno: 111)".
        if let e = error as? IOError { return String(cString: strerror(e.errnoCode)).lowercased() }
        return String(describing: error)
    }
}
