#if canImport(Glibc)
import Glibc
#endif
import Foundation
import NIOCore
import NIOPosix
import NIOSSL
import SwiftASN1
import Synchronization
import TockModel
import X509

/// Telegraf's `x509_cert` input: reads the certificates of each of `sources` — the chain a TLS server presents
/// (`https://host:port`, `tcp://host:port`) or the PEM certificates of a file (`file:///path`, or a plain path) — and
/// reports one `x509_cert` point per certificate with `age`, `expiry`, `startdate`, `enddate` (seconds),
/// `verification_code` (0 valid, 1 invalid) and `verification_error`, tagged `source`, the subject's
/// `common_name`, `country`, `province`, `locality`, `organization`, `organizational_unit`, `serial_number`,
/// `signature_algorithm`, `public_key_algorithm`, `issuer_common_name`, `issuer_serial_number`, `san` and
/// `verification` (`valid`/`invalid`).
///
/// As in Telegraf, the chain is read without checking it, then each certificate is verified against `tls_ca` (or
/// the system's roots): the first with the others as intermediates and `server_name` (else the source's host) as
/// its name, the others on their own.
public struct X509CertCollector: Collector {
    public static let name = "x509_cert"
    public static let summary = "TLS certificates of servers and files: expiry, age, verification, subject tags"

    let sources: [String]
    /// Nanoseconds; `nil` takes the section's timeout.
    let timeout: Int64?
    let serverName: String
    let caFile: String
    let certFile: String
    let keyFile: String

    public init(options: CollectorOptions) throws(CollectorError) {
        var o = options
        sources = try o.strings("sources", default: [])
        guard !sources.isEmpty else { throw CollectorError(Self.name, "sources is empty: name at least one certificate source") }
        for source in sources {
            guard let url = Self.location(source) else { throw CollectorError(Self.name, "source \"\(source)\" is not a URL or a path") }
            guard ["https", "tcp", "tcp4", "tcp6", "file"].contains(url.scheme ?? "") else {
                throw CollectorError(Self.name, "unsupported scheme '\(url.scheme ?? "")' in source \(source) (https, tcp, file or a path)")
            }
            if url.scheme != "file" && url.host == nil { throw CollectorError(Self.name, "source \"\(source)\" has no host") }
        }
        let text = try o.string("timeout", default: "")
        if text.isEmpty {
            timeout = nil
        } else {
            guard let ns = GoDuration.parse(text), ns > 0 else { throw CollectorError(Self.name, "timeout \"\(text)\" is not a duration") }
            timeout = ns
        }
        let serverName = try o.string("server_name", default: "")
        let tlsServerName = try o.string("tls_server_name", default: "")
        if !serverName.isEmpty && !tlsServerName.isEmpty {
            throw CollectorError(Self.name, "both server_name (\"\(serverName)\") and tls_server_name (\"\(tlsServerName)\") are set, but they are mutually exclusive")
        }
        self.serverName = serverName.isEmpty ? tlsServerName : serverName
        caFile = try o.string("tls_ca", default: "")
        certFile = try o.string("tls_cert", default: "")
        keyFile = try o.string("tls_key", default: "")
        if certFile.isEmpty != keyFile.isEmpty { throw CollectorError(Self.name, "tls_cert and tls_key go together") }
        // Accepted for Telegraf's configurations: the chain is always read unchecked, then verified on its own.
        _ = try o.bool("insecure_skip_verify", default: false)
        try o.finish()
    }

    /// A source as a URL: plain paths are files.
    static func location(_ source: String) -> URL? {
        if source.hasPrefix("/") { return URL(fileURLWithPath: source) }
        return URL(string: source)
    }

