import Engine

/// `[pagerduty]`: PagerDuty's v1 generic events API (Kapacitor's `services/pagerduty/config.go`).
public struct PagerDutyService: AlertServiceKind {
    public static let kind = "pagerduty"
    public static let section = ConfigSectionSpec("pagerduty", redacted: ["service-key"])
    public static let defaultURL = "https://events.pagerduty.com/generic/2010-04-15/create_event.json"

    public var enabled = false
    public var url = defaultURL
    public var serviceKey = ""
    public var global = false
    /// Kapacitor's own API address, sent as `client_url` (Kapacitor sends its HTTP service's URL).
    public var clientURL = "http://localhost:9092/kapacitor/v1"

    public init(elements: [ConfigTable]) throws(ConfigError) {
        guard let table = elements.first else { return }
        var r = ConfigReader(table, section: Self.section.name)
        enabled = try r.bool("enabled")
        url = try r.string("url", default: Self.defaultURL)
        serviceKey = try r.string("service-key")
        global = try r.bool("global")
        try r.finish()
        if url.isEmpty { throw ConfigError("[pagerduty] url cannot be empty") }
        try ServiceSupport.checkURL(url, key: "url", section: "pagerduty")
    }

    public var elements: [ConfigTable] {
        [["enabled": .bool(enabled), "url": .string(url), "service-key": ServiceSupport.redacted(serviceKey), "global": .bool(global)]]
    }

    public var globalHandlers: [AlertHandlerSpec] { global ? [AlertHandlerSpec(kind: Self.kind)] : [] }

    public func makeSender(options: [String: HandlerOption]) throws(HandlerOptionError) -> any AlertSender {
        var r = OptionReader(options, kind: Self.kind)
        let key = try r.string("service-key") ?? ""
        try r.finish()
        guard enabled else { throw ServiceSupport.notEnabled("pagerduty") }
        return PagerDutySender(url: url, serviceKey: key.isEmpty ? serviceKey : key, clientURL: clientURL)
    }
}

/// Sends a v1 event as Kapacitor's `services/pagerduty/service.go` does: `trigger` for WARNING and CRITICAL,
/// `resolve` for OK, keyed by `incident_key` = the alert ID, with the details template's text as `details`.
/// PagerDuty v1 has no INFO: such an event fails, as Kapacitor's does.
struct PagerDutySender: AlertSender {
    let url: String
    let serviceKey: String
    let clientURL: String

    var description: String { "pagerduty" }

    func body(_ event: AlertEvent) throws(DeliveryFailure) -> [UInt8] {
        let eventType: String
        switch event.level {
        case .warning, .critical: eventType = "trigger"
        case .info: throw .permanent("pagerduty: AlertLevel 'info' is currently ignored by the PagerDuty service")
        case .ok: eventType = "resolve"
        }
        return JSONBody.stringMap([
            "service_key": serviceKey, "event_type": eventType, "description": event.message, "incident_key": event.id,
            "client": "kapacitor", "client_url": clientURL, "details": event.details,
        ]).encoderBytes
    }

    func send(_ event: AlertEvent) async throws(DeliveryFailure) {
        let payload = try body(event)
        do {
            _ = try await AlertHTTP.postJSON(url: url, body: payload)
        } catch {
            throw ServiceSupport.failure(error, description)
        }
    }
}
