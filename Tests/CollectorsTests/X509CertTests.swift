import Foundation
import LogTesting
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
        return try collector.gather(GatherContext(time: now, timeout: .seconds(5), logger: log.logger))
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
            "san": "localhost,127.0.0.1", "verification": "valid", "type": "leaf",
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
        #expect(root.tags["type"] == "root")
        #expect(field(root, "enddate")!.numeric! - field(root, "startdate")!.numeric! == 30 * 86_400)
    }

    @Test("type: root when self-signed, intermediate for a CA inside a chain that verified, leaf otherwise (Telegraf's classification)")
    func type() throws {
        let pki = try TestPKI()
        defer { pki.remove() }
        // root → intermediate → leaf, served as one bundle: leaf first, as a server sends it.
        try "basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,cRLSign\n"
            .write(toFile: pki.directory + "/inter.ext", atomically: true, encoding: .utf8)
        let ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
        try pki.run(["req"] + ec + ["-keyout", "inter.key", "-out", "inter.csr", "-subj", "/O=Tock Test CA/CN=Tock Test Intermediate"])
        try pki.run(["x509", "-req", "-in", "inter.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-set_serial", "7",
                     "-days", "20", "-sha256", "-extfile", "inter.ext", "-out", "inter.pem"])
        try pki.run(["req"] + ec + ["-keyout", "leaf2.key", "-out", "leaf2.csr", "-subj", "/CN=localhost"])
        try pki.run(["x509", "-req", "-in", "leaf2.csr", "-CA", "inter.pem", "-CAkey", "inter.key", "-set_serial", "8",
                     "-days", "10", "-sha256", "-extfile", "leaf.ext", "-out", "leaf2.pem"])
        let chain = pki.directory + "/chain.pem"
        try (["leaf2.pem", "inter.pem", "ca.pem"].map { try String(contentsOfFile: pki.directory + "/" + $0, encoding: .utf8) })
            .joined().write(toFile: chain, atomically: true, encoding: .utf8)

        let trusted = try gather(["sources": .strings([chain]), "tls_ca": .string(pki.ca)])
        #expect(trusted.map { $0.tags["common_name"] } == ["localhost", "Tock Test Intermediate", "Tock Test Root"])
        #expect(trusted.map { $0.tags["verification"] } == ["valid", "valid", "valid"])
        #expect(trusted.map { $0.tags["type"] } == ["leaf", "intermediate", "root"])

        // Nothing verifies without the root: only the self-signed root is known for what it is.
        let untrusted = try gather(["sources": .strings([chain])])
        #expect(untrusted.map { $0.tags["verification"] } == ["invalid", "invalid", "invalid"])
        #expect(untrusted.map { $0.tags["type"] } == ["leaf", "leaf", "root"])
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

    @Test("files: file:// URLs and plain paths, tagged as Telegraf's file URLs; a bundle gives one point per certificate")
    func files() throws {
        let pki = try TestPKI()
        defer { pki.remove() }
        let points = try gather(["sources": .strings(["file://" + pki.leaf, pki.bundle]), "tls_ca": .string(pki.ca)])
        #expect(points.map { $0.tags["source"] } == ["file://" + pki.leaf, "file://" + pki.bundle, "file://" + pki.bundle])
        #expect(points.map { $0.tags["common_name"] } == ["localhost", "localhost", "Tock Test Root"])
        #expect(points.allSatisfy { $0.tags["verification"] == "valid" })
    }

    @Test("globs: *, ? and ** match files, each tagged by its own file URL, in name order; a glob matching nothing is logged")
    func globs() throws {
        let pki = try TestPKI()
        defer { pki.remove() }
        try FileManager.default.createDirectory(atPath: pki.directory + "/sub/deeper", withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: pki.leaf, toPath: pki.directory + "/sub/deeper/site.pem")
        try FileManager.default.copyItem(atPath: pki.ca, toPath: pki.directory + "/sub/root.crt")
        let top = try gather(["sources": .strings([pki.directory + "/*.pem"])])
        let d = "file://" + pki.directory
        #expect(top.map { $0.tags["source"] } == [d + "/bundle.pem", d + "/bundle.pem", d + "/ca.pem", d + "/leaf.pem"])
        #expect(top.map { $0.tags["common_name"] } == ["localhost", "Tock Test Root", "Tock Test Root", "localhost"])

        let deep = try gather(["sources": .strings(["file://" + pki.directory + "/**/*.pem"])])
        #expect(deep.map { $0.tags["source"] } == [d + "/bundle.pem", d + "/bundle.pem", d + "/ca.pem", d + "/leaf.pem",
                                                   d + "/sub/deeper/site.pem"], "** matches no directory, or any number")
        let oneChar = try gather(["sources": .strings([pki.directory + "/sub/roo?.crt", pki.directory + "/**.pem"])])
        #expect(oneChar.map { $0.tags["source"] } == [d + "/sub/root.crt", d + "/bundle.pem", d + "/bundle.pem", d + "/ca.pem",
                                                      d + "/leaf.pem", d + "/sub/deeper/site.pem"], "a/**.pem is a/**/*.pem, as Telegraf rewrites it")
        let log = LogLines()
        let some = try gather(["sources": .strings([pki.leaf, pki.directory + "/*.der"])], log: log)
        #expect(some.count == 1)
        #expect(log.all.contains { $0.0 == .error && $0.1.contains("could not find file: \(pki.directory)/*.der") })
    }

    @Test("FileGlob: elements, classes, ** at any depth, plain paths, no directory link followed by **")
    func fileGlob() throws {
        let root = NSTemporaryDirectory() + "tock-glob-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: root) }
        for path in ["a/x1.pem", "a/x2.pem", "a/.hidden.pem", "a/b/c/x3.pem", "b/y.pem"] {
            try FileManager.default.createDirectory(atPath: root + "/" + (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            _ = FileManager.default.createFile(atPath: root + "/" + path, contents: Data())
        }
        try FileManager.default.createSymbolicLink(atPath: root + "/a/loop", withDestinationPath: root + "/a")
        #expect(FileGlob.matches(root + "/a/x[12].pem") == [root + "/a/x1.pem", root + "/a/x2.pem"])
        #expect(FileGlob.matches(root + "/a/*.pem") == [root + "/a/.hidden.pem", root + "/a/x1.pem", root + "/a/x2.pem"])
        #expect(FileGlob.matches(root + "/**/x3.pem") == [root + "/a/b/c/x3.pem"])
        #expect(FileGlob.matches(root + "/*/y.pem") == [root + "/b/y.pem"])
        #expect(FileGlob.matches(root + "/a/x1.pem") == [root + "/a/x1.pem"])
        #expect(FileGlob.matches(root + "/a/missing.pem") == [])
        #expect(FileGlob.matches(root + "/a/**/*.pem").count == 4, "the link back to a/ is not walked")
        #expect(FileGlob.problem("/etc/[ab.pem") != nil)
        #expect(FileGlob.problem("/etc/[ab].pem") == nil)
    }

    @Test("exclude_root_certs: only the first certificate of each source is reported, as Telegraf stops after it")
    func excludeRootCerts() throws {
        let pki = try TestPKI()
        defer { pki.remove() }
        let files = try gather(["sources": .strings([pki.bundle, pki.ca]), "exclude_root_certs": .bool(true), "tls_ca": .string(pki.ca)])
        #expect(files.map { $0.tags["common_name"] } == ["localhost", "Tock Test Root"], "the bundle's leaf, and the CA file's only certificate")
        #expect(files[0].tags["verification"] == "valid", "still verified with the chain it came with")
        let (server, port) = try pki.server()
        defer { kill(server.processIdentifier, SIGKILL); server.waitUntilExit() }  // s_server does not stop on SIGTERM
        let served = try gather(["sources": .strings(["https://127.0.0.1:\(port)"]), "exclude_root_certs": .bool(true), "tls_ca": .string(pki.ca)])
        #expect(served.map { $0.tags["common_name"] } == ["localhost"])
        #expect(served[0].tags["verification"] == "valid")
    }

    /// `starttls_smtp.py` on a free loopback port, serving the leaf and the CA; its port, and what it said so far.
    final class SMTPServer: @unchecked Sendable {
        let process: Process
        let output: Pipe
        let port: UInt16
        private let lock = NSLock()
        private var text = ""

        init(_ pki: TestPKI, _ flags: [String] = []) throws {
            let process = Process(), output = Pipe()
            process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            process.arguments = ["python3", fixtures + "/starttls_smtp.py", pki.bundle, pki.leafKey] + flags
            process.standardOutput = output
            process.standardError = FileHandle.nullDevice
            try process.run()
            var first = ""
            while !first.hasSuffix("\n") {
                let byte = output.fileHandleForReading.readData(ofLength: 1)
                guard !byte.isEmpty else { throw CollectorError("test", "starttls_smtp.py did not start") }
                first += String(decoding: byte, as: UTF8.self)
            }
            guard let port = UInt16(first.trimmingCharacters(in: .whitespacesAndNewlines)) else {
                kill(process.processIdentifier, SIGKILL)
                throw CollectorError("test", "starttls_smtp.py printed \(first), not a port")
            }
            self.process = process
            self.output = output
            self.port = port
            output.fileHandleForReading.readabilityHandler = { [weak self] handle in
                let data = handle.availableData
                guard let self, !data.isEmpty else { return }
                self.lock.withLock { self.text += String(decoding: data, as: UTF8.self) }
            }
        }

        var said: String {
            usleep(100_000)
            return lock.withLock { text }
        }

        func stop() {
            output.fileHandleForReading.readabilityHandler = nil
            // SIGKILL: the test process's children inherit its blocked SIGTERM (as openssl s_server does above).
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
    }

    @Test("smtp://: the greeting, EHLO with the server's name, STARTTLS, then the chain of the TLS handshake")
    func smtpStartTLS() throws {
        let pki = try TestPKI()
        defer { pki.remove() }
        let server = try SMTPServer(pki)
        defer { server.stop() }
        let source = "smtp://127.0.0.1:\(server.port)"
        let points = try gather(["sources": .strings([source]), "tls_ca": .string(pki.ca), "server_name": .string("localhost")])
        #expect(points.map { $0.tags["common_name"] } == ["localhost", "Tock Test Root"])
        #expect(points.allSatisfy { $0.tags["source"] == source })
        #expect(points.map { $0.tags["verification"] } == ["valid", "valid"])
        let said = server.said
        #expect(said.contains("got EHLO localhost\ngot STARTTLS\n"), "\(said)")
        // smtp+starttls:// is the same source; exclude_root_certs keeps the leaf.
        let alias = try gather(["sources": .strings(["smtp+starttls://127.0.0.1:\(server.port)"]), "exclude_root_certs": .bool(true)])
        #expect(alias.map { $0.tags["common_name"] } == ["localhost"])
    }

    @Test("smtp://: a server without EHLO is greeted with HELO; one that refuses STARTTLS is an error naming the reply")
    func smtpRefusals() throws {
        let pki = try TestPKI()
        defer { pki.remove() }
        let helo = try SMTPServer(pki, ["--no-ehlo"])
        defer { helo.stop() }
        let points = try gather(["sources": .strings(["smtp://127.0.0.1:\(helo.port)"])])
        #expect(points.count == 2)
        #expect(helo.said.contains("got EHLO 127.0.0.1\ngot HELO 127.0.0.1\ngot STARTTLS"), "the source's host names the client, as in Telegraf")

        let refusing = try SMTPServer(pki, ["--refuse"])
        defer { refusing.stop() }
        #expect {
            try gather(["sources": .strings(["smtp://127.0.0.1:\(refusing.port)"]), "timeout": .string("2s")])
        } throws: { error in
            let message = (error as? CollectorError)?.message ?? ""
            return message.contains("did not get 220 after STARTTLS") && message.contains("454")
        }
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
        #expect(log.all.contains { $0.1.contains("could not find file: /nonexistent/cert.pem") })
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
        #expect {
            try X509CertCollector.make(["sources": .strings(["udp://127.0.0.1:4433"])])
        } throws: { ($0 as? CollectorError)?.message.contains("udp:// sources (certificates over DTLS) are not supported") == true }
        #expect(throws: CollectorError.self) { try X509CertCollector.make(["sources": .strings(["smtp://mail.example.org"])]) }
        #expect(throws: CollectorError.self) { try X509CertCollector.make(["sources": .strings(["/etc/ssl/[abc.pem"])]) }
        #expect(throws: CollectorError.self) { try X509CertCollector.make(["sources": .strings(["/a.pem"]), "exclude_root_certs": .string("yes")]) }
        #expect(throws: CollectorError.self) {
            try X509CertCollector.make(["sources": .strings(["/a.pem"]), "server_name": .string("a"), "tls_server_name": .string("b")])
        }
        #expect(throws: CollectorError.self) { try X509CertCollector.make(["sources": .strings(["/a.pem"]), "timeout": .string("never")]) }
        #expect(throws: CollectorError.self) { try X509CertCollector.make(["sources": .strings(["/a.pem"]), "tls_cert": .string("/c.pem")]) }
        #expect(throws: CollectorError.self) { try X509CertCollector.make(["sources": .strings(["/a.pem"]), "source": .string("/b.pem")]) }
    }
}
