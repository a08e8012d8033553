import NIOSSL

/// TLS client settings from a section's `ssl-ca`, `ssl-cert`, `ssl-key` and `insecure-skip-verify`, as Kapacitor's
/// `tlsconfig.Create` reads them.
struct WireTLS: Sendable, Hashable {
    var ca = ""
    var cert = ""
    var key = ""
    var insecureSkipVerify = false

    /// The client configuration; names the section and the file that cannot be read.
    func configuration(section: String) throws(WireError) -> TLSConfiguration {
        var tls = TLSConfiguration.makeClientConfiguration()
        do {
            if !ca.isEmpty { tls.trustRoots = .certificates(try NIOSSLCertificate.fromPEMFile(ca)) }
        } catch { throw WireError("[\(section)] ssl-ca \(ca): \(error)") }
        if cert.isEmpty != key.isEmpty {
            throw WireError("[\(section)] ssl-cert and ssl-key must be given together")
        }
        if !cert.isEmpty {
            do { tls.certificateChain = try NIOSSLCertificate.fromPEMFile(cert).map { .certificate($0) } } catch {
                throw WireError("[\(section)] ssl-cert \(cert): \(error)")
            }
            do { tls.privateKey = .privateKey(try NIOSSLPrivateKey(file: key, format: .pem)) } catch {
                throw WireError("[\(section)] ssl-key \(key): \(error)")
            }
        }
        if insecureSkipVerify { tls.certificateVerification = .none }
        return tls
    }
}
