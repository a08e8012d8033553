import Foundation
import NIOSSL

/// `[http] https-enabled`: the server's TLS settings from Kapacitor's `https-certificate` (PEM: the
/// certificate, then any chain, optionally the private key) and `https-private-key` (PEM; empty: the key is
/// in the certificate file).
enum ServerTLS {
    static func configuration(certificate: String, privateKey: String) throws(ConfigurationError) -> TLSConfiguration {
        let keyFile = privateKey.isEmpty ? certificate : privateKey
        let chain: [NIOSSLCertificate]
        do { chain = try NIOSSLCertificate.fromPEMFile(certificate) } catch {
            throw ConfigurationError("[http] https-certificate \(certificate): cannot read a PEM certificate: \(error)")
        }
        guard !chain.isEmpty else {
            throw ConfigurationError("[http] https-certificate \(certificate): the file holds no PEM certificate")
        }
        let key: NIOSSLPrivateKey
        do { key = try NIOSSLPrivateKey(file: keyFile, format: .pem) } catch {
            let setting = privateKey.isEmpty ? "https-certificate (no https-private-key given)" : "https-private-key"
            throw ConfigurationError("[http] \(setting) \(keyFile): cannot read a PEM private key: \(error)")
        }
        return TLSConfiguration.makeServerConfiguration(certificateChain: chain.map { .certificate($0) },
                                                        privateKey: .privateKey(key))
    }
}
