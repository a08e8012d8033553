import Engine
import Foundation
import InfluxDB
import InfluxDBTesting
import Testing
import TockModel
#if canImport(Glibc)
import Glibc
#endif

/// TLS to InfluxDB, against `openssl s_server -www` (an HTTPS server answering every GET with 200) holding a
/// self-signed certificate for 127.0.0.1.
@Suite("InfluxDB client over TLS", .serialized,
       .enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/openssl"), "openssl is not installed"))
struct TLSTests {
    final class HTTPSServer {
        let directory: String
        let port: Int
        let process: Process
        var certificate: String { directory + "/cert.pem" }

        init() async throws {
            directory = FileManager.default.temporaryDirectory.appendingPathComponent("tock-tls-\(UUID().uuidString.prefix(8))").path
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            try Self.run(["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", directory + "/key.pem",
                          "-out", directory + "/cert.pem", "-days", "1", "-subj", "/CN=127.0.0.1",
                          "-addext", "subjectAltName=IP:127.0.0.1"])
            port = try InfluxDBServer.freePort()
            process = Process()
            process.executableURL = URL(fileURLWithPath: "/usr/bin/openssl")
            process.arguments = ["s_server", "-accept", "127.0.0.1:\(port)", "-cert", directory + "/cert.pem",
                                 "-key", directory + "/key.pem", "-www", "-quiet"]
            process.standardOutput = FileHandle.nullDevice
            process.standardError = FileHandle.nullDevice
            process.standardInput = FileHandle.nullDevice
            try process.run()
            // Ready once a TCP connection is accepted.
            for _ in 0..<200 {
                if Self.accepts(port: port) { return }
                try await Task.sleep(for: .milliseconds(25))
            }
            stop()
            throw InfluxDBServerError("openssl s_server did not listen on \(port)")
        }

        static func run(_ arguments: [String]) throws {
            let p = Process()
            p.executableURL = URL(fileURLWithPath: "/usr/bin/openssl")
            p.arguments = arguments
            p.standardOutput = FileHandle.nullDevice
            p.standardError = FileHandle.nullDevice
            try p.run()
            p.waitUntilExit()
            guard p.terminationStatus == 0 else { throw InfluxDBServerError("openssl \(arguments[0]) failed") }
        }

        static func accepts(port: Int) -> Bool {
            let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            defer { close(fd) }
            var addr = sockaddr_in()
            addr.sin_family = sa_family_t(AF_INET)
            addr.sin_addr.s_addr = inet_addr("127.0.0.1")
            addr.sin_port = UInt16(port).bigEndian
            return withUnsafePointer(to: &addr) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0 }
            }
        }

        func stop() {
            // s_server does not end on SIGTERM.
            if process.isRunning { kill(process.processIdentifier, SIGKILL) }
            process.waitUntilExit()
            try? FileManager.default.removeItem(atPath: directory)
        }
    }

    static func cluster(_ server: HTTPSServer, _ change: (inout InfluxDBConfiguration) -> Void) throws -> InfluxDBCluster {
        var c = InfluxDBConfiguration(name: "tls", urls: ["https://127.0.0.1:\(server.port)"])
        c.timeout = 20 * GoDuration.second
        change(&c)
        return try #require(try InfluxDBClusters.make([c])).cluster(nil)
    }

    @Test("ssl-ca trusts the server's certificate; without it the handshake fails; insecure-skip-verify skips the check")
    func trust() async throws {
        let server = try await HTTPSServer()
        defer { server.stop() }
        try await Self.cluster(server) { $0.sslCA = server.certificate }.ping()
        let untrusted = await #expect(throws: InfluxDBError.self) { try await Self.cluster(server) { _ in }.ping() }
        #expect(untrusted?.kind == .unreachable)
        #expect(untrusted?.message.contains("https://127.0.0.1:\(server.port)") == true)
        try await Self.cluster(server) { $0.insecureSkipVerify = true }.ping()
    }

    @Test("a file that holds no certificate is an error naming ssl-ca")
    func badFiles() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("tock-not-a-cert-\(UUID().uuidString.prefix(8)).pem").path
        try "not a certificate".write(toFile: path, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: path) }
        var c = InfluxDBConfiguration(name: "tls", urls: ["https://127.0.0.1:1"])
        c.sslCA = path
        let error = #expect(throws: InfluxDBClustersError.self) { try InfluxDBClusters.make([c]) }
        #expect(error?.description.hasPrefix("[[influxdb]] #1 (\"tls\"): ssl-ca: cannot read PEM certificates from \"\(path)\"") == true,
                "\(error?.description ?? "")")
    }
}
