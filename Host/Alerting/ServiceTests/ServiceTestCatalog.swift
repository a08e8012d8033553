import Engine
import TockModel

/// One service's test, as `GET /kapacitor/v1/service-tests` lists it and `POST /service-tests/{name}` runs it
/// (Kapacitor's `services/servicetest` with each service's `TestOptions()`/`Test()`).
///
/// A test sends one alert event made from the options through the service's own sender: the options that are
/// handler options (`channel`, `routing-key`) go to ``AlertServiceKind/makeSender(options:)``, the message, level,
/// alert ID and details make the event; the others are listed (Kapacitor lists them) and ignored.
public struct ServiceTest: Sendable {
    /// The name Kapacitor gives the test: the service's section name (`slack`, `httppost`).
    public let name: String
    /// The ``AlertServiceKind/kind`` of the service it tests (`post` for `httppost`).
    public let kind: String
    /// Kapacitor's default options, in the order its `testOptions` struct declares them; some read the service's
    /// configuration (Slack's channel).
    let defaults: @Sendable (any AlertServiceKind) -> [(String, HandlerOption)]
    /// Test option → handler option, for the options the sender takes.
    let handlerOptions: [String: String]
    let message: String?
    let level: String?
    let id: String?
    let details: String?
    /// Options Kapacitor fills from a Go slice or map that is nil unless configured: shown as JSON `null` when empty.
    let nullWhenEmpty: Set<String>

    init(_ name: String, kind: String? = nil, handler: [String: String] = [:], message: String? = "message",
         level: String? = "level", id: String? = nil, details: String? = nil, nullWhenEmpty: Set<String> = [],
         defaults: @escaping @Sendable (any AlertServiceKind) -> [(String, HandlerOption)]) {
        self.name = name
        self.kind = kind ?? name
        self.nullWhenEmpty = nullWhenEmpty
        self.handlerOptions = handler
        self.message = message
        self.level = level
        self.id = id
        self.details = details
        self.defaults = defaults
    }

    /// The default options given the service's current configuration.
    public func defaultOptions(for service: any AlertServiceKind) -> [(String, HandlerOption)] { defaults(service) }

    /// The default options as `GET /service-tests` shows them: `nil` stands for JSON `null`, which Kapacitor shows
    /// for a list it copies from an unset setting (OpsGenie's `teams` and `recipients`).
    public func defaultOptionValues(for service: any AlertServiceKind) -> [(String, HandlerOption?)] {
        defaults(service).map { key, value in
            guard nullWhenEmpty.contains(key), ServiceTest.isEmpty(value) else { return (key, value) }
            return (key, nil)
        }
    }
}

/// The service tests, by name, with Kapacitor's default test options (each service's `TestOptions()` in
/// `services/<name>/service.go`).
public enum ServiceTestCatalog {
    static let critical = HandlerOption.string("CRITICAL")
    static let empty = HandlerOption.string("")

