import Foundation
import Glibc
import Testing
import TockModel
@testable import Collectors

/// A private CA and a leaf certificate it signed, made with the openssl program in a temporary directory.
struct TestPKI {
    let directory: String
    var ca: String { directory + "/ca.pem" }
    var leaf: String { directory + "/leaf.pem" }
    var leafKey: String { directory + "/leaf.key" }
    var bundle: String { directory + "/bundle.pem" }

    static let openssl: String? = ["/usr/bin/openssl", "/bin/openssl", "/usr/local/bin/openssl"].first { access($0, X_OK) == 0 }

    init() throws {
        directory = NSTemporaryDirectory() + "tock-x509-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        try "subjectAltName=DNS:localhost,IP:127.0.0.1\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n"
            .write(toFile: directory + "/leaf.ext", atomically: true, encoding: .utf8)
        let ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
        try run(["req", "-x509"] + ec + ["-keyout", "ca.key", "-out", "ca.pem", "-days", "30",
                                         "-subj", "/C=FR/O=Tock Test CA/CN=Tock Test Root"])
        try run(["req"] + ec + ["-keyout", "leaf.key", "-out", "leaf.csr",
                                "-subj", "/C=FR/ST=Ile-de-France/L=Paris/O=Tock/OU=Probes/CN=localhost"])
        try run(["x509", "-req", "-in", "leaf.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-set_serial", "0x1f2e",
                 "-days", "10", "-sha256", "-extfile", "leaf.ext", "-out", "leaf.pem"])
        let both = try String(contentsOfFile: leaf, encoding: .utf8) + String(contentsOfFile: ca, encoding: .utf8)
        try both.write(toFile: bundle, atomically: true, encoding: .utf8)
    }

    func run(_ arguments: [String]) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: Self.openssl!)
        process.arguments = arguments
        process.currentDirectoryURL = URL(fileURLWithPath: directory)
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { throw CollectorError("test", "openssl \(arguments.prefix(2)) failed") }
    }

    /// `openssl s_server` on a free loopback port, presenting the leaf and the CA; stopped by the caller.
    func server() throws -> (Process, UInt16) {
        let port = freePort()
        let process = Process()
        process.executableURL = URL(fileURLWithPath: Self.openssl!)
        process.arguments = ["s_server", "-accept", "127.0.0.1:\(port)", "-cert", leaf, "-key", leafKey, "-cert_chain", ca, "-www", "-quiet"]
        process.standardInput = Pipe()
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        // Ready when it accepts connections.
        for _ in 0..<100 {
            if NetResponseCollector.connect(host: "127.0.0.1", port: String(port), udp: false, timeout: 100_000_000).map({ close($0) }) != nil {
                return (process, port)
            }
            usleep(50_000)
        }
        kill(process.processIdentifier, SIGKILL)
        throw CollectorError("test", "openssl s_server did not start")
    }

    func remove() { try? FileManager.default.removeItem(atPath: directory) }
}

func freePort() -> UInt16 {
    let (fd, port) = loopbackSocket(Int32(SOCK_STREAM.rawValue))
    close(fd)
    return port
}

@Suite("x509_cert: certificates of a TLS server and of PEM files", .enabled(if: TestPKI.openssl != nil, "no openssl program to make test certificates"))
struct X509CertTests {
    var now: Timestamp { Timestamp(Date().timeIntervalSince1970 * 1e9) }

    func gather(_ options: [String: CollectorOptions.Value], log: LogLines = LogLines()) throws -> [Point] {
        var collector = try X509CertCollector.make(options)
        return try collector.gather(GatherContext(time: now, timeout: .seconds(5), log: { log.append($0, $1) }))
    }

