import Engine
import Foundation
import TockModel

/// `[opsgenie2]`: OpsGenie's v2 alert API (Kapacitor's `services/opsgenie2/config.go`).
public struct OpsGenie2Service: AlertServiceKind {
    public static let kind = "opsgenie2"
    public static let section = ConfigSectionSpec("opsgenie2", redacted: ["api-key"])
    public static let defaultURL = "https://api.opsgenie.com/v2/alerts"

    /// `enabled`, `api-key`, `teams`, `recipients`, `url`, `global`.
    public let settings: OpsGenieSettings
    /// What a recovery does to the alert: `notes` (add the message as a note) or `close`.
    public let recoveryAction: String
    /// `details`: when true the alert's details are the OpsGenie description, else its result as JSON.
    public let details: Bool

    public init(elements: [ConfigTable]) throws(ConfigError) {
        guard let table = elements.first else {
            settings = OpsGenieSettings(section: Self.section.name, defaultURL: Self.defaultURL)
            recoveryAction = "notes"
            details = false
            return
        }
        var r = ConfigReader(table, section: Self.section.name)
        settings = try OpsGenieSettings(&r, section: Self.section.name, defaultURL: Self.defaultURL)
        recoveryAction = try r.string("recovery_action", default: "notes")
        details = try r.bool("details")
        try r.finish()
        try settings.check()
        if recoveryAction.isEmpty { throw ConfigError("[opsgenie2] recovery_action cannot be empty") }
    }

    public var elements: [ConfigTable] { [settings.table.merging(["recovery_action": .string(recoveryAction), "details": .bool(details)]) { $1 }] }

    public var globalHandlers: [AlertHandlerSpec] { settings.globalHandlers(kind: Self.kind) }

    public func makeSender(options: [String: HandlerOption]) throws(HandlerOptionError) -> any AlertSender {
        let (teams, recipients) = try settings.responders(options, kind: Self.kind)
        return OpsGenie2Sender(url: settings.url, apiKey: settings.apiKey, recoveryAction: recoveryAction,
                               teams: teams, recipients: recipients, detailsAsDescription: details)
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
    /// `[opsgenie2] details`: the description is the alert's details instead of its result.
    var detailsAsDescription = false

    var description: String { "opsgenie2" }

    static func alias(_ id: String) -> String {
        Data(id.utf8).base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
    }

    /// The URL and body for `event`.
    func request(_ event: AlertEvent) -> (url: String, body: [UInt8]) {
        let alias = Self.alias(event.id)
        if event.level == .ok {
            let target = ServiceSupport.joiningPath(url, [alias, recoveryAction]) + "?identifierType=alias"
            return (target, GoValueJSON.object(["note": .string(event.message)]).encodedLine)
        }
        let priority = switch event.level {
        case .info: "P5"
        case .warning: "P3"
        default: "P1"
        }
        var details: [String: GoValueJSON] = Dictionary(event.tags.map { ($0.key, GoValueJSON.string($0.value)) }, uniquingKeysWith: { a, _ in a })
        details["Monitoring Tool"] = .string("Kapacitor")
        details["Level"] = .string(event.level.description)
        details["Kapacitor Task Name"] = .string(event.name)
        var data: [String: GoValueJSON] = [
            "entity": .string(event.id), "alias": .string(alias), "message": .string(event.message), "note": .string(""),
            "priority": .string(priority), "description": .string(detailsAsDescription ? event.details : event.resultJSON), "details": .object(details),
        ]
        let responders = teams.map { GoValueJSON.object(["name": .string($0), "type": .string("team")]) }
            + recipients.map { GoValueJSON.object(["username": .string($0), "type": .string("user")]) }
        if !responders.isEmpty { data["responders"] = .array(responders) }
        return (url, GoValueJSON.object(data).encodedLine)
    }

    func send(_ event: AlertEvent) async throws(DeliveryFailure) {
        let (target, body) = request(event)
        try await ServiceSupport.postJSON(url: target, body: body, headers: [("Authorization", "GenieKey " + apiKey)], service: description)
    }
}
