import AsyncHTTPClient
import NIOSSL

/// The HTTP client the probes (`http_response`, `prometheus`) use for one gather: its timeouts, TLS verification
/// and redirect policy from the collector's options. Shut down by the caller when the gather ends.
enum ProbeHTTP {
    static func client(timeout: Int64, insecure: Bool, followRedirects: Bool = false) -> HTTPClient {
        var tls = TLSConfiguration.makeClientConfiguration()
        if insecure { tls.certificateVerification = .none }
        var configuration = HTTPClient.Configuration(tlsConfiguration: tls,
                                                     redirectConfiguration: followRedirects ? .follow(max: 10, allowCycles: false) : .disallow)
        configuration.timeout = .init(connect: .nanoseconds(timeout), read: .nanoseconds(timeout))
        return HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
    }
}
