import AsyncHTTPClient
import NIOSSL

/// The HTTP client the probes (`http_response`, `prometheus`, `scraper`) use for one gather: its timeouts, TLS
/// verification (trusting the PEM file `ca` when given) and redirect policy from the collector's options. Shut down
/// by the caller when the gather ends.
enum ProbeHTTP {
    static func client(timeout: Int64, insecure: Bool, followRedirects: Bool = false, ca: String = "",
                       collector: String = "") throws(CollectorError) -> HTTPClient {
        var tls = TLSConfiguration.makeClientConfiguration()
        if insecure { tls.certificateVerification = .none }
        if !ca.isEmpty {
            do { tls.trustRoots = .certificates(try NIOSSLCertificate.fromPEMFile(ca)) } catch {
                throw CollectorError(collector, "ssl-ca: cannot read PEM certificates from \(ca): \(error)")
            }
        }
        var configuration = HTTPClient.Configuration(tlsConfiguration: tls,
                                                     redirectConfiguration: followRedirects ? .follow(max: 10, allowCycles: false) : .disallow)
        configuration.timeout = .init(connect: .nanoseconds(timeout), read: .nanoseconds(timeout))
        return HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
    }
}
