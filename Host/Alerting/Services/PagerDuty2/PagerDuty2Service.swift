import Engine
import TockModel

/// `[pagerduty2]`: PagerDuty's Events API v2 (Kapacitor's `services/pagerduty2/config.go`).
public struct PagerDuty2Service: AlertServiceKind {
    public static let kind = "pagerduty2"
    public static let section = ConfigSectionSpec("pagerduty2", redacted: ["routing-key"])
    public static let defaultURL = "https://events.pagerduty.com/v2/enqueue"

    /// `enabled`, `url`, `routing-key`, `global`.
    public let settings: KeyedSection

    public init(elements: [ConfigTable]) throws(ConfigError) {
        settings = try KeyedSection(elements, section: Self.section.name, keyName: "routing-key", defaultURL: Self.defaultURL)
    }

    public var elements: [ConfigTable] { settings.elements }

    public var globalHandlers: [AlertHandlerSpec] { settings.globalHandlers(kind: Self.kind) }

    public func makeSender(options: [String: HandlerOption]) throws(HandlerOptionError) -> any AlertSender {
        var r = OptionReader(options, kind: Self.kind)
        let key = try settings.handlerKey(&r)
        var links: [PagerDuty2Sender.Link] = []
        if let value = r.value("links") {
            guard case .list(let items) = value else {
                throw HandlerOptionError("pagerduty2 option links must be a list of {href, text}", option: "links")
            }
            for item in items {
                guard case .object(let o) = item, let href = o["href"]?.string, !href.isEmpty,
                      o.keys.allSatisfy({ $0 == "href" || $0 == "text" })
                else { throw HandlerOptionError("pagerduty2 option links: each link needs an href (and may have a text)", option: "links") }
                let text = o["text"]?.string ?? ""
                // Kapacitor renders href and text as Go templates over the event's template data.
                do {
                    links.append(PagerDuty2Sender.Link(href: try EventTemplate(name: "href", source: href, data: .templateData),
                                                       text: try EventTemplate(name: "text", source: text, data: .templateData)))
                } catch {
                    throw HandlerOptionError("pagerduty2 option links: \(error)", option: "links")
                }
            }
        }
        try r.finish()
        try settings.checkEnabled()
        return PagerDuty2Sender(url: settings.url, routingKey: key, clientURL: settings.clientURL, links: links)
    }
}

/// Sends an Events API v2 event as Kapacitor's `services/pagerduty2/service.go` does: `trigger` with severity
/// `critical`/`warning`/`info` and the alert's result as `custom_details.result`, or, for OK, a `resolve` carrying
/// only the routing and dedup keys; `dedup_key` is the alert ID.
struct PagerDuty2Sender: AlertSender {
    /// A link whose `href` and `text` are templates; an empty text is the href, as Kapacitor sends it.
    struct Link: Sendable {
        var href: EventTemplate
        var text: EventTemplate
    }

    let url: String
    let routingKey: String
    let clientURL: String
    let links: [Link]

    var description: String { "pagerduty2" }

    /// - Throws: a permanent failure when a link template fails on this event.
    func body(_ event: AlertEvent) throws(DeliveryFailure) -> [UInt8] {
        let severity: String
        switch event.level {
        case .warning: severity = "warning"
        case .critical: severity = "critical"
        case .info: severity = "info"
        case .ok:
            return GoValueJSON.fields([
                ("routing_key", .string(routingKey)), ("dedup_key", .string(event.id)), ("event_action", .string("resolve")),
            ]).encodedLine
        }
        let payload = GoValueJSON.fields([
            ("summary", .string(event.message)), ("source", .string(event.tags["host"] ?? "unknown")),
            ("severity", .string(severity)), ("timestamp", .string(event.rfc3339NineDigits)),
            ("class", .string(event.taskName)), ("component", .string("")), ("group", .string("")),
            ("custom_details", .object(["result": .raw(event.resultJSON)])),
        ])
        var rendered: [GoValueJSON] = []
        for link in links {
            do {
                let href = try link.href.render(event)
                let text = try link.text.render(event)
                rendered.append(.fields([("href", .string(href)), ("text", .string(text.isEmpty ? href : text))]))
            } catch {
                throw .permanent("pagerduty2: failed to render link template: \(error)")
            }
        }
        return GoValueJSON.fields([
            ("routing_key", .string(routingKey)), ("event_action", .string("trigger")), ("dedup_key", .string(event.id)),
            ("payload", payload), ("images", .null),
            ("links", rendered.isEmpty ? .null : .array(rendered)),
            ("client", .string("kapacitor")), ("client_url", .string(clientURL)),
        ]).encodedLine
    }

    func send(_ event: AlertEvent) async throws(DeliveryFailure) {
        try await ServiceSupport.postJSON(url: url, body: try body(event), headers: [("Accept", "application/vnd.pagerduty+json;version=2")],
                                          service: description)
    }
}
