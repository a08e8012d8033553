import HTTPTesting
import Engine
import TockModel
@testable import Alerting

/// The event of Kapacitor's `server_test.go` `TestServer_AlertHandlers`: point `alert value=1` at the epoch through
/// `alert().id('id').message('message').details('details').crit(lambda: TRUE)` in task `testAlertHandlers`.
enum Events {
    static let point = Message.point(Point(name: "alert", fields: ["value": .double(1)], time: 0))

    static func event(_ level: AlertLevel, message: String = "message", time: Timestamp = 0, tags: Tags = [:]) -> AlertEvent {
        AlertEvent(id: "id", message: message, details: "details", time: time, duration: 0, level: level,
                   previousLevel: level == .ok ? .critical : .ok, recoverable: true, data: point,
                   taskName: "testAlertHandlers", name: "alert", tags: tags)
    }

    static let critical = event(.critical)
    static let recovery = event(.ok)

    /// The alert's result as Kapacitor's handlers encode it.
    static let result = #"{"series":[{"name":"alert","columns":["time","value"],"values":[["1970-01-01T00:00:00Z",1]]}]}"#
    /// ``result`` as a JSON string.
    static let resultString = #""{\"series\":[{\"name\":\"alert\",\"columns\":[\"time\",\"value\"],\"values\":[[\"1970-01-01T00:00:00Z\",1]]}]}""#
}

/// Each service of this part, configured to send to `url` (a loopback receiver).
enum Configured {
    static let kinds = ["slack", "teams", "discord", "telegram", "pagerduty", "pagerduty2", "victorops", "pushover",
                        "opsgenie", "opsgenie2"]

    static func service(_ kind: String, url: String, enabled: Bool = true) throws -> any AlertServiceKind {
        let on = ConfigValue.bool(enabled)
        switch kind {
        case "slack": return try SlackService(elements: [["enabled": on, "url": .string(url + "/test/slack/url"), "channel": .string("#test")]])
        case "teams": return try TeamsService(elements: [["enabled": on, "channel-url": .string(url + "/teams/hook")]])
        case "discord": return try DiscordService(elements: [["enabled": on, "url": .string(url + "/discord/hook")]])
        case "telegram":
            return try TelegramService(elements: [["enabled": on, "url": .string(url + "/bot"), "token": .string("TOKEN:AUTH"),
                                                  "chat-id": .string("chat id")]])
        case "pagerduty": return try PagerDutyService(elements: [["enabled": on, "url": .string(url + "/pd"), "service-key": .string("service_key")]])
        case "pagerduty2": return try PagerDuty2Service(elements: [["enabled": on, "url": .string(url + "/v2/enqueue"), "routing-key": .string("rkey")]])
        case "victorops":
            return try VictorOpsService(elements: [["enabled": on, "url": .string(url), "api-key": .string("api_key"),
                                                   "routing-key": .string("test_key")]])
        case "pushover":
            return try PushoverService(elements: [["enabled": on, "url": .string(url + "/1/messages.json"), "token": .string("api_key"),
                                                  "user-key": .string("user")]])
        case "opsgenie":
            return try OpsGenieService(elements: [["enabled": on, "url": .string(url + "/v1/json/alert"),
                                                  "recovery_url": .string(url + "/v1/json/alert/note"), "api-key": .string("api_key"),
                                                  "teams": .array([.string("A team"), .string("B team")]),
                                                  "recipients": .array([.string("test_recipient")])]])
        case "opsgenie2":
            return try OpsGenie2Service(elements: [["enabled": on, "url": .string(url + "/v2/alerts"), "api-key": .string("api_key"),
                                                   "teams": .array([.string("A team"), .string("B team")]),
                                                   "recipients": .array([.string("test_recipient")])]])
        default: throw ReceiverError("no service \(kind) in this part")
        }
    }

    /// Sends one event and returns the request the receiver got.
    static func deliver(_ sender: any AlertSender, _ event: AlertEvent, to receiver: HTTPReceiver) async throws -> HTTPReceiver.Request {
        let before = receiver.requests.count
        try await sender.send(event)
        return try await receiver.waitForRequests(before + 1)[before]
    }
}
