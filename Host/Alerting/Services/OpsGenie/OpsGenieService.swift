import Engine

/// `[opsgenie]`: OpsGenie's v1 alert API (Kapacitor's `services/opsgenie/config.go`).
public struct OpsGenieService: AlertServiceKind {
    public static let kind = "opsgenie"
    public static let section = ConfigSectionSpec("opsgenie", redacted: ["api-key"])
    public static let defaultURL = "https://api.opsgenie.com/v1/json/alert"
    public static let defaultRecoveryURL = "https://api.opsgenie.com/v1/json/alert/note"

    public var enabled = false
    public var apiKey = ""
    public var teams: [String] = []
    public var recipients: [String] = []
    public var url = defaultURL
    /// Where recoveries go (add a note, close the alert, …).
    public var recoveryURL = defaultRecoveryURL
    public var global = false

    public init(elements: [ConfigTable]) throws(ConfigError) {
        guard let table = elements.first else { return }
        var r = ConfigReader(table, section: Self.section.name)
        enabled = try r.bool("enabled")
        apiKey = try r.string("api-key")
        teams = try r.strings("teams")
        recipients = try r.strings("recipients")
        url = try r.string("url", default: Self.defaultURL)
        recoveryURL = try r.string("recovery_url", default: Self.defaultRecoveryURL)
        global = try r.bool("global")
        try r.finish()
        if url.isEmpty { throw ConfigError("[opsgenie] url cannot be empty") }
        if recoveryURL.isEmpty { throw ConfigError("[opsgenie] recovery_url cannot be empty") }
        try ServiceSupport.checkURL(url, key: "url", section: "opsgenie")
        try ServiceSupport.checkURL(recoveryURL, key: "recovery_url", section: "opsgenie")
        if enabled && apiKey.isEmpty { throw ConfigError("[opsgenie] api-key cannot be empty") }
    }

    public var elements: [ConfigTable] {
        [["enabled": .bool(enabled), "api-key": ServiceSupport.redacted(apiKey), "teams": .array(teams.map(ConfigValue.string)),
          "recipients": .array(recipients.map(ConfigValue.string)), "url": .string(url), "recovery_url": .string(recoveryURL),
          "global": .bool(global)]]
    }

    public var globalHandlers: [AlertHandlerSpec] { global ? [AlertHandlerSpec(kind: Self.kind)] : [] }

    public func makeSender(options: [String: HandlerOption]) throws(HandlerOptionError) -> any AlertSender {
        var r = OptionReader(options, kind: Self.kind)
        let t = try r.strings("teams-list") ?? []
        let p = try r.strings("recipients-list") ?? []
        try r.finish()
        guard enabled else { throw ServiceSupport.notEnabled("opsgenie") }
        return OpsGenieSender(url: url + "/", recoveryURL: recoveryURL + "/", apiKey: apiKey,
                              teams: t.isEmpty ? teams : t, recipients: p.isEmpty ? recipients : p)
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
        var data: [String: JSONBody] = [
            "apiKey": .string(apiKey), "entity": .string(event.id), "alias": .string(event.id), "message": .string(event.message),
            "note": .string(recovery ? event.message : ""), "monitoring_tool": .string("kapacitor"),
            "details": .map(["Level": .string(recovery ? "RECOVERY" : event.level.description), "Monitoring Tool": .string("Kapacitor")]),
            "description": .string(event.resultJSON),
        ]
        if !teams.isEmpty { data["teams"] = .strings(teams) }
        if !recipients.isEmpty { data["recipients"] = .strings(recipients) }
        return JSONBody.map(data).encoderBytes
    }

    func send(_ event: AlertEvent) async throws(DeliveryFailure) {
        do {
            _ = try await AlertHTTP.postJSON(url: event.level == .ok ? recoveryURL : url, body: body(event))
        } catch {
            throw ServiceSupport.failure(error, description)
        }
    }
}
