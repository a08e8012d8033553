import Engine
import Foundation
import Testing
import TockModel
@testable import Alerting

/// Mail to a real `aiosmtpd` on loopback, which prints each message it receives (envelope, authenticated user, the
/// client's port, and the raw DATA) as a JSON line.
@Suite("smtp: mail as Kapacitor (gomail) sends it, to a real aiosmtpd", .serialized)
struct SMTPTests {
    static let receiver = #"""
import sys, json, threading
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
port, user, password = int(sys.argv[1]), sys.argv[2], sys.argv[3]
class Handler:
    async def handle_DATA(self, server, session, envelope):
        print(json.dumps({"peer": session.peer[1], "from": envelope.mail_from, "to": envelope.rcpt_tos,
                          "user": session.auth_data.login.decode() if session.authenticated else None,
                          "data": envelope.content.decode("utf-8")}), flush=True)
        return "250 OK"
def authenticate(server, session, envelope, mechanism, auth_data):
    ok = isinstance(auth_data, LoginPassword) and auth_data.login == user.encode() and auth_data.password == password.encode()
    return AuthResult(success=ok, handled=False, auth_data=auth_data)
options = dict(authenticator=authenticate, auth_required=True, auth_require_tls=False) if user else {}
Controller(Handler(), hostname="127.0.0.1", port=port, **options).start()
print("ready", flush=True)
threading.Event().wait()
"""#

    struct Received: Decodable {
        var peer: Int
        var from: String
        var to: [String]
        var user: String?
        var data: String
    }

    static func start(user: String = "", password: String = "") async throws -> ReceiverProcess {
        let port = try ReceiverProcess.freePort()
        return try await ReceiverProcess("/usr/bin/env", ["python3", "-c", receiver, String(port), user, password],
                                         port: port, directory: "", ready: "ready")
    }

    static func received(_ r: ReceiverProcess, count: Int) async throws -> [Received] {
        let text = try await r.waitForOutput { $0.split(separator: "\n").filter { $0.hasPrefix("{") }.count >= count }
        return try text.split(separator: "\n").filter { $0.hasPrefix("{") }.map {
            try JSONDecoder().decode(Received.self, from: Data($0.utf8))
        }
    }

    static func service(_ port: Int, _ extra: ConfigTable = [:]) throws -> SMTPService {
        var table: ConfigTable = ["enabled": .bool(true), "host": .string("127.0.0.1"), "port": .int(Int64(port)),
                                  "from": .string("kapacitor@example.com"), "to": .array([.string("oncall@example.com")])]
        table.merge(extra) { $1 }
        return try SMTPService(elements: [table])
    }

    @Test("subject = message, body = details as quoted-printable text/html, headers as gomail writes them")
    func exactMessage() async throws {
        let smtp = try await Self.start()
        defer { smtp.stop() }
        let service = try Self.service(smtp.port)
        let sender = try service.makeSender(options: ["to": .list([.string("a@example.com"), .string("Ops <b@example.com>")])])
        let long = String(repeating: "x", count: 80)
        try await sender.send(AlertFixtures.event(message: "CPU élevé on serverA", details: "<b>cpu</b> = 99.5 \n" + long))
        let mail = try #require(try await Self.received(smtp, count: 1).first)
        #expect(mail.from == "kapacitor@example.com")
        #expect(mail.to == ["a@example.com", "b@example.com"])
        var lines = mail.data.components(separatedBy: "\r\n")
        let date = lines.remove(at: 1)
        #expect(date.range(of: #"^Date: (Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d\d (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d{4} \d\d:\d\d:\d\d \+0000$"#,
                                options: .regularExpression) != nil, "\(date)")
        #expect(lines == [
            "Mime-Version: 1.0",
            "From: kapacitor@example.com",
            "To: a@example.com, Ops <b@example.com>",
            "Subject: =?UTF-8?q?CPU_=C3=A9lev=C3=A9_on_serverA?=",
            "Content-Type: text/html; charset=UTF-8",
            "Content-Transfer-Encoding: quoted-printable",
            "",
            "<b>cpu</b> =3D 99.5=20",
            String(repeating: "x", count: 75) + "=",
            "xxxxx",
            "",
        ])
        await service.mailer.close()
    }

    @Test("the configured recipients serve a handler that names none; one connection carries consecutive mails")
    func defaultRecipientsAndReuse() async throws {
        let smtp = try await Self.start()
        defer { smtp.stop() }
        let service = try Self.service(smtp.port)
        let sender = try service.makeSender(options: [:])
        try await sender.send(AlertFixtures.event(message: "one", details: "first"))
        try await sender.send(AlertFixtures.event(message: "two", details: ".leading dot"))
        let mails = try await Self.received(smtp, count: 2)
        #expect(mails.map(\.to) == [["oncall@example.com"], ["oncall@example.com"]])
        #expect(mails[0].peer == mails[1].peer, "the second mail used a new connection")
        #expect(mails[1].data.hasSuffix("\r\n\r\n.leading dot\r\n"))
        await service.mailer.close()
    }

    @Test("idle-timeout = 0 closes the connection after each mail")
    func idleTimeoutZero() async throws {
        let smtp = try await Self.start()
        defer { smtp.stop() }
        let service = try Self.service(smtp.port, ["idle-timeout": .string("0s")])
        let sender = try service.makeSender(options: [:])
        try await sender.send(AlertFixtures.event(message: "one"))
        try await Task.sleep(for: .milliseconds(200))
        try await sender.send(AlertFixtures.event(message: "two"))
        let mails = try await Self.received(smtp, count: 2)
        #expect(mails[0].peer != mails[1].peer)
    }

    @Test("with a username, AUTH PLAIN logs in; a wrong password is a permanent failure naming the server's answer")
    func authentication() async throws {
        let smtp = try await Self.start(user: "kap", password: "s3cret")
        defer { smtp.stop() }
        let good = try Self.service(smtp.port, ["username": .string("kap"), "password": .string("s3cret")])
        try await good.makeSender(options: [:]).send(AlertFixtures.event())
        #expect(try await Self.received(smtp, count: 1)[0].user == "kap")
        await good.mailer.close()

        let bad = try Self.service(smtp.port, ["username": .string("kap"), "password": .string("wrong")])
        let badSender = try bad.makeSender(options: [:])
        do {
            try await badSender.send(AlertFixtures.event())
            Issue.record("a wrong password was accepted")
        } catch {
            #expect(!error.isRetryable)
            #expect(error.reason.contains("AUTH PLAIN as kap answered 535"), "\(error.reason)")
        }
    }

    @Test("a server that is down is a retryable failure naming it")
    func serverDown() async throws {
        let port = try ReceiverProcess.freePort()
        let sender = try Self.service(port).makeSender(options: [:])
        do {
            try await sender.send(AlertFixtures.event())
            Issue.record("sent to a closed port")
        } catch {
            #expect(error.isRetryable)
            #expect(error.reason.hasPrefix("smtp 127.0.0.1:\(port): cannot connect to 127.0.0.1:\(port)"), "\(error.reason)")
        }
    }

    @Test("configuration: Kapacitor's defaults and checks, the password redacted, a disabled service refused")
    func configuration() throws {
        let defaults = try SMTPService(elements: [])
        #expect(defaults.host == "localhost" && defaults.port == 25 && defaults.idleTimeout == 30_000_000_000 && !defaults.enabled)
        #expect(throws: ConfigError("[smtp] must provide a 'from' address")) { try SMTPService(elements: [["enabled": .bool(true)]]) }
        #expect(throws: ConfigError("[smtp] invalid to email address: \"oncall\"")) {
            try SMTPService(elements: [["to": .array([.string("oncall")])]])
        }
        let s = try Self.service(25, ["password": .string("hunter2"), "global": .bool(true)])
        #expect(s.elements[0]["password"] == .bool(true))
        #expect(s.elements[0]["idle-timeout"] == .string("30s"))
        #expect(s.globalHandlers == [AlertHandlerSpec(kind: "smtp")])
        let disabled = try SMTPService(elements: [])
        do {
            _ = try disabled.makeSender(options: [:])
            Issue.record("a disabled service made a sender")
        } catch {
            #expect(error.message == "smtp is not enabled: set enabled = true in the [smtp] section of kapacitor.conf")
        }
        #expect(throws: HandlerOptionError.self) { try s.makeSender(options: ["cc": .string("x@y")]) }
    }

    @Test("quoted-printable and Q-encoding as Go writes them")
    func encodings() {
        #expect(MailMessage.quotedPrintable(Array("a=b\tc \r\nd\n".utf8)) == Array("a=3Db\tc=20\r\nd\r\n".utf8))
        #expect(MailMessage.quotedPrintable(Array("é".utf8)) == Array("=C3=A9".utf8))
        #expect(MailMessage.encodeWord("plain text") == "plain text")
        #expect(MailMessage.encodeWord("a_b?=ü") == "=?UTF-8?q?a=5Fb=3F=3D=C3=BC?=")
        #expect(MailMessage.header("Subject", [String(repeating: "word ", count: 20)]).components(separatedBy: "\r\n").allSatisfy { $0.utf8.count <= 76 })
    }
}