    public mutating func gather(_ context: GatherContext) throws(CollectorError) -> [Point] {
        let now = Date(timeIntervalSince1970: Double(context.time) / 1e9)
        let timeout = self.timeout ?? context.timeout.nanosecondsValue
        var roots: [Certificate]?
        if !caFile.isEmpty {
            do { roots = try Self.readPEM(caFile) } catch {
                throw CollectorError(Self.name, "cannot read tls_ca \(caFile): \(error)")
            }
        }
        var points: [Point] = []
        var failures: [String] = []
        for source in sources {
            guard let url = Self.location(source) else { continue }
            let certificates: [Certificate]
            do {
                certificates = try fetch(url, timeout: timeout)
            } catch {
                failures.append("cannot get SSL cert '\(source)': \(error)")
                continue
            }
            let name = url.scheme == "file" ? "" : (serverName.isEmpty ? (url.host ?? "") : serverName)
            for (index, certificate) in certificates.enumerated() {
                var tags = Self.tags(certificate, source: source)
                var fields: [(String, FieldValue)] = [
                    ("age", .int(Int64(now.timeIntervalSince(certificate.notValidBefore)))),
                    ("expiry", .int(Int64(certificate.notValidAfter.timeIntervalSince(now)))),
                    ("startdate", .int(Int64(certificate.notValidBefore.timeIntervalSince1970))),
                    ("enddate", .int(Int64(certificate.notValidAfter.timeIntervalSince1970))),
                ]
                let intermediates = index == 0 ? Array(certificates.dropFirst()) : []
                if let error = Self.verify(certificate, intermediates: intermediates, roots: roots,
                                           name: index == 0 ? name : "") {
                    tags["verification"] = "invalid"
                    fields += [("verification_code", .int(1)), ("verification_error", .string(error))]
                } else {
                    tags["verification"] = "valid"
                    fields.append(("verification_code", .int(0)))
                }
                points.append(Point(name: "x509_cert", tags: Tags(tags.filter { !$0.value.isEmpty }), fields: Fields(fields), time: context.time))
            }
        }
        if !failures.isEmpty {
            if points.isEmpty { throw CollectorError(Self.name, failures.joined(separator: "; ")) }
            for failure in failures { context.log(.error, "x509_cert: \(failure)") }
        }
        return points
    }

    /// Telegraf's tags of one certificate (empty values are left out, as line protocol has no empty tags).
    static func tags(_ certificate: Certificate, source: String) -> [String: String] {
        let subject = attributes(certificate.subject)
        let issuer = attributes(certificate.issuer)
        var tags = ["source": source,
                    "common_name": subject[ASN1ObjectIdentifier.RDNAttributeType.commonName]?.last ?? "",
                    "serial_number": hex(certificate.serialNumber.bytes),
                    "signature_algorithm": signatureAlgorithm(certificate.signatureAlgorithm),
                    "public_key_algorithm": publicKeyAlgorithm(certificate.publicKey),
                    "issuer_common_name": issuer[ASN1ObjectIdentifier.RDNAttributeType.commonName]?.last ?? "",
                    "issuer_serial_number": issuer[serialNumberAttribute]?.last ?? ""]
        let firsts: [(String, ASN1ObjectIdentifier)] = [
            ("organization", ASN1ObjectIdentifier.RDNAttributeType.organizationName), ("organizational_unit", ASN1ObjectIdentifier.RDNAttributeType.organizationalUnitName),
            ("country", ASN1ObjectIdentifier.RDNAttributeType.countryName), ("province", ASN1ObjectIdentifier.RDNAttributeType.stateOrProvinceName),
            ("locality", ASN1ObjectIdentifier.RDNAttributeType.localityName),
        ]
        for (tag, type) in firsts { if let value = subject[type]?.first { tags[tag] = value } }
        // Go's order: DNS names, e-mail addresses, IP addresses, URIs.
        var dns: [String] = [], email: [String] = [], ips: [String] = [], uris: [String] = []
        if let names = try? certificate.extensions.subjectAlternativeNames {
            for name in names {
                switch name {
                case .dnsName(let n): dns.append(n)
                case .rfc822Name(let n): email.append(n)
                case .uniformResourceIdentifier(let n): uris.append(n)
                case .ipAddress(let octets): ips.append(ipText(Array(octets.bytes)))
                default: break
                }
            }
        }
        tags["san"] = (dns + email + ips + uris).joined(separator: ",")
        return tags
    }

    /// The subject's `serialNumber` attribute (X.520), which Go reads into `pkix.Name.SerialNumber`.
    static let serialNumberAttribute: ASN1ObjectIdentifier = [2, 5, 4, 5]