    @Test("https: one point per certificate of the served chain, with Telegraf's tags; valid against tls_ca")
    func server() throws {
        let pki = try TestPKI()
        defer { pki.remove() }
        let (server, port) = try pki.server()
        defer { kill(server.processIdentifier, SIGKILL); server.waitUntilExit() }  // s_server does not stop on SIGTERM
        let source = "https://127.0.0.1:\(port)"
        let points = try gather(["sources": .strings([source]), "tls_ca": .string(pki.ca)])
        #expect(points.count == 2)
        let leaf = try #require(points.first)
        #expect(leaf.name == "x509_cert")
        #expect(leaf.tags.dictionary == [
            "source": source, "common_name": "localhost", "country": "FR", "province": "Ile-de-France", "locality": "Paris",
            "organization": "Tock", "organizational_unit": "Probes", "serial_number": "1f2e",
            "signature_algorithm": "ECDSA-SHA256", "public_key_algorithm": "ECDSA", "issuer_common_name": "Tock Test Root",
            "san": "localhost,127.0.0.1", "verification": "valid",
        ])
        #expect(field(leaf, "verification_code") == .int(0))
        #expect(field(leaf, "verification_error") == nil)
        let start = try #require(field(leaf, "startdate")?.numeric)
        let end = try #require(field(leaf, "enddate")?.numeric)
        #expect(end - start == 10 * 86_400)
        let expiry = try #require(field(leaf, "expiry")?.numeric)
        #expect(abs(expiry - (end - Double(now) / 1e9)) < 60)
        #expect((field(leaf, "age")?.numeric ?? -1) >= 0)

        let root = points[1]
        #expect(root.tags["common_name"] == "Tock Test Root")
        #expect(root.tags["issuer_common_name"] == "Tock Test Root")
        #expect(root.tags["organization"] == "Tock Test CA")
        #expect(root.tags["verification"] == "valid")
        #expect(field(root, "enddate")!.numeric! - field(root, "startdate")!.numeric! == 30 * 86_400)
    }

    @Test("https: without the CA among the roots, or for another server name, the chain is invalid with an error")
    func invalid() throws {
        let pki = try TestPKI()
        defer { pki.remove() }
        let (server, port) = try pki.server()
        defer { kill(server.processIdentifier, SIGKILL); server.waitUntilExit() }  // s_server does not stop on SIGTERM
        let untrusted = try gather(["sources": .strings(["tcp://127.0.0.1:\(port)"])])
        #expect(untrusted.count == 2)
        #expect(untrusted.allSatisfy { $0.tags["verification"] == "invalid" })
        #expect(field(untrusted[0], "verification_code") == .int(1))
        #expect(!(field(untrusted[0], "verification_error").flatMap { if case .string(let s) = $0 { s } else { nil } } ?? "").isEmpty)

        let elsewhere = try gather(["sources": .strings(["https://127.0.0.1:\(port)"]), "tls_ca": .string(pki.ca),
                                    "server_name": .string("www.example.org")])
        #expect(elsewhere[0].tags["verification"] == "invalid", "the leaf names localhost and 127.0.0.1 only")
        #expect(elsewhere[1].tags["verification"] == "valid", "the CA is checked without a name")
    }

    @Test("files: file:// URLs and plain paths; a bundle gives one point per certificate")
    func files() throws {
        let pki = try TestPKI()
        defer { pki.remove() }
        let points = try gather(["sources": .strings(["file://" + pki.leaf, pki.bundle]), "tls_ca": .string(pki.ca)])
        #expect(points.map { $0.tags["source"] } == ["file://" + pki.leaf, pki.bundle, pki.bundle])
        #expect(points.map { $0.tags["common_name"] } == ["localhost", "localhost", "Tock Test Root"])
        #expect(points.allSatisfy { $0.tags["verification"] == "valid" })
    }

    @Test("failures: a missing file and a closed port are logged, the others still reported; all failing fails the gather")
    func failures() throws {
        let pki = try TestPKI()
        defer { pki.remove() }
        let log = LogLines()
        let closed = freePort()
        let points = try gather(["sources": .strings([pki.leaf, "/nonexistent/cert.pem", "https://127.0.0.1:\(closed)"]),
                                 "timeout": .string("1s")], log: log)
        #expect(points.count == 1)
        #expect(log.all.filter { $0.0 == .error }.count == 2)
        #expect(log.all.contains { $0.1.contains("cannot get SSL cert '/nonexistent/cert.pem'") })
        #expect(throws: CollectorError.self) { try gather(["sources": .strings(["/nonexistent/cert.pem"])]) }
    }

    @Test("a server that never completes the handshake is given up at the timeout")
    func silentServer() throws {
        let (fd, port) = loopbackSocket(Int32(SOCK_STREAM.rawValue))
        defer { close(fd) }
        listen(fd, 4)   // connections complete in the kernel, and nobody ever answers
        let started = ContinuousClock.now
        #expect {
            try gather(["sources": .strings(["https://127.0.0.1:\(port)"]), "timeout": .string("300ms")])
        } throws: { ($0 as? CollectorError)?.message.contains("no TLS handshake within") == true }
        #expect(ContinuousClock.now - started < .seconds(3))
    }

    @Test("settings: sources required, schemes checked, server_name and tls_server_name exclusive, unknown options refused")
    func settings() {
        #expect(throws: CollectorError.self) { try X509CertCollector.make([:]) }
        #expect(throws: CollectorError.self) { try X509CertCollector.make(["sources": .strings(["smtp://mail.example.org:25"])]) }
        #expect(throws: CollectorError.self) {
            try X509CertCollector.make(["sources": .strings(["/a.pem"]), "server_name": .string("a"), "tls_server_name": .string("b")])
        }
        #expect(throws: CollectorError.self) { try X509CertCollector.make(["sources": .strings(["/a.pem"]), "timeout": .string("never")]) }
        #expect(throws: CollectorError.self) { try X509CertCollector.make(["sources": .strings(["/a.pem"]), "tls_cert": .string("/c.pem")]) }
        #expect(throws: CollectorError.self) { try X509CertCollector.make(["sources": .strings(["/a.pem"]), "source": .string("/b.pem")]) }
    }
}
