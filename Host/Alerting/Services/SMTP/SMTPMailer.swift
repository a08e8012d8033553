import Foundation
import NIOSSL

/// Tock's SMTP client (no Swift SMTP package is on the machine, so it is written here over swift-nio, as Go's
/// `net/smtp` + gomail v2's `Dialer` speak it): `EHLO localhost` (`HELO` when refused), `STARTTLS` when offered (TLS
/// from the start on port 465), `AUTH` when a username is set and the server offers it (PLAIN, or LOGIN when only
/// LOGIN is offered; never over plain text except to localhost, as Go's `PlainAuth` refuses), then
/// `MAIL FROM`/`RCPT TO`/`DATA` per mail.
///
/// One connection is shared by every sender of the service and reused until no mail was sent for `idle-timeout`
/// (Kapacitor's `runMailer`); mails go out one at a time on it.
actor SMTPMailer {
    struct Settings: Sendable, Hashable {
        var host: String
        var port: Int
        var username: String
        var password: String
        var noVerify: Bool
        /// Nanoseconds; 0 closes the connection after each mail.
        var idleTimeout: Int64
    }

    /// An SMTP reply: its code and its text lines joined.
    struct Reply: Sendable {
        var code: Int
        var text: String
    }

    private struct Session {
        var connection: WireConnection
        var extensions: [String: String]
        var tls: Bool
    }

    let settings: Settings
    private var session: Session?
    private var busy = false
    private var waiters: [CheckedContinuation<Void, Never>] = []
    private var idleGeneration = 0

    init(settings: Settings) {
        self.settings = settings
    }

    var peer: String { "\(settings.host):\(settings.port)" }

    /// Sends one mail; one attempt, on the open connection when there is one (a stale one is replaced once).
    func send(from: String, to: [String], message: [UInt8]) async throws(DeliveryFailure) {
        await acquire()
        defer { release() }
        idleGeneration += 1
        let reused = session != nil
        do throws(SMTPFailure) {
            try await transaction(from: from, to: to, message: message)
        } catch {
            await drop()
            guard reused, case .wire = error else { throw error.delivery(peer) }
            do throws(SMTPFailure) {
                try await transaction(from: from, to: to, message: message)
            } catch {
                await drop()
                throw error.delivery(peer)
            }
        }
        scheduleIdleClose()
    }

    /// Closes the connection (`QUIT`) if one is open.
    func close() async {
        guard let s = session else { return }
        session = nil
        _ = try? await command(s.connection, "QUIT")
        await s.connection.close()
    }

    // MARK: The dialogue

    private enum SMTPFailure: Error {
        case wire(WireError)
        case reply(String, Reply)
        case refused(String)

        func delivery(_ peer: String) -> DeliveryFailure {
            switch self {
            case .wire(let e): .retryable("smtp \(peer): \(e)")
            case .reply(let what, let r):
                r.code >= 400 && r.code < 500
                    ? .retryable("smtp \(peer): \(what) answered \(r.code) \(r.text)")
                    : .permanent("smtp \(peer): \(what) answered \(r.code) \(r.text)")
            case .refused(let why): .permanent("smtp \(peer): \(why)")
            }
        }
    }

    private func transaction(from: String, to: [String], message: [UInt8]) async throws(SMTPFailure) {
        let s = try await openSession()
        var mail = "MAIL FROM:<\(MailMessage.address(from))>"
        if s.extensions["8BITMIME"] != nil { mail += " BODY=8BITMIME" }
        try await expect(s.connection, mail, 250)
        for rcpt in to {
            let r = try await command(s.connection, "RCPT TO:<\(MailMessage.address(rcpt))>")
            guard r.code == 250 || r.code == 251 else { throw .reply("RCPT TO:<\(MailMessage.address(rcpt))>", r) }
        }
        try await expect(s.connection, "DATA", 354)
        do { try await s.connection.write(MailMessage.dotStuffed(message)) } catch { throw .wire(error) }
        let r = try await reply(s.connection)
        guard r.code == 250 else { throw .reply("the message (DATA)", r) }
    }

    private func openSession() async throws(SMTPFailure) -> Session {
        if let session { return session }
        let implicitTLS = settings.port == 465
        let tls = try tlsConfiguration()
        let connection: WireConnection
        do {
            connection = try await WireConnection.connect(host: settings.host, port: settings.port, tls: implicitTLS ? tls : nil)
        } catch { throw .wire(error) }
        do throws(SMTPFailure) {
            var s = Session(connection: connection, extensions: [:], tls: implicitTLS)
            let greeting = try await reply(connection)
            guard greeting.code == 220 else { throw SMTPFailure.reply("the greeting", greeting) }
            s.extensions = try await hello(connection)
            if !s.tls, s.extensions["STARTTLS"] != nil {
                try await expect(connection, "STARTTLS", 220)
                do { try await connection.startTLS(tls, serverName: settings.host) } catch { throw SMTPFailure.wire(error) }
                s.tls = true
                s.extensions = try await hello(connection)
            }
            if !settings.username.isEmpty, let mechanisms = s.extensions["AUTH"] {
                try await authenticate(connection, mechanisms: mechanisms.split(separator: " ").map { $0.uppercased() }, tls: s.tls)
            }
            session = s
            return s
        } catch {
            await connection.close()
            throw error
        }
    }

    private func tlsConfiguration() throws(SMTPFailure) -> TLSConfiguration {
        var tls = TLSConfiguration.makeClientConfiguration()
        if settings.noVerify { tls.certificateVerification = .none }
        return tls
    }

    private func hello(_ c: WireConnection) async throws(SMTPFailure) -> [String: String] {
        let r = try await command(c, "EHLO localhost")
        if r.code != 250 {
            try await expect(c, "HELO localhost", 250)
            return [:]
        }
        var extensions: [String: String] = [:]
        for line in r.text.split(separator: "\n").dropFirst() {
            let parts = line.split(separator: " ", maxSplits: 1)
            guard let key = parts.first else { continue }
            extensions[key.uppercased()] = parts.count > 1 ? String(parts[1]) : ""
        }
        return extensions
    }

    private func authenticate(_ c: WireConnection, mechanisms: [String], tls: Bool) async throws(SMTPFailure) {
        let local = ["localhost", "127.0.0.1", "::1"].contains(settings.host)
        let b64 = { (s: String) in Data(s.utf8).base64EncodedString() }
        if mechanisms.contains("LOGIN") && !mechanisms.contains("PLAIN") {
            var r = try await command(c, "AUTH LOGIN")
            while r.code == 334 {
                let challenge = String(decoding: Data(base64Encoded: r.text) ?? Data(), as: UTF8.self)
                switch challenge {
                case "Username:": r = try await command(c, b64(settings.username))
                case "Password:": r = try await command(c, b64(settings.password))
                default:
                    _ = try? await command(c, "*")
                    throw .refused("unexpected AUTH LOGIN challenge \"\(challenge)\"")
                }
            }
            guard r.code == 235 else { throw .reply("AUTH LOGIN as \(settings.username)", r) }
            return
        }
        guard tls || local else {
            throw .refused("refusing to send the password over an unencrypted connection (the server offers no STARTTLS)")
        }
        let r = try await command(c, "AUTH PLAIN " + b64("\u{0}\(settings.username)\u{0}\(settings.password)"))
        guard r.code == 235 else { throw .reply("AUTH PLAIN as \(settings.username)", r) }
    }

    private func expect(_ c: WireConnection, _ line: String, _ code: Int) async throws(SMTPFailure) {
        let r = try await command(c, line)
        guard r.code == code else { throw .reply(line.hasPrefix("AUTH") ? "AUTH" : line, r) }
    }

    private func command(_ c: WireConnection, _ line: String) async throws(SMTPFailure) -> Reply {
        do { try await c.write(Array((line + "\r\n").utf8)) } catch { throw .wire(error) }
        return try await reply(c)
    }

    /// A reply, joining the lines of a multi-line one (`250-…` … `250 …`) with newlines.
    private func reply(_ c: WireConnection) async throws(SMTPFailure) -> Reply {
        var lines: [String] = []
        while true {
            let line: String
            do { line = try await c.readLine() } catch { throw .wire(error) }
            let bytes = Array(line.utf8)
            guard bytes.count >= 3, let code = Int(String(decoding: bytes[0..<3], as: UTF8.self)) else {
                throw .wire(WireError("\(peer) sent a malformed reply \"\(line)\""))
            }
            lines.append(bytes.count > 4 ? String(decoding: bytes[4...], as: UTF8.self) : "")
            if bytes.count == 3 || bytes[3] != UInt8(ascii: "-") { return Reply(code: code, text: lines.joined(separator: "\n")) }
        }
    }

    // MARK: One mail at a time; idle close

    private func acquire() async {
        if !busy {
            busy = true
            return
        }
        await withCheckedContinuation { waiters.append($0) }
    }

    private func release() {
        if waiters.isEmpty { busy = false } else { waiters.removeFirst().resume() }
    }

    private func drop() async {
        guard let s = session else { return }
        session = nil
        await s.connection.close()
    }

    private func scheduleIdleClose() {
        let generation = idleGeneration
        let idle = settings.idleTimeout
        guard idle > 0 else {
            Task { await self.closeIfIdle(generation) }
            return
        }
        Task {
            try? await Task.sleep(for: .nanoseconds(idle))
            await self.closeIfIdle(generation)
        }
    }

    private func closeIfIdle(_ generation: Int) async {
        guard generation == idleGeneration, !busy else { return }
        busy = true
        await close()
        release()
    }
}
