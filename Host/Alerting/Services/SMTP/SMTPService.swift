import Engine
import Foundation
import TockModel

/// Kapacitor's `[smtp]` section and the `smtp` handler (`.email()`): each alert becomes one HTML mail whose subject
/// is the alert message and whose body is the alert details (`services/smtp/service.go`).
public struct SMTPService: AlertServiceKind {
    public static let kind = "smtp"
    public static let section = ConfigSectionSpec("smtp", redacted: ["password"])

    public var enabled = false
    public var host = "localhost"
    public var port: Int64 = 25
    public var username = ""
    public var password = ""
    /// Skip TLS certificate verification.
    public var noVerify = false
    public var from = ""
    /// Recipients when a handler names none.
    public var to: [String] = []
    /// Nanoseconds without mail after which the connection is closed.
    public var idleTimeout: Int64 = 30_000_000_000
    /// Whether every alert sends mail without naming the handler.
    public var global = false
    /// Whether those global mails are sent on state changes only.
    public var stateChangesOnly = false

    let mailer: SMTPMailer

    public init(elements: [ConfigTable]) throws(ConfigError) {
        guard elements.count <= 1 else { throw ConfigError("[smtp] is a single section, not an array of tables") }
        var r = ConfigReader(elements.first ?? [:], section: "smtp")
        enabled = try r.bool("enabled")
        host = try r.string("host", default: host)
        port = try r.int("port", default: port)
        username = try r.string("username")
        password = try r.string("password")
        noVerify = try r.bool("no-verify")
        from = try r.string("from")
        to = try r.strings("to")
        idleTimeout = try r.duration("idle-timeout", default: idleTimeout)
        global = try r.bool("global")
        stateChangesOnly = try r.bool("state-changes-only")
        try r.finish()
        // Kapacitor's Config.Validate.
        if host.isEmpty { throw ConfigError("[smtp] host cannot be empty") }
        if port <= 0 || port > 65535 { throw ConfigError("[smtp] invalid port \(port)") }
        if idleTimeout < 0 { throw ConfigError("[smtp] idle-timeout must be positive") }
        if enabled && from.isEmpty { throw ConfigError("[smtp] must provide a 'from' address") }
        if !from.isEmpty && !from.contains("@") { throw ConfigError("[smtp] invalid from email address: \"\(from)\"") }
        for t in to where !t.contains("@") { throw ConfigError("[smtp] invalid to email address: \"\(t)\"") }
        mailer = SMTPMailer(settings: .init(host: host, port: Int(port), username: username, password: password,
                                            noVerify: noVerify, idleTimeout: idleTimeout))
    }

    public var elements: [ConfigTable] {
        [[
            "enabled": .bool(enabled), "host": .string(host), "port": .int(port), "username": .string(username),
            "password": .bool(!password.isEmpty), "no-verify": .bool(noVerify), "from": .string(from),
            "to": .array(to.map { .string($0) }), "idle-timeout": .string(GoDuration.format(idleTimeout)),
            "global": .bool(global), "state-changes-only": .bool(stateChangesOnly),
        ]]
    }

    public var globalHandlers: [AlertHandlerSpec] { global ? [AlertHandlerSpec(kind: Self.kind)] : [] }

    public var globalStateChangesOnly: Bool { global && stateChangesOnly }

    public func makeSender(options: [String: HandlerOption]) throws(HandlerOptionError) -> any AlertSender {
        var r = OptionReader(options, kind: Self.kind)
        let to = try r.strings("to") ?? []
        try r.finish()
        guard enabled else {
            throw HandlerOptionError("smtp is not enabled: set enabled = true in the [smtp] section of kapacitor.conf")
        }
        return SMTPSender(mailer: mailer, from: from, to: to.isEmpty ? self.to : to)
    }
}

/// Mails one alert: subject = message, body = details as `text/html`.
struct SMTPSender: AlertSender {
    let mailer: SMTPMailer
    let from: String
    let to: [String]

    var description: String { "smtp to \(to.joined(separator: ", ")) via \(mailer.settings.host):\(mailer.settings.port)" }

    func send(_ event: AlertEvent) async throws(DeliveryFailure) {
        guard !to.isEmpty else {
            throw .permanent("smtp: not sending email, no recipients defined (give .email('addr') or [smtp] to)")
        }
        let message = MailMessage.render(from: from, to: to, subject: event.message, html: event.details, date: Date())
        try await mailer.send(from: from, to: to, message: message)
    }
}
