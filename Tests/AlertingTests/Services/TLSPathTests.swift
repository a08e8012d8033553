import HTTPTesting
import Engine
import Foundation
import Testing
@testable import Alerting

/// The TLS paths of the services, against real loopback receivers holding a self-signed certificate made by
/// `openssl` for the test (CN and SAN 127.0.0.1): HTTPS for `slack` (`ssl-ca`, `insecure-skip-verify`) and `post`
/// (`skip-ssl-verification`), SMTP with STARTTLS and with implicit TLS on port 465 (gomail's rule, which Kapacitor
/// keeps) against aiosmtpd, and MQTT over `ssl://` against a mosquitto TLS listener.
@Suite("TLS: services deliver over TLS to loopback receivers with a self-signed certificate", .serialized)
struct TLSPathTests {
    /// A key and a self-signed certificate for 127.0.0.1, in a fresh directory.
    struct Certificate {
        var directory: String
        var cert: String { directory + "/cert.pem" }
        var key: String { directory + "/key.pem" }

        static func make() async throws -> Certificate {
            let dir = try ReceiverProcess.temporaryDirectory("tls")
            let c = Certificate(directory: dir)
            let status = try await Self.run("/usr/bin/openssl", [
                "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", c.key, "-out", c.cert, "-days", "2",
                "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost",
            ])
            guard status == 0, FileManager.default.fileExists(atPath: c.cert) else {
                throw ReceiverError("openssl req -x509 exited with status \(status) in \(dir)")
            }
            // mosquitto may read its files as its own user.
            try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: c.key)
            try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: dir)
            return c
        }

        /// Runs a program to its end without blocking a thread of the pool.
        static func run(_ program: String, _ arguments: [String]) async throws -> Int32 {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: program)
            process.arguments = arguments
            process.standardOutput = FileHandle.nullDevice
            process.standardError = FileHandle.nullDevice
            return try await withCheckedThrowingContinuation { continuation in
                process.terminationHandler = { continuation.resume(returning: $0.terminationStatus) }
                do { try process.run() } catch { continuation.resume(throwing: error) }
            }
        }
    }

    // MARK: HTTPS

    /// An HTTPS server that prints each request (path, body) as a JSON line and answers 200 `ok`.
    static let httpsReceiver = #"""
