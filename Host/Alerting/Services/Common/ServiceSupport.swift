import AsyncHTTPClient
import Engine
import Foundation
import NIOSSL
import TockModel

/// Helpers the HTTP services share: redaction as Kapacitor's config API shows it, the "not enabled" error, and the
/// TLS-configured clients of sections with `ssl-ca`/`ssl-cert`/`ssl-key`/`insecure-skip-verify`.
enum ServiceSupport {
    /// A secret as `GET /kapacitor/v1/config` shows it: `true` when set, `false` when empty (Kapacitor's
    /// `override:",redact"` fields).
    static func redacted(_ secret: String) -> ConfigValue { .bool(!secret.isEmpty) }

    /// The define-time error of a handler whose section is disabled.
    static func notEnabled(_ section: String, workspace: String? = nil) -> HandlerOptionError {
        let which = workspace.map { "[[\(section)]] workspace \"\($0)\"" } ?? "[\(section)]"
        return HandlerOptionError("\(which) is not enabled: set enabled = true in kapacitor.conf to use the \(section) handler")
    }

    /// Prefixes a delivery failure with the destination.
    static func failure(_ f: DeliveryFailure, _ service: String) -> DeliveryFailure {
        DeliveryFailure(f.kind, "\(service): \(f.reason)")
    }

    /// Go's `path.Join(u.Path, segments...)` on a URL: slashes collapsed, no trailing slash.
    static func joiningPath(_ url: String, _ segments: [String]) -> String {
        guard var parts = URLComponents(string: url) else { return url }
        let joined = ([parts.percentEncodedPath] + segments).joined(separator: "/")
        parts.percentEncodedPath = "/" + joined.split(separator: "/").joined(separator: "/")
        return parts.string ?? url
    }

    /// Refuses a URL that is not http(s) with a host, naming the section and key.
    static func checkURL(_ url: String, key: String, section: String) throws(ConfigError) {
        guard let u = URL(string: url), let scheme = u.scheme?.lowercased(), scheme == "http" || scheme == "https",
              u.host != nil
        else { throw ConfigError("[\(section)] \(key): invalid URL \"\(url)\": want http:// or https://") }
    }
}

/// TLS settings of a section (`ssl-ca`, `ssl-cert`, `ssl-key`, `insecure-skip-verify`).
struct TLSSettings: Sendable, Hashable {
    var ca = ""
    var cert = ""
    var key = ""
    var insecureSkipVerify = false

    var isDefault: Bool { ca.isEmpty && cert.isEmpty && key.isEmpty && !insecureSkipVerify }

    init() {}

    init(_ r: inout ConfigReader) throws(ConfigError) {
        ca = try r.string("ssl-ca")
        cert = try r.string("ssl-cert")
        key = try r.string("ssl-key")
        insecureSkipVerify = try r.bool("insecure-skip-verify")
        if cert.isEmpty != key.isEmpty {
            throw ConfigError("[\(r.section)] ssl-cert and ssl-key go together: give both or neither")
        }
        for (k, path) in [("ssl-ca", ca), ("ssl-cert", cert), ("ssl-key", key)] where !path.isEmpty {
            guard FileManager.default.isReadableFile(atPath: path) else {
                throw ConfigError("[\(r.section)] \(k): cannot read \(path)")
            }
        }
    }

    func write(to table: inout ConfigTable) {
        table["ssl-ca"] = .string(ca)
        table["ssl-cert"] = .string(cert)
        table["ssl-key"] = .string(key)
        table["insecure-skip-verify"] = .bool(insecureSkipVerify)
    }

    /// The shared client when nothing is set, else one client per distinct setting for the process's life.
    func client(section: String) throws(ConfigError) -> HTTPClient {
        if isDefault { return AlertHTTP.shared }
        do {
            return try TLSClients.cache.client(for: self)
        } catch {
            throw ConfigError("[\(section)] TLS settings: \(error)")
        }
    }
}

/// Clients with a section's TLS settings, made once per distinct setting and kept for the process's life (a client
/// must be shut down before it is released, and sections are re-read whenever the config API changes them).
final class TLSClients: @unchecked Sendable {
    static let cache = TLSClients()
    private let lock = NSLock()
    private var clients: [TLSSettings: HTTPClient] = [:]

    func client(for s: TLSSettings) throws -> HTTPClient {
        lock.lock()
        defer { lock.unlock() }
        if let c = clients[s] { return c }
        var tls = TLSConfiguration.makeClientConfiguration()
        if !s.ca.isEmpty { tls.trustRoots = .file(s.ca) }
        if !s.cert.isEmpty {
            tls.certificateChain = try NIOSSLCertificate.fromPEMFile(s.cert).map { .certificate($0) }
            tls.privateKey = .file(s.key)
        }
        if s.insecureSkipVerify { tls.certificateVerification = .none }
        let c = HTTPClient(eventLoopGroupProvider: .singleton, configuration: AlertHTTP.configuration(tls: tls))
        clients[s] = c
        return c
    }
}

extension ServiceSupport {
    /// One JSON POST, a failure's reason prefixed with the service's description.
    static func postJSON(url: String, body: [UInt8], headers: [(String, String)] = [], service: String) async throws(DeliveryFailure) {
        do {
            _ = try await AlertHTTP.postJSON(url: url, body: body, headers: headers)
        } catch {
            throw failure(error, service)
        }
    }
}