    /// Every test, sorted by name as Kapacitor lists them.
    public static let all: [ServiceTest] = [
        ServiceTest("alerta", handler: ["resource": "resource", "event": "event", "environment": "environment",
                                        "group": "group", "value": "value", "origin": "origin", "service": "service",
                                        "timeout": "timeout"],
                    level: "severity", id: "event") { _ in
            [("resource", .string("testResource")), ("event", .string("testEvent")), ("environment", empty),
             ("severity", .string("critical")), ("group", .string("testGroup")), ("value", .string("testValue")),
             ("message", .string("test alerta message")), ("origin", empty),
             ("service", .list([.string("testServiceA"), .string("testServiceB")])), ("timeout", .string("24h0m0s"))]
        },
        ServiceTest("bigpanda", handler: ["app_key": "app-key"], id: "alert_id") { _ in
            [("app_key", empty), ("alert_id", .string("foo/bar/bat")), ("message", .string("test bigpanda message")),
             ("level", critical)]
        },
        ServiceTest("discord", handler: ["workspace": "workspace", "username": "username", "avatar-url": "avatar-url",
                                         "embed-title": "embed-title"]) { s in
            [("workspace", .string((s as? DiscordService)?.workspaces.first(where: \.isDefault)?.workspace ?? "")),
             ("message", .string("test discord message")), ("level", .string("INFO")), ("username", .string("Kapacitor")),
             ("avatar-url", .string("https://influxdata.github.io/branding/img/downloads/influxdata-logo--symbol--pool-alpha.png")),
             ("embed-title", .string("Kapacitor Alert")), ("time-val", .string("1970-01-01T00:00:01Z"))]
        },
        ServiceTest("httppost", kind: "post", handler: ["url": "url", "headers": "headers", "timeout": "timeout"],
                    message: nil, level: nil) { _ in
            [("endpoint", .string("example")), ("url", .string("http://localhost:3000/")),
             ("headers", .object(["Auth": .string("secret")])), ("timeout", .int(0))]
        },
        ServiceTest("kafka", handler: ["cluster": "cluster", "topic": "topic"], level: nil, id: "key") { _ in
            [("cluster", .string("example")), ("topic", .string("test")), ("key", .string("key")),
             ("message", .string("test kafka message"))]
        },
        ServiceTest("mqtt", handler: ["broker-name": "broker-name", "topic": "topic", "qos": "qos", "retained": "retained"],
                    level: nil) { _ in
            [("broker-name", empty), ("topic", empty), ("message", .string("test MQTT message")),
             ("qos", .string("at-most-once")), ("retained", .bool(false))]
        },
        ServiceTest("opsgenie", handler: ["teams": "teams-list", "recipients": "recipients-list"], level: "message-type",
                    id: "entity-id", nullWhenEmpty: ["teams", "recipients"]) { s in opsGenie((s as? OpsGenieService)?.settings) },
        ServiceTest("opsgenie2", handler: ["teams": "teams-list", "recipients": "recipients-list"], level: "message-type",
                    id: "entity-id", nullWhenEmpty: ["teams", "recipients"]) { s in opsGenie((s as? OpsGenie2Service)?.settings) },
        ServiceTest("pagerduty", message: "description", id: "incident-key", details: "details") { _ in
            [("incident-key", .string("testIncidentKey")), ("description", .string("test pagerduty message")),
             ("level", critical), ("details", empty)]
        },
        ServiceTest("pagerduty2", handler: ["links": "links"], message: "description", id: "alert_id") { _ in
            [("alert_id", .string("testAlertID")), ("description", .string("test pagerduty2 message")), ("level", critical),
             ("links", .list([]))]
        },
        ServiceTest("pushover", handler: ["user-key": "user-key", "device": "device", "title": "title", "url": "url",
                                          "url-title": "url-title", "sound": "sound"]) { _ in
            [("user-key", empty), ("message", .string("test pushover message")), ("device", empty), ("title", empty),
             ("url", empty), ("url-title", empty), ("sound", empty), ("level", critical)]
        },
        ServiceTest("sensu", handler: ["source": "source", "handlers": "handlers", "metadata": "metadata"],
                    message: "output", id: "name") { _ in
            [("name", .string("testName")), ("output", .string("testOutput")), ("source", .string("Kapacitor")),
             ("handlers", .list([])), ("metadata", .object([:])), ("level", critical)]
        },
        ServiceTest("servicenow", handler: ["source": "source"], id: "alert_id") { _ in
            [("alert_id", .string("1001")), ("source", .string("Kapacitor")), ("node", empty), ("type", empty),
             ("resource", empty), ("metric_name", empty), ("message_key", empty),
             ("message", .string("test servicenow message")), ("level", critical)]
        },
        ServiceTest("slack", handler: ["workspace": "workspace", "channel": "channel", "username": "username",
                                       "icon-emoji": "icon-emoji"]) { s in
            [("workspace", empty), ("channel", .string((s as? SlackService)?.defaultWorkspace?.channel ?? "")),
             ("message", .string("test slack message")), ("level", critical), ("username", empty), ("icon-emoji", empty)]
        },
        ServiceTest("smtp", handler: ["to": "to"], message: "subject", level: nil, details: "body") { _ in
            [("to", .list([])), ("subject", .string("test subject")), ("body", .string("test body"))]
        },
        ServiceTest("snmptrap", handler: ["trap-oid": "trap-oid", "data-list": "data-list"], message: nil, level: nil) { _ in
            [("trap-oid", .string("1.1.1.1")),
             ("data-list", .list([.object(["oid": .string("1.1.1.1.2"), "type": .string("s"),
                                           "value": .string("test snmptrap message")])]))]
        },
        ServiceTest("talk", message: "text", level: nil, id: "title") { _ in
            [("title", .string("testTitle")), ("text", .string("test talk text"))]
        },
        ServiceTest("teams", handler: ["channel_url": "channel-url"], id: "alert_id") { s in
            [("channel_url", .string((s as? TeamsService)?.channelURL ?? "")),
             ("alert_topic", .string("test kapacitor alert topic")), ("alert_id", .string("foo/bar/bat")),
             ("message", .string("test teams message")), ("level", critical)]
        },
        ServiceTest("telegram", handler: ["chat-id": "chat-id", "parse-mode": "parse-mode",
                                          "disable-web-page-preview": "disable-web-page-preview",
                                          "disable-notification": "disable-notification"], level: nil) { _ in
            [("chat-id", empty), ("parse-mode", empty), ("message", .string("test telegram message")),
             ("disable-web-page-preview", .bool(false)), ("disable-notification", .bool(false))]
        },
        ServiceTest("victorops", handler: ["routingKey": "routing-key"], level: "messageType", id: "entityID") { _ in
            [("routingKey", empty), ("messageType", critical), ("message", .string("test victorops message")),
             ("entityID", .string("testEntityID"))]
        },
        ServiceTest("zenoss", handler: ["action": "action", "method": "method", "type": "type", "tid": "tid"],
                    id: "alert_id") { s in
            // Kapacitor copies action, method, type, tid and collector from the [zenoss] configuration.
            let z = s as? ZenossService
            return [("alert_id", .string("1001")), ("level", critical), ("message", .string("test zenoss message")),
                    ("action", .string(z?.action ?? "EventsRouter")), ("method", .string(z?.method ?? "add_event")),
                    ("type", .string(z?.type ?? "rpc")), ("tid", .int(z?.tid ?? 1)), ("summary", empty), ("device", empty),
                    ("component", empty), ("eventclasskey", empty), ("eventclass", empty),
                    ("collector", .string(z?.collector ?? "")), ("custom_fields", .object([:]))]
        },
    ]

    /// OpsGenie's test options: `teams` and `recipients` are the configuration's (`c.Teams`, `c.Recipients`).
    static func opsGenie(_ settings: OpsGenieSettings?) -> [(String, HandlerOption)] {
        [("teams", .list((settings?.teams ?? []).map { .string($0) })),
         ("recipients", .list((settings?.recipients ?? []).map { .string($0) })), ("message-type", critical),
         ("message", .string("test opsgenie message")), ("entity-id", .string("testEntityID"))]
    }

    /// The test of `name`, if Tock has it.
    public static func test(named name: String) -> ServiceTest? { all.first { $0.name == name } }
}