import http.server, json, ssl, sys
port, cert, key = int(sys.argv[1]), sys.argv[2], sys.argv[3]
class Handler(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        print(json.dumps({"path": self.path, "body": body.decode()}), flush=True)
        self.send_response(200)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")
    def log_message(self, *args):
        pass
server = http.server.HTTPServer(("127.0.0.1", port), Handler)
context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
context.load_cert_chain(cert, key)
server.socket = context.wrap_socket(server.socket, server_side=True)
print("ready", flush=True)
server.serve_forever()
"""#

    struct Posted: Decodable {
        var path: String
        var body: String
    }

    static func https(_ c: Certificate) async throws -> ReceiverProcess {
        let port = try ReceiverProcess.freePort()
        return try await ReceiverProcess("/usr/bin/env", ["python3", "-c", httpsReceiver, String(port), c.cert, c.key],
                                         port: port, directory: c.directory, ready: "ready")
    }

    static func posted(_ r: ReceiverProcess, count: Int) async throws -> [Posted] {
        let text = try await r.waitForOutput { $0.split(separator: "\n").filter { $0.hasPrefix("{") }.count >= count }
        return try text.split(separator: "\n").filter { $0.hasPrefix("{") }.map { try JSONDecoder().decode(Posted.self, from: Data($0.utf8)) }
    }

    let event = IncidentFixtures.event()

    @Test("slack: ssl-ca trusts the receiver's certificate; without it the certificate is refused; insecure-skip-verify skips the check")
    func slackOverHTTPS() async throws {
        let cert = try await Certificate.make()
        let receiver = try await Self.https(cert)
        defer { receiver.stop() }
        let url = "https://127.0.0.1:\(receiver.port)/services/T/B/X"
        func slack(_ extra: ConfigTable) throws -> any AlertSender {
            var table: ConfigTable = ["enabled": .bool(true), "url": .string(url), "channel": .string("#ops")]
            table.merge(extra) { $1 }
            return try SlackService(elements: [table]).makeSender(options: [:])
        }
        try await slack(["ssl-ca": .string(cert.cert)]).send(event)
        let first = try await Self.posted(receiver, count: 1)
        #expect(first[0].path == "/services/T/B/X")
        #expect(first[0].body.contains(##""channel":"#ops""##))

        let unverified = try slack([:])
        let untrusted = await IncidentFixtures.failure { () async throws(DeliveryFailure) in try await unverified.send(event) }
        #expect(untrusted != nil)
        #expect(untrusted?.reason.lowercased().contains("certificate") == true, "\(untrusted?.reason ?? "delivered")")

        try await slack(["insecure-skip-verify": .bool(true)]).send(event)
        #expect(try await Self.posted(receiver, count: 2).count == 2)
    }

    @Test("post: an https URL is verified; skip-ssl-verification delivers to a self-signed receiver")
    func postOverHTTPS() async throws {
        let cert = try await Certificate.make()
        let receiver = try await Self.https(cert)
        defer { receiver.stop() }
        let url = "https://127.0.0.1:\(receiver.port)/hook"
        let service = try HTTPPostService(elements: [])
        let verified = try service.makeSender(options: ["url": .string(url)])
        let refused = await IncidentFixtures.failure { () async throws(DeliveryFailure) in try await verified.send(event) }
        #expect(refused?.reason.hasPrefix("post: POST \(url) failed") == true)
        #expect(refused?.reason.lowercased().contains("certificate") == true, "\(refused?.reason ?? "delivered")")

        try await service.makeSender(options: ["url": .string(url), "skip-ssl-verification": .bool(true)]).send(event)
        let posted = try await Self.posted(receiver, count: 1)
        #expect(posted[0].path == "/hook")
        #expect(posted[0].body == event.json + "\n")
    }

    // MARK: SMTP

    /// aiosmtpd with the certificate: STARTTLS required before AUTH (`starttls`), or implicit TLS (`implicit`); each
    /// mail is printed with whether its connection was encrypted and who logged in.
    static let smtpReceiver = #"""
import asyncio, json, ssl, sys
from aiosmtpd.smtp import SMTP, AuthResult, LoginPassword
port, mode, cert, key = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
context.load_cert_chain(cert, key)
class Handler:
    async def handle_DATA(self, server, session, envelope):
        print(json.dumps({"tls": server.transport.get_extra_info("ssl_object") is not None, "to": envelope.rcpt_tos,
                          "user": session.auth_data.login.decode() if session.authenticated else None}), flush=True)
        return "250 OK"
def authenticate(server, session, envelope, mechanism, auth_data):
    ok = isinstance(auth_data, LoginPassword) and auth_data.login == b"kapa" and auth_data.password == b"secret"
    return AuthResult(success=ok, handled=False, auth_data=auth_data)
async def main():
    loop = asyncio.get_running_loop()
    if mode == "starttls":
        factory = lambda: SMTP(Handler(), tls_context=context, require_starttls=True, authenticator=authenticate,
                               auth_required=True, auth_require_tls=True)
        server = await loop.create_server(factory, "127.0.0.1", port)
    else:
        factory = lambda: SMTP(Handler(), authenticator=authenticate, auth_required=True, auth_require_tls=False)
        server = await loop.create_server(factory, "127.0.0.1", port, ssl=context)
    print("ready", flush=True)
    await server.serve_forever()
asyncio.run(main())
"""#

    struct Mail: Decodable {
        var tls: Bool
        var to: [String]
        var user: String?
    }

    static func smtp(_ c: Certificate, mode: String, port: Int) async throws -> ReceiverProcess {
        try await ReceiverProcess("/usr/bin/env", ["python3", "-c", smtpReceiver, String(port), mode, c.cert, c.key],
                                  port: port, directory: c.directory, ready: "ready")
    }

    static func mails(_ r: ReceiverProcess, count: Int) async throws -> [Mail] {
        let text = try await r.waitForOutput { $0.split(separator: "\n").filter { $0.hasPrefix("{") }.count >= count }
        return try text.split(separator: "\n").filter { $0.hasPrefix("{") }.map { try JSONDecoder().decode(Mail.self, from: Data($0.utf8)) }
    }

    static func mailer(port: Int, noVerify: Bool) throws -> any AlertSender {
        try SMTPService(elements: [[
            "enabled": .bool(true), "host": .string("127.0.0.1"), "port": .int(Int64(port)), "no-verify": .bool(noVerify),
            "username": .string("kapa"), "password": .string("secret"), "idle-timeout": .string("0s"),
            "from": .string("kapacitor@example.com"), "to": .array([.string("oncall@example.com")]),
        ]]).makeSender(options: [:])
    }

    @Test("smtp: STARTTLS before AUTH when the server offers it; the certificate is verified unless no-verify")
    func smtpStartTLS() async throws {
        let cert = try await Certificate.make()
        let port = try ReceiverProcess.freePort()
        let receiver = try await Self.smtp(cert, mode: "starttls", port: port)
        defer { receiver.stop() }
        try await Self.mailer(port: port, noVerify: true).send(event)
        let mail = try await Self.mails(receiver, count: 1)[0]
        #expect(mail.tls)
        #expect(mail.user == "kapa")
        #expect(mail.to == ["oncall@example.com"])

        let verifying = try Self.mailer(port: port, noVerify: false)
        let verified = await IncidentFixtures.failure { () async throws(DeliveryFailure) in try await verifying.send(event) }
        #expect(verified != nil)
        #expect(verified?.reason.lowercased().contains("certificate") == true, "\(verified?.reason ?? "delivered")")
    }

    @Test("smtp: port 465 is implicit TLS, as gomail dials it")
    func smtpImplicitTLS() async throws {
        guard ReceiverProcess.accepts(port: 465) == false else {
            Issue.record("port 465 is taken on 127.0.0.1: the implicit-TLS test needs it")
            return
        }
        let cert = try await Certificate.make()
        let receiver = try await Self.smtp(cert, mode: "implicit", port: 465)
        defer { receiver.stop() }
        try await Self.mailer(port: 465, noVerify: true).send(event)
        let mail = try await Self.mails(receiver, count: 1)[0]
        #expect(mail.tls)
        #expect(mail.user == "kapa")
    }

    // MARK: MQTT

    @Test("mqtt: ssl:// with ssl-ca publishes over mosquitto's TLS listener",
          .enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/sbin/mosquitto"), "mosquitto is not installed"))
    func mqttOverTLS() async throws {
        let cert = try await Certificate.make()
        let plain = try ReceiverProcess.freePort(), secure = try ReceiverProcess.freePort()
        try """
            per_listener_settings false
            allow_anonymous true
            persistence false
            listener \(plain) 127.0.0.1
            listener \(secure) 127.0.0.1
            certfile \(cert.cert)
            keyfile \(cert.key)

            """.write(toFile: cert.directory + "/mosquitto.conf", atomically: true, encoding: .utf8)
        let broker = try await ReceiverProcess("/usr/sbin/mosquitto", ["-c", cert.directory + "/mosquitto.conf"],
                                               port: plain, directory: cert.directory, ready: nil)
        defer { broker.stop() }
        let subscriber = try await MQTTTests.subscribe(broker, "alerts/tls", client: "tls-sub")
        defer { subscriber.stop() }
        let service = try MQTTService(elements: [[
            "enabled": .bool(true), "name": .string("secure"), "url": .string("ssl://127.0.0.1:\(secure)"),
            "ssl-ca": .string(cert.cert),
        ]])
        try await service.makeSender(options: ["topic": .string("alerts/tls"), "qos": .int(1)]).send(event)
        let received = try await MQTTTests.received(subscriber, count: 1)
        #expect(received == [MQTTTests.Received(topic: "alerts/tls", qos: 1, retain: 0, payload: event.message)])
        await service.clients["secure"]?.disconnect()
    }
}
