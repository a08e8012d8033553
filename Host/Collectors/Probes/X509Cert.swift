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

/// Telegraf's `x509_cert` input: reads the certificates of each of `sources` (see ``X509Source``) — the chain a TLS
/// server presents (`https://host:port`, `tcp://host:port`), the chain a mail server presents after `STARTTLS`
/// (`smtp://host:port`), or the PEM certificates of the files a path or a glob names (`file:///path/*.pem`, or a
/// plain absolute path) — and reports one `x509_cert` point per certificate with `age`, `expiry`, `startdate`,
/// `enddate` (seconds), `verification_code` (0 valid, 1 invalid) and `verification_error`, tagged `source` (the URL;
/// `file:///path` for each file a glob matched), the subject's `common_name`, `country`, `province`, `locality`,
/// `organization`, `organizational_unit`, `serial_number`, `signature_algorithm`, `public_key_algorithm`,
/// `issuer_common_name`, `issuer_serial_number`, `san`, `verification` (`valid`/`invalid`) and `type`.
///
/// `type` is Telegraf's classification: `root` for a self-signed certificate, `intermediate` for a CA certificate
/// met inside a chain that verified (`unknown` when such a certificate is not a CA), `leaf` otherwise. As in Telegraf
/// a classification is remembered across gathers (by signature), so an intermediate served by a server whose own
/// certificate does not verify stays `leaf` until some chain through it verifies. The stapled OCSP tags
/// (`ocsp_stapled`, `ocsp_status`, …) are not reported: swift-nio-ssl does not hand over the stapled response.
///
/// As in Telegraf, the chain is read without checking it, then each certificate is verified against `tls_ca` (or
/// the system's roots): the first with the others as intermediates and `server_name` (else the source's host) as
/// its name, the others on their own. `exclude_root_certs = true` reports only the first certificate of each
/// source (Telegraf stops after it, so intermediates are left out as well as roots). Each network source may take
/// `timeout` (default 5 s); they are read one after the other.
public struct X509CertCollector: Collector {
    public static let name = "x509_cert"
    public static let summary = "TLS certificates of servers (TLS, SMTP STARTTLS) and files: expiry, age, verification, subject tags"

    let sources: [(text: String, source: X509Source)]
    /// Nanoseconds.
    let timeout: Int64
    let serverName: String
    let caFile: String
    let certFile: String
    let keyFile: String
    let excludeRootCerts: Bool
    /// Telegraf's `type` of the certificates seen so far, by signature (at most ``classificationLimit``).
    var classification: [Certificate.Signature: String] = [:]
    static let classificationLimit = 4096

    public init(options: CollectorOptions) throws(CollectorError) {
        var o = options
        let texts = try o.strings("sources", default: [])
        guard !texts.isEmpty else { throw CollectorError(Self.name, "sources is empty: name at least one certificate source") }
        var sources: [(String, X509Source)] = []
        for text in texts { sources.append((text, try X509Source.parse(text))) }
        self.sources = sources
        timeout = try o.duration("timeout", default: 5 * GoDuration.second)
        guard timeout > 0 else { throw CollectorError(Self.name, "timeout must be more than 0") }
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
        excludeRootCerts = try o.bool("exclude_root_certs", default: false)
        // Accepted for Telegraf's configurations: the chain is always read unchecked, then verified on its own.
        _ = try o.bool("insecure_skip_verify", default: false)
        try o.finish()
    }

    /// `timeout` is each connection's, as in Telegraf.
    public static var ownsTimeoutOption: Bool { true }

    /// A `timeout` per network source (they are read in turn); files take no time worth bounding.
    public var gatherBound: Duration? {
        .nanoseconds(timeout * Int64(max(1, sources.filter { $0.source.isNetwork }.count)))
    }

