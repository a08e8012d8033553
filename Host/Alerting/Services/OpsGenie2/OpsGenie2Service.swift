import Engine
import Foundation

/// `[opsgenie2]`: OpsGenie's v2 alert API (Kapacitor's `services/opsgenie2/config.go`).
public struct OpsGenie2Service: AlertServiceKind {
    public static let kind = "opsgenie2"
    public static let section = ConfigSectionSpec("opsgenie2", redacted: ["api-key"])
    public static let defaultURL = "https://api.opsgenie.com/v2/alerts"

    public var enabled = false
    public var apiKey = ""
    public var teams: [String] = []
    public var recipients: [String] = []
    public var url = defaultURL
    /// What a recovery does to the alert: `notes` (add the message as a note) or `close`.
    public var recoveryAction = "notes"
    public var global = false

    public init(elements: [ConfigTable]) throws(ConfigError) {
        guard let table = elements.first else { return }
        var r = ConfigReader(table, section: Self.section.name)
        enabled = try r.bool("enabled")
        apiKey = try r.string("api-key")
        teams = try r.strings("teams")
        recipients = try r.strings("recipients")
        url = try r.string("url", default: Self.defaultURL)
        recoveryAction = try r.string("recovery_action", default: "notes")
        global = try r.bool("global")
        try r.finish()
        if url.isEmpty { throw ConfigError("[opsgenie2] url cannot be empty") }
        if recoveryAction.isEmpty { throw ConfigError("[opsgenie2] recovery_action cannot be empty") }
        try ServiceSupport.checkURL(url, key: "url", section: "opsgenie2")
        if enabled && apiKey.isEmpty { throw ConfigError("[opsgenie2] api-key cannot be empty") }
    }

    public var elements: [ConfigTable] {
        [["enabled": .bool(enabled), "api-key": ServiceSupport.redacted(apiKey), "teams": .array(teams.map(ConfigValue.string)),
          "recipients": .array(recipients.map(ConfigValue.string)), "url": .string(url),
          "recovery_action": .string(recoveryAction), "global": .bool(global)]]
    }

    public var globalHandlers: [AlertHandlerSpec] { global ? [AlertHandlerSpec(kind: Self.kind)] : [] }

    public func makeSender(options: [String: HandlerOption]) throws(HandlerOptionError) -> any AlertSender {
        var r = OptionReader(options, kind: Self.kind)
        let t = try r.strings("teams-list") ?? []
        let p = try r.strings("recipients-list") ?? []
        try r.finish()
        guard enabled else { throw ServiceSupport.notEnabled("opsgenie2") }
        return OpsGenie2Sender(url: url, apiKey: apiKey, recoveryAction: recoveryAction,
                               teams: t.isEmpty ? teams : t, recipients: p.isEmpty ? recipients : p)
    }
}

/// Creates or recovers a v2 alert as Kapacitor's `services/opsgenie2/service.go` does, with
/// `Authorization: GenieKey <api-key>`. The alias is the alert ID in URL-safe base64; priority P1 critical, P3 warning,
/// P5 info; OK posts `{"note":<message>}` to `<url>/<alias>/<recovery_action>?identifierType=alias`.
struct OpsGenie2Sender: AlertSender {
    let url: String
    let apiKey: String
    let recoveryAction: String
    let teams: [String]
    let recipients: [String]

    var description: String { "opsgenie2" }

    static func alias(_ id: String) -> String {
        Data(id.utf8).base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
    }

    /// The URL and body for `event`.
    func request(_ event: AlertEvent) -> (url: String, body: [UInt8]) {
        let alias = Self.alias(event.id)
        if event.level == .ok {
            let target = ServiceSupport.joiningPath(url, [alias, recoveryAction]) + "?identifierType=alias"
            return (target, JSONBody.map(["note": .string(event.message)]).encoderBytes)
        }
        let priority = switch event.level {
        case .info: "P5"
        case .warning: "P3"
        default: "P1"
        }
        var details: [String: JSONBody] = Dictionary(event.tags.map { ($0.key, JSONBody.string($0.value)) }, uniquingKeysWith: { a, _ in a })
        details["Monitoring Tool"] = .string("Kapacitor")
        details["Level"] = .string(event.level.description)
        details["Kapacitor Task Name"] = .string(event.name)
        var data: [String: JSONBody] = [
            "entity": .string(event.id), "alias": .string(alias), "message": .string(event.message), "note": .string(""),
            "priority": .string(priority), "description": .string(event.resultJSON), "details": .map(details),
        ]
        let responders = teams.map { JSONBody.map(["name": .string($0), "type": .string("team")]) }
            + recipients.map { JSONBody.map(["username": .string($0), "type": .string("user")]) }
        if !responders.isEmpty { data["responders"] = .array(responders) }
        return (url, JSONBody.map(data).encoderBytes)
    }

    func send(_ event: AlertEvent) async throws(DeliveryFailure) {
        let (target, body) = request(event)
        do {
            _ = try await AlertHTTP.postJSON(url: target, body: body, headers: [("Authorization", "GenieKey " + apiKey)])
        } catch {
            throw ServiceSupport.failure(error, description)
        }
    }
}
