/// How a handler's TICKscript property sets its options.
public enum HandlerPropertyEffect: Sendable, Hashable {
    /// Sets `key` to the single argument (or to `true` when the property takes none).
    case set(String)
    /// Appends the arguments to the list at `key` (`.to(address)`, `.teams(a, b)`).
    case append(String)
    /// Sets entry `args[0]` of the object at `key` to `args[1]` (`.header(k, v)`, `.metadata(k, v)`).
    case entry(String)
    /// Appends an object of the arguments, named by `fields`, to the list at `key` (`.link(href, text)`).
    case record(String, fields: [String])
}

extension HandlerPropertyEffect {
    /// The option key the property sets.
    public var key: String {
        switch self {
        case .set(let k), .append(let k), .entry(let k): k
        case .record(let k, _): k
        }
    }
}

/// One property a handler takes after its method: `.channel('#alerts')` after `.slack()`.
public struct HandlerPropertySpec: Sendable, Hashable {
    public var name: String
    public var signature: Signature
    public var effect: HandlerPropertyEffect

    public init(_ name: String, _ signature: Signature = .none, _ effect: HandlerPropertyEffect) {
        self.name = name
        self.signature = signature
        self.effect = effect
    }
}

/// A handler method of the alert node (`.slack()`, `.email(to...)`), with its arguments and properties.
public struct HandlerKindSpec: Sendable, Hashable {
    /// The TICKscript method: `pagerDuty2`.
    public var method: String
    /// The topic-handler kind it makes: `pagerduty2`.
    public var kind: String
    /// The method's own arguments.
    public var arguments: Signature
    /// Where each positional argument goes; a variadic tail goes to the last one, as a list.
    public var argumentKeys: [String]
    public var properties: [String: HandlerPropertySpec]

    public init(_ method: String, kind: String, arguments: Signature = .none, argumentKeys: [String] = [],
                properties: [HandlerPropertySpec] = []) {
        self.method = method
        self.kind = kind
        self.arguments = arguments
        self.argumentKeys = argumentKeys
        self.properties = Dictionary(uniqueKeysWithValues: properties.map { ($0.name, $0) })
    }
}

/// Every handler method Kapacitor's alert node has (pipeline/alert.go), with the option keys of its topic-handler
/// form (services/*/service.go `HandlerConfig`), so a script's `.slack().channel('#x')` and a topic handler's
/// `{kind: slack, options: {channel: '#x'}}` are the same handler.
public enum HandlerCatalog {
    private static func s(_ name: String, _ key: String) -> HandlerPropertySpec { HandlerPropertySpec(name, Signature([.string]), .set(key)) }
    private static func flag(_ name: String, _ key: String) -> HandlerPropertySpec { HandlerPropertySpec(name, .none, .set(key)) }
    private static func list(_ name: String, _ key: String) -> HandlerPropertySpec {
        HandlerPropertySpec(name, Signature([], variadic: .string), .append(key))
    }
    private static func entry(_ name: String, _ key: String) -> HandlerPropertySpec {
        HandlerPropertySpec(name, Signature([.string, .string]), .entry(key))
    }

