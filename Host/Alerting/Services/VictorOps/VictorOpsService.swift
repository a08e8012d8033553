import Engine
import TockModel

/// `[victorops]`: VictorOps (Splunk On-Call) REST integration (Kapacitor's `services/victorops/config.go`).
public struct VictorOpsService: AlertServiceKind {
    public static let kind = "victorops"
    public static let section = ConfigSectionSpec("victorops", redacted: ["api-key"])
    public static let defaultURL = "https://alert.victorops.com/integrations/generic/20131114/alert"

    public var enabled = false
    public var apiKey = ""
    public var routingKey = ""
    public var url = defaultURL
    public var global = false
    /// Whether `data` holds the alert's result as JSON rather than as a string of JSON.
    public var jsonData = false

    public init(elements: [ConfigTable]) throws(ConfigError) {
        guard let table = elements.first else { return }
        var r = ConfigReader(table, section: Self.section.name)
        enabled = try r.bool("enabled")
        apiKey = try r.string("api-key")
        routingKey = try r.string("routing-key")
        url = try r.string("url", default: Self.defaultURL)
        global = try r.bool("global")
        jsonData = try r.bool("json-data")
        try r.finish()
        if url.isEmpty { throw ConfigError("[victorops] url cannot be empty") }
        try ServiceSupport.checkURL(url, key: "url", section: "victorops")
    }

    public var elements: [ConfigTable] {
        [["enabled": .bool(enabled), "api-key": ServiceSupport.redacted(apiKey), "routing-key": .string(routingKey),
          "url": .string(url), "global": .bool(global), "json-data": .bool(jsonData)]]
    }

    public var globalHandlers: [AlertHandlerSpec] { global ? [AlertHandlerSpec(kind: Self.kind)] : [] }

    public func makeSender(options: [String: HandlerOption]) throws(HandlerOptionError) -> any AlertSender {
        var r = OptionReader(options, kind: Self.kind)
        let key = try r.string("routing-key") ?? ""
        try r.finish()
        guard enabled else { throw ServiceSupport.notEnabled("victorops") }
        let routing = key.isEmpty ? routingKey : key
        return VictorOpsSender(url: ServiceSupport.joiningPath(url, [apiKey, routing]), routingKey: routing, jsonData: jsonData)
    }
}

/// Posts to `<url>/<api-key>/<routing-key>` as Kapacitor's `services/victorops/service.go` does: `message_type` is
/// the level, or `RECOVERY` for OK; `entity_id` the alert ID; `timestamp` Unix seconds.
struct VictorOpsSender: AlertSender {
    let url: String
    let routingKey: String
    let jsonData: Bool

    var description: String { "victorops routing key \"\(routingKey)\"" }

    func body(_ event: AlertEvent) -> [UInt8] {
        GoValueJSON.object([
            "message_type": .string(event.level == .ok ? "RECOVERY" : event.level.description),
            "entity_id": .string(event.id), "state_message": .string(event.message), "timestamp": .int(event.unixSeconds),
            "monitoring_tool": .string("kapacitor"),
            "data": jsonData ? .raw(event.resultJSON) : .string(event.resultJSON),
        ]).encodedLine
    }

    func send(_ event: AlertEvent) async throws(DeliveryFailure) {
        do {
            _ = try await AlertHTTP.postJSON(url: url, body: body(event))
        } catch {
            throw ServiceSupport.failure(error, description)
        }
    }
}
