import Engine
import TockModel

/// `[pagerduty]`: PagerDuty's v1 generic events API (Kapacitor's `services/pagerduty/config.go`).
public struct PagerDutyService: AlertServiceKind {
    public static let kind = "pagerduty"
    public static let section = ConfigSectionSpec("pagerduty", redacted: ["service-key"])
    public static let defaultURL = "https://events.pagerduty.com/generic/2010-04-15/create_event.json"

    /// `enabled`, `url`, `service-key`, `global`.
    public let settings: KeyedSection

    public init(elements: [ConfigTable]) throws(ConfigError) {
        settings = try KeyedSection(elements, section: Self.section.name, keyName: "service-key", defaultURL: Self.defaultURL)
    }

    public var elements: [ConfigTable] { settings.elements }

    public var globalHandlers: [AlertHandlerSpec] { settings.globalHandlers(kind: Self.kind) }

    public func makeSender(options: [String: HandlerOption]) throws(HandlerOptionError) -> any AlertSender {
        var r = OptionReader(options, kind: Self.kind)
        let key = try settings.handlerKey(&r)
        try r.finish()
        try settings.checkEnabled()
        return PagerDutySender(url: settings.url, serviceKey: key, clientURL: settings.clientURL)
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
        return GoValueJSON.stringMap([
            "service_key": serviceKey, "event_type": eventType, "description": event.message, "incident_key": event.id,
            "client": "kapacitor", "client_url": clientURL, "details": event.details,
        ]).encodedLine
    }

    func send(_ event: AlertEvent) async throws(DeliveryFailure) {
        try await ServiceSupport.postJSON(url: url, body: try body(event), service: description)
    }
}