    public static let all: [HandlerKindSpec] = [
        HandlerKindSpec("log", kind: "log", arguments: Signature([.string]), argumentKeys: ["path"],
                        properties: [HandlerPropertySpec("mode", Signature([.int]), .set("mode"))]),
        HandlerKindSpec("post", kind: "post", arguments: Signature(optional: [.string]), argumentKeys: ["url"], properties: [
            s("endpoint", "endpoint"), entry("header", "headers"), flag("captureResponse", "capture-response"),
            HandlerPropertySpec("timeout", Signature([.duration]), .set("timeout")),
            flag("skipSSLVerification", "skip-ssl-verification"),
        ]),
        HandlerKindSpec("tcp", kind: "tcp", arguments: Signature([.string]), argumentKeys: ["address"]),
        HandlerKindSpec("exec", kind: "exec", arguments: Signature([.string], variadic: .string), argumentKeys: ["prog", "args"]),
        HandlerKindSpec("email", kind: "smtp", arguments: Signature([], variadic: .string), argumentKeys: ["to"],
                        properties: [list("to", "to")]),
        HandlerKindSpec("victorOps", kind: "victorops", properties: [s("routingKey", "routing-key")]),
        HandlerKindSpec("pagerDuty", kind: "pagerduty", properties: [s("serviceKey", "service-key")]),
        HandlerKindSpec("pagerDuty2", kind: "pagerduty2", properties: [
            s("routingKey", "routing-key"),
            HandlerPropertySpec("link", Signature([.string], optional: [.string]), .record("links", fields: ["href", "text"])),
        ]),
        HandlerKindSpec("pushover", kind: "pushover", properties: [
            s("userKey", "user-key"), s("device", "device"), s("title", "title"), s("uRL", "url"), s("uRLTitle", "url-title"),
            s("sound", "sound"),
        ]),
        HandlerKindSpec("sensu", kind: "sensu", properties: [
            s("source", "source"), list("handlers", "handlers"),
            HandlerPropertySpec("metadata", Signature([.string, .oneOf([.string, .int, .float, .bool])]), .entry("metadata")),
        ]),
        HandlerKindSpec("slack", kind: "slack", properties: [
            s("workspace", "workspace"), s("channel", "channel"), s("username", "username"), s("iconEmoji", "icon-emoji"),
        ]),
        HandlerKindSpec("telegram", kind: "telegram", properties: [
            s("chatId", "chat-id"), s("parseMode", "parse-mode"),
            flag("disableWebPagePreview", "disable-web-page-preview"), flag("disableNotification", "disable-notification"),
        ]),
        HandlerKindSpec("hipChat", kind: "hipchat", properties: [s("room", "room"), s("token", "token")]),
        HandlerKindSpec("alerta", kind: "alerta", properties: [
            s("token", "token"), s("tokenPrefix", "token-prefix"), s("resource", "resource"), s("event", "event"),
            s("environment", "environment"), s("group", "group"), s("value", "value"), s("origin", "origin"),
            list("services", "service"), list("correlated", "correlate"),
            HandlerPropertySpec("timeout", Signature([.duration]), .set("timeout")),
        ]),
        HandlerKindSpec("opsGenie", kind: "opsgenie", properties: [list("teams", "teams-list"), list("recipients", "recipients-list")]),
        HandlerKindSpec("opsGenie2", kind: "opsgenie2", properties: [list("teams", "teams-list"), list("recipients", "recipients-list")]),
        HandlerKindSpec("talk", kind: "talk"),
        HandlerKindSpec("mqtt", kind: "mqtt", arguments: Signature([.string]), argumentKeys: ["topic"], properties: [
            s("brokerName", "broker-name"), HandlerPropertySpec("qos", Signature([.int]), .set("qos")),
            HandlerPropertySpec("retained", Signature([.bool]), .set("retained")),
        ]),
        HandlerKindSpec("snmpTrap", kind: "snmptrap", arguments: Signature([.string]), argumentKeys: ["trap-oid"], properties: [
            HandlerPropertySpec("data", Signature([.string, .string, .string]), .record("data-list", fields: ["oid", "type", "value"])),
        ]),
        HandlerKindSpec("kafka", kind: "kafka", properties: [
            s("cluster", "cluster"), s("kafkaTopic", "topic"), s("template", "template"),
            flag("disablePartitionById", "disablePartitionById"), s("partitionAlgorithm", "partitionAlgorithm"),
        ]),
        HandlerKindSpec("teams", kind: "teams", properties: [s("channelURL", "channel-url")]),
        HandlerKindSpec("discord", kind: "discord", properties: [
            s("workspace", "workspace"), HandlerPropertySpec("timestamp", Signature([.bool]), .set("timestamp")),
            s("username", "username"), s("avatarUrl", "avatar-url"), s("embedTitle", "embed-title"),
        ]),
        HandlerKindSpec("bigPanda", kind: "bigpanda", properties: [
            s("appKey", "app-key"), s("primaryProperty", "primary-property"), s("secondaryProperty", "secondary-property"),
            s("host", "host"), entry("attribute", "attributes"),
        ]),
        HandlerKindSpec("serviceNow", kind: "servicenow", properties: [
            s("source", "source"), s("node", "node"), s("type", "type"), s("resource", "resource"),
            s("metricName", "metric_name"), s("messageKey", "message_key"), entry("additionalInfo", "additional_info"),
        ]),
        HandlerKindSpec("zenoss", kind: "zenoss", properties: [
            s("action", "action"), s("method", "method"), s("type", "type"),
            HandlerPropertySpec("tid", Signature([.int]), .set("tid")), s("summary", "summary"),
            s("device", "device"), s("component", "component"), s("eventClassKey", "eventClassKey"),
            s("eventClass", "eventClass"), s("collector", "collector"),
            HandlerPropertySpec("customField", Signature([.string, .oneOf([.string, .int, .float, .bool])]), .entry("customField")),
        ]),
        // Tock's own: a notifier plugin (`[notifiers.NAME]`), with the options its handshake declares.
        HandlerKindSpec("notify", kind: "notify", arguments: Signature([.string]), argumentKeys: ["notifier"], properties: [
            HandlerPropertySpec("option", Signature([.string, .oneOf([.string, .int, .float, .bool, .duration])]), .entry("options")),
        ]),
    ]

    /// The handler methods by name.
    public static let byMethod: [String: HandlerKindSpec] = Dictionary(uniqueKeysWithValues: all.map { ($0.method, $0) })

    /// Every property name some handler takes.
    public static let propertyNames: Set<String> = Set(all.flatMap { $0.properties.keys })
}