    /// Each attribute type's values, in order.
    static func attributes(_ name: DistinguishedName) -> [ASN1ObjectIdentifier: [String]] {
        var result: [ASN1ObjectIdentifier: [String]] = [:]
        for rdn in name {
            for attribute in rdn {
                result[attribute.type, default: []].append(String(attribute.value) ?? attribute.value.description)
            }
        }
        return result
    }

    /// Go's `big.Int.Text(16)`: lower-case hexadecimal without leading zeros.
    static func hex(_ bytes: ArraySlice<UInt8>) -> String {
        let text = bytes.map { String($0, radix: 16).count == 1 ? "0" + String($0, radix: 16) : String($0, radix: 16) }.joined()
        let trimmed = text.drop { $0 == "0" }
        return trimmed.isEmpty ? "0" : String(trimmed)
    }

    static func ipText(_ bytes: [UInt8]) -> String {
        if bytes.count == 4 { return bytes.map(String.init).joined(separator: ".") }
        guard bytes.count == 16 else { return bytes.map { String($0, radix: 16) }.joined(separator: ":") }
        var address = in6_addr()
        withUnsafeMutableBytes(of: &address) { $0.copyBytes(from: bytes) }
        var buffer = [CChar](repeating: 0, count: 64)
        guard inet_ntop(AF_INET6, &address, &buffer, socklen_t(buffer.count)) != nil else { return "" }
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// Go's `x509.SignatureAlgorithm.String()`.
    static func signatureAlgorithm(_ algorithm: Certificate.SignatureAlgorithm) -> String {
        switch algorithm {
        case .sha1WithRSAEncryption: "SHA1-RSA"
        case .sha256WithRSAEncryption: "SHA256-RSA"
        case .sha384WithRSAEncryption: "SHA384-RSA"
        case .sha512WithRSAEncryption: "SHA512-RSA"
        case .ecdsaWithSHA256: "ECDSA-SHA256"
        case .ecdsaWithSHA384: "ECDSA-SHA384"
        case .ecdsaWithSHA512: "ECDSA-SHA512"
        case .ed25519: "Ed25519"
        default: "\(algorithm)"
        }
    }

    /// Go's `x509.PublicKeyAlgorithm.String()`.
    static func publicKeyAlgorithm(_ key: Certificate.PublicKey) -> String {
        let text = key.description
        if text.hasPrefix("RSA") { return "RSA" }
        if text.hasPrefix("Ed25519") { return "Ed25519" }
        if text.hasPrefix("P256") || text.hasPrefix("P384") || text.hasPrefix("P521") { return "ECDSA" }
        return text
    }

    static func readPEM(_ path: String) throws -> [Certificate] {
        try NIOSSLCertificate.fromPEMFile(path).map { try Certificate(derEncoded: $0.toDERBytes()) }
    }

    // MARK: reading and verifying

    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    func fetch(_ url: URL, timeout: Int64) throws -> [Certificate] {
        if url.scheme == "file" {
            let certificates = try Self.readPEM(url.path)
            guard !certificates.isEmpty else { throw Failure(description: "failed to parse certificate PEM") }
            return certificates
        }
        let host = url.host ?? ""
        let port = url.port ?? 443
        let name = serverName.isEmpty ? host : serverName
        var configuration = TLSConfiguration.makeClientConfiguration()
        if !certFile.isEmpty {
            configuration.certificateChain = try NIOSSLCertificate.fromPEMFile(certFile).map { .certificate($0) }
            configuration.privateKey = .privateKey(try NIOSSLPrivateKey(file: keyFile, format: .pem))
        }
        return try Self.peerChain(host: host, port: port, serverName: name, configuration: configuration, timeout: timeout)
            .map { try Certificate(derEncoded: $0) }
    }

    /// The DER certificates a TLS server presents, leaf first, read during a handshake that accepts any chain; all
    /// within `timeout`.
    static func peerChain(host: String, port: Int, serverName: String, configuration: TLSConfiguration, timeout: Int64) throws -> [[UInt8]] {
        var configuration = configuration
        configuration.certificateVerification = .noHostnameVerification
        let context = try NIOSSLContext(configuration: configuration)
        let group = MultiThreadedEventLoopGroup.singleton
        let chain = group.next().makePromise(of: [[UInt8]].self)
        let sni = serverName.isIPAddress ? nil : serverName
        let deadline = NIODeadline.now() + .nanoseconds(timeout)
        let bootstrap = ClientBootstrap(group: group)
            .connectTimeout(.nanoseconds(timeout))
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    let handler = try NIOSSLClientHandler(context: context, serverHostname: sni, customVerificationCallback: { certificates, verdict in
                        chain.completeWith(Result { try certificates.map { try $0.toDERBytes() } })
                        verdict.succeed(.certificateVerified)
                    })
                    try channel.pipeline.syncOperations.addHandler(handler)
                    try channel.pipeline.syncOperations.addHandler(HandshakeWatcher(chain: chain))
                }
            }
        let timer = group.next().scheduleTask(deadline: deadline) {
            chain.fail(Failure(description: "no TLS handshake within \(GoDuration.format(timeout))"))
        }
        defer { timer.cancel() }
        let connected = bootstrap.connect(host: host, port: port)
        connected.whenFailure { chain.fail($0) }
        defer { connected.whenSuccess { $0.close(promise: nil) } }
        return try chain.futureResult.wait()
    }

    /// Fails the chain's promise when the connection fails or closes before the server sent its certificates.
    final class HandshakeWatcher: ChannelInboundHandler, Sendable {
        typealias InboundIn = NIOAny
        let chain: EventLoopPromise<[[UInt8]]>

        init(chain: EventLoopPromise<[[UInt8]]>) { self.chain = chain }

        func errorCaught(context: ChannelHandlerContext, error: any Error) {
            chain.fail(error)
            context.close(promise: nil)
        }

        func channelInactive(context: ChannelHandlerContext) {
            chain.fail(Failure(description: "the server closed the connection during the TLS handshake"))
            context.fireChannelInactive()
        }
    }

    /// Why `certificate` does not verify (`nil` when it does): a chain to `roots` (the system's when `nil`) through
    /// `intermediates`, valid now, and for `name` when it is not empty.
    static func verify(_ certificate: Certificate, intermediates: [Certificate], roots: [Certificate]?, name: String) -> String? {
        let store = roots.map { CertificateStore($0) } ?? CertificateStore.systemTrustRoots
        let result = Mutex<CertificateValidationResult?>(nil)
        let done = DispatchSemaphore(value: 0)
        // The verifier is async, but only computes. It runs on a queue of its own, so that waiting for it here
        // cannot starve the cooperative pool when the gather itself was called from it (as tests do).
        Task(executorPreference: VerifierExecutor.shared) {
            var verifier = Verifier(rootCertificates: store) {
                // Checks validity at this moment (the fixed-time variant is SPI); a gather's time is now.
                RFC5280Policy()
                if !name.isEmpty {
                    ServerIdentityPolicy(serverHostname: name.isIPAddress ? nil : name, serverIP: name.isIPAddress ? name : nil)
                }
            }
            let outcome = await verifier.validate(leaf: certificate, intermediates: CertificateStore(intermediates))
            result.withLock { $0 = outcome }
            done.signal()
        }
        done.wait()
        switch result.withLock({ $0 }) {
        case .validCertificate?: return nil
        case .couldNotValidate(let failures)?:
            if failures.isEmpty { return "x509: certificate signed by unknown authority" }
            return failures.map { $0.policyFailureReason.description }.joined(separator: "; ")
        case nil: return "verification did not finish"
        }
    }
}

/// A task executor on a dispatch queue of its own, for the certificate verifier.
final class VerifierExecutor: TaskExecutor, @unchecked Sendable {
    static let shared = VerifierExecutor()
    let queue = DispatchQueue(label: "tock.x509_cert.verify")

    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        queue.async { job.runSynchronously(on: self.asUnownedTaskExecutor()) }
    }
}

extension String {
    /// Whether the string is an IPv4 or IPv6 address.
    var isIPAddress: Bool {
        var v4 = in_addr(), v6 = in6_addr()
        return inet_pton(AF_INET, self, &v4) == 1 || inet_pton(AF_INET6, self, &v6) == 1
    }
}