    public mutating func gather(_ context: GatherContext) throws(CollectorError) -> [Point] {
        let now = Date(timeIntervalSince1970: Double(context.time) / 1e9)
        // Within the section's bound too (a gather-timeout shorter than timeout), less a moment to report in time.
        let timeout = min(self.timeout, max(GoDuration.millisecond, context.timeout.nanosecondsValue - 50 * GoDuration.millisecond))
        var roots: [Certificate]?
        if !caFile.isEmpty {
            do { roots = try Self.readPEM(caFile) } catch {
                throw CollectorError(Self.name, "cannot read tls_ca \(caFile): \(error)")
            }
        }
        var points: [Point] = []
        var failures: [String] = []
        for (text, source) in sources {
            var read: [(location: String, certificates: [Certificate], name: String)] = []
            switch source {
            case .files(let pattern):
                let paths = FileGlob.matches(pattern)
                if paths.isEmpty {
                    failures.append("could not find file: \(pattern)")
                    continue
                }
                for path in paths {
                    do {
                        let certificates = try Self.readPEM(path)
                        guard !certificates.isEmpty else { throw X509SourceFailure(description: "failed to parse certificate PEM") }
                        read.append(("file://" + path, certificates, ""))
                    } catch {
                        failures.append("cannot get SSL cert '\("file://" + path)': \(error)")
                    }
                }
            case .tls(let host, _, let location), .smtp(let host, _, let location):
                do {
                    read.append((location, try fetch(source, timeout: timeout), serverName.isEmpty ? host : serverName))
                } catch {
                    failures.append("cannot get SSL cert '\(text)': \(error)")
                }
            }
            for (location, certificates, name) in read {
                points += self.points(certificates, location: location, name: name, roots: roots, now: now, time: context.time)
            }
        }
        if !failures.isEmpty {
            if points.isEmpty { throw CollectorError(Self.name, failures.joined(separator: "; ")) }
            for failure in failures { context.logger.error("x509_cert: \(failure)") }
        }
        return points
    }

    /// The points of one source's certificates (only the first with `exclude_root_certs`).
    mutating func points(_ certificates: [Certificate], location: String, name: String, roots: [Certificate]?, now: Date,
                         time: Timestamp) -> [Point] {
        var points: [Point] = []
        for (index, certificate) in certificates.enumerated() {
            var tags = Self.tags(certificate, source: location)
            var fields: [(String, FieldValue)] = [
                ("age", .int(Int64(now.timeIntervalSince(certificate.notValidBefore)))),
                ("expiry", .int(Int64(certificate.notValidAfter.timeIntervalSince(now)))),
                ("startdate", .int(Int64(certificate.notValidBefore.timeIntervalSince1970))),
                ("enddate", .int(Int64(certificate.notValidAfter.timeIntervalSince1970))),
            ]
            let intermediates = index == 0 ? Array(certificates.dropFirst()) : []
            switch Self.verify(certificate, intermediates: intermediates, roots: roots, name: index == 0 ? name : "") {
            case .failure(let error):
                tags["verification"] = "invalid"
                fields += [("verification_code", .int(1)), ("verification_error", .string(error.reason))]
                classify(certificate, chain: [])
            case .success(let chain):
                tags["verification"] = "valid"
                fields.append(("verification_code", .int(0)))
                classify(certificate, chain: chain)
            }
            tags["type"] = classification[certificate.signature] ?? "leaf"
            points.append(Point(name: "x509_cert", tags: Tags(tags.filter { !$0.value.isEmpty }), fields: Fields(fields), time: time))
            if excludeRootCerts { break }
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

    /// Notes Telegraf's classification of `certificate` (a root when self-signed) and of the certificates after the
    /// first in the chain it verified with (intermediates or roots), keeping any classification made before.
    mutating func classify(_ certificate: Certificate, chain: [Certificate]) {
        if classification.count >= Self.classificationLimit { classification = [:] }
        if Self.isSelfSigned(certificate) { classification[certificate.signature] = "root" }
        for member in chain.dropFirst() where classification[member.signature] == nil {
            let isCA: Bool
            if case .isCertificateAuthority? = try? member.extensions.basicConstraints { isCA = true } else { isCA = false }
            classification[member.signature] = !isCA ? "unknown" : Self.isSelfSigned(member) ? "root" : "intermediate"
        }
    }

    /// Whether the certificate's signature verifies with its own public key.
    static func isSelfSigned(_ certificate: Certificate) -> Bool {
        certificate.publicKey.isValidSignature(certificate.signature, for: certificate)
    }

    /// Why a certificate does not verify.
    struct VerificationFailure: Error {
        var reason: String
    }

    /// The chain `certificate` verifies with (itself first, a root last), or why it does not: a chain to `roots` (the
    /// system's when `nil`) through `intermediates`, valid now, and for `name` when it is not empty.
    static func verify(_ certificate: Certificate, intermediates: [Certificate], roots: [Certificate]?,
                       name: String) -> Result<[Certificate], VerificationFailure> {
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
        case .validCertificate(let chain)?: return .success(Array(chain))
        case .couldNotValidate(let failures)?:
            if failures.isEmpty { return .failure(VerificationFailure(reason: "x509: certificate signed by unknown authority")) }
            return .failure(VerificationFailure(reason: failures.map { $0.policyFailureReason.description }.joined(separator: "; ")))
        case nil: return .failure(VerificationFailure(reason: "verification did not finish"))
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
