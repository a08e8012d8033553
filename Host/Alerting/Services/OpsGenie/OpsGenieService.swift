import Engine
import TockModel

/// `[opsgenie]`: OpsGenie's v1 alert API (Kapacitor's `services/opsgenie/config.go`).
public struct OpsGenieService: AlertServiceKind {
    public static let kind = "opsgenie"
    public static let section = ConfigSectionSpec("opsgenie", redacted: ["api-key"])
    public static let defaultURL = "https://api.opsgenie.com/v1/json/alert"
    public static let defaultRecoveryURL = "https://api.opsgenie.com/v1/json/alert/note"

    /// `enabled`, `api-key`, `teams`, `recipients`, `url`, `global`.
    public let settings: OpsGenieSettings
    /// Where recoveries go (add a note, close the alert, …).
    public let recoveryURL: String

    public init(elements: [ConfigTable]) throws(ConfigError) {
        guard let table = elements.first else {
            settings = OpsGenieSettings(section: Self.section.name, defaultURL: Self.defaultURL)
            recoveryURL = Self.defaultRecoveryURL
            return
        }
        var r = ConfigReader(table, section: Self.section.name)
        settings = try OpsGenieSettings(&r, section: Self.section.name, defaultURL: Self.defaultURL)
        recoveryURL = try r.string("recovery_url", default: Self.defaultRecoveryURL)
        try r.finish()
        try settings.check()
        if recoveryURL.isEmpty { throw ConfigError("[opsgenie] recovery_url cannot be empty") }
        try ServiceSupport.checkURL(recoveryURL, key: "recovery_url", section: "opsgenie")
    }

    public var elements: [ConfigTable] { [settings.table.merging(["recovery_url": .string(recoveryURL)]) { $1 }] }

    public var globalHandlers: [AlertHandlerSpec] { settings.globalHandlers(kind: Self.kind) }

    public func makeSender(options: [String: HandlerOption]) throws(HandlerOptionError) -> any AlertSender {
        let (teams, recipients) = try settings.responders(options, kind: Self.kind)
        return OpsGenieSender(url: settings.url + "/", recoveryURL: recoveryURL + "/", apiKey: settings.apiKey,
                              teams: teams, recipients: recipients)
    }
}

/// Posts a v1 alert as Kapacitor's `services/opsgenie/service.go` does: the API key in the body, the alert ID as
/// entity and alias, the result JSON as description; a recovery goes to the recovery URL with the message as note.
struct OpsGenieSender: AlertSender {
    let url: String
    let recoveryURL: String
    let apiKey: String
    let teams: [String]
    let recipients: [String]

    var description: String { "opsgenie" }

    func body(_ event: AlertEvent) -> [UInt8] {
        let recovery = event.level == .ok
        var data: [String: GoValueJSON] = [
            "apiKey": .string(apiKey), "entity": .string(event.id), "alias": .string(event.id), "message": .string(event.message),
            "note": .string(recovery ? event.message : ""), "monitoring_tool": .string("kapacitor"),
            "details": .object(["Level": .string(recovery ? "RECOVERY" : event.level.description), "Monitoring Tool": .string("Kapacitor")]),
            "description": .string(event.resultJSON),
        ]
        if !teams.isEmpty { data["teams"] = .strings(teams) }
        if !recipients.isEmpty { data["recipients"] = .strings(recipients) }
        return GoValueJSON.object(data).encodedLine
    }

    func send(_ event: AlertEvent) async throws(DeliveryFailure) {
        try await ServiceSupport.postJSON(url: event.level == .ok ? recoveryURL : url, body: body(event), service: description)
    }
}
