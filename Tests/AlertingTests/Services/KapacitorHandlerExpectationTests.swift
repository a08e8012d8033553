import HTTPTesting
import Engine
import Foundation
import Testing
@testable import Alerting
import TockModel

/// Kapacitor's own expectations, handler by handler: the inputs of `server/server_test.go` `TestServer_AlertHandlers`
/// (topic handler `testAlertHandlers`, the alert `id`/`message`/`details` at the epoch with `alert value=1`, task
/// `testAlertHandlers`) and the request each `<service>test` receiver must see there. Bodies are compared as JSON
/// values, so key order does not matter; `ignoring` names the keys Tock sends that Kapacitor's test receiver does not
/// decode (each noted where it is used), which are checked by the service's own suite.
@Suite("Kapacitor's TestServer_AlertHandlers expectations, per handler")
struct KapacitorHandlerExpectationTests {
    /// Compares JSON `actual` with `expected` as values, after dropping the dotted key paths in `ignoring`.
    static func expectJSON(_ actual: String, _ expected: String, ignoring: [String] = [],
                           sourceLocation: SourceLocation = #_sourceLocation) throws {
        var got = try JSONSerialization.jsonObject(with: Data(actual.utf8), options: [.fragmentsAllowed])
        let want = try JSONSerialization.jsonObject(with: Data(expected.utf8), options: [.fragmentsAllowed])
        for path in ignoring { got = remove(path.split(separator: ".").map(String.init), from: got) }
        #expect(NSDictionary(dictionary: ["v": got]).isEqual(to: ["v": want]),
                "body \(actual) is not Kapacitor's \(expected) (ignoring \(ignoring))", sourceLocation: sourceLocation)
    }

    private static func remove(_ path: [String], from value: Any) -> Any {
        guard let key = path.first else { return value }
        if var object = value as? [String: Any] {
            if path.count == 1 { object[key] = nil } else if let inner = object[key] { object[key] = remove(Array(path.dropFirst()), from: inner) }
            return object
        }
        if let array = value as? [Any] { return array.map { remove(path, from: $0) } }
        return value
    }

    static func deliver(_ service: any AlertServiceKind, _ options: [String: HandlerOption], to receiver: HTTPReceiver) async throws -> HTTPReceiver.Request {
        try await Configured.deliver(try service.makeSender(options: options), Events.critical, to: receiver)
    }

    @Test("alerta: POST /alert with the token and Kapacitor's resource, event, service and correlate defaults")
    func alerta() async throws {
        let receiver = try await HTTPReceiver.start()
        defer { receiver.stop() }
        receiver.answer(status: 201)
        let service = try AlertaService(elements: [["enabled": .bool(true), "url": .string(receiver.url)]])
        let request = try await Self.deliver(service, [
            "token": .string("testtoken1234567"), "token-prefix": .string("Bearer"), "origin": .string("kapacitor"),
            "group": .string("test"), "environment": .string("env"), "timeout": .duration(86_400_000_000_000),
        ], to: receiver)
        #expect(request.path == "/alert")
        #expect(request.header("Authorization") == "Bearer testtoken1234567")
        // alertatest.PostData does not decode severity, tags or rawData.
        try Self.expectJSON(request.text, #"{"resource":"alert","event":"id","group":"test","environment":"env","text":"message","origin":"kapacitor","service":["alert"],"correlate":["alert"],"value":"","timeout":86400}"#,
                            ignoring: ["severity", "tags", "rawData"])
    }

    @Test("bigpanda: the handler's app-key wins over the config's; check, status, task Name:Task, timestamp 0")
    func bigpanda() async throws {
        let receiver = try await HTTPReceiver.start()
        defer { receiver.stop() }
        receiver.answer(status: 201)
        let service = try BigPandaService(elements: [["enabled": .bool(true), "token": .string("my-token-123"), "app-key": .string("my-app-key"),
                                                     "url": .string(receiver.url + "/test/bigpanda/alert")]])
        let request = try await Self.deliver(service, ["app-key": .string("my-app-key-123456")], to: receiver)
        #expect(request.path == "/test/bigpanda/alert")
        #expect(request.header("Authorization") == "Bearer my-token-123")
        // bigpandatest.PostData does not decode the auto-attributes (here the field value).
        try Self.expectJSON(request.text, #"{"app_key":"my-app-key-123456","check":"id","status":"critical","timestamp":0,"task":"testAlertHandlers:alert","description":"message","details":"details"}"#,
                            ignoring: ["value"])
    }

    @Test("discord: username, avatar_url and one embed coloured 0xF95F53 with no timestamp by default")
    func discord() async throws {
        let receiver = try await HTTPReceiver.start()
        defer { receiver.stop() }
        let service = try DiscordService(elements: [["enabled": .bool(true), "url": .string(receiver.url + "/test/discord/url")]])
        let avatar = "https://influxdata.github.io/branding/img/downloads/influxdata-logo--symbol--pool-alpha.png"
        let request = try await Self.deliver(service, ["username": .string("Kapacitor"), "avatar-url": .string(avatar),
                                                       "embed-title": .string("Kapacitor Alert")], to: receiver)
        #expect(request.path == "/test/discord/url")
        try Self.expectJSON(request.text, #"{"username":"Kapacitor","avatar_url":"\#(avatar)","embeds":[{"color":16342867,"title":"Kapacitor Alert","timestamp":"","description":"message"}]}"#)
    }

    @Test("opsgenie (v1): apiKey in the body, alias and entity the ID, Kapacitor's details, the result as description")
    func opsgenie() async throws {
        let receiver = try await HTTPReceiver.start()
        defer { receiver.stop() }
        let service = try OpsGenieService(elements: [["enabled": .bool(true), "url": .string(receiver.url), "api-key": .string("api_key")]])
        let request = try await Self.deliver(service, ["teams-list": .list([.string("A team"), .string("B team")]),
                                                       "recipients-list": .list([.string("test_recipient1"), .string("test_recipient2")])], to: receiver)
        #expect(request.path == "/")
        // opsgenietest.PostData does not decode monitoring_tool.
        try Self.expectJSON(request.text, #"{"apiKey":"api_key","message":"message","entity":"id","alias":"id","note":"","details":{"Level":"CRITICAL","Monitoring Tool":"Kapacitor"},"description":\#(Events.resultString),"teams":["A team","B team"],"recipients":["test_recipient1","test_recipient2"]}"#,
                            ignoring: ["monitoring_tool"])
    }

    @Test("opsgenie2: GenieKey header, alias base64(ID), priority P1, responders teams then users")
    func opsgenie2() async throws {
        let receiver = try await HTTPReceiver.start()
        defer { receiver.stop() }
        let service = try OpsGenie2Service(elements: [["enabled": .bool(true), "details": .bool(false), "url": .string(receiver.url),
                                                      "recovery_action": .string("notes"), "api-key": .string("api_key")]])
        let request = try await Self.deliver(service, ["teams-list": .list([.string("A team"), .string("B team")]),
                                                       "recipients-list": .list([.string("test_recipient1"), .string("test_recipient2")])], to: receiver)
        #expect(request.path == "/")
        #expect(request.header("Authorization") == "GenieKey api_key")
        try Self.expectJSON(request.text, #"{"message":"message","entity":"id","alias":"aWQ=","note":"","priority":"P1","details":{"Level":"CRITICAL","Monitoring Tool":"Kapacitor","Kapacitor Task Name":"alert"},"description":\#(Events.resultString),"responders":[{"name":"A team","type":"team"},{"name":"B team","type":"team"},{"username":"test_recipient1","type":"user"},{"username":"test_recipient2","type":"user"}]}"#)
    }

    @Test("opsgenie2: with [opsgenie2] details = true the alert's details are the description")
    func opsgenie2Details() async throws {
        let receiver = try await HTTPReceiver.start()
        defer { receiver.stop() }
        let service = try OpsGenie2Service(elements: [["enabled": .bool(true), "details": .bool(true), "url": .string(receiver.url),
                                                      "api-key": .string("api_key")]])
        #expect(service.elements.first?["details"] == .bool(true))
        let request = try await Self.deliver(service, [:], to: receiver)
        try Self.expectJSON(request.text, #"{"message":"message","entity":"id","alias":"aWQ=","note":"","priority":"P1","details":{"Level":"CRITICAL","Monitoring Tool":"Kapacitor","Kapacitor Task Name":"alert"},"description":"details"}"#)
    }

    @Test("pagerduty2: link templates render over the event, an empty text is the href, a template naming no field is refused")
    func pagerduty2LinkTemplates() async throws {
        let service = try PagerDuty2Service(elements: [["enabled": .bool(true), "routing-key": .string("k")]])
        let broken = #expect(throws: HandlerOptionError.self) {
            try service.makeSender(options: ["links": .list([.object(["href": .string("http://x/{{ .Nope }}")])])])
        }
        #expect(broken?.option == "links")
        let sender = try #require(try service.makeSender(options: ["links": .list([.object(["href": .string("http://x/{{ .Name }}"),
                                                                                            "text": .string("")])])]) as? PagerDuty2Sender)
        try Self.expectJSON(String(decoding: try sender.body(Events.critical), as: UTF8.self),
                            #"{"routing_key":"k","event_action":"trigger","dedup_key":"id","payload":{"summary":"message","source":"unknown","severity":"critical","class":"testAlertHandlers","custom_details":{"result":\#(Events.result)},"timestamp":"1970-01-01T00:00:00.000000000Z"},"links":[{"href":"http://x/alert","text":"http://x/alert"}],"client":"kapacitor","client_url":"http://localhost:9092/kapacitor/v1"}"#,
                            ignoring: ["payload.component", "payload.group", "images"])
    }

    @Test("pagerduty (v1): service_key, trigger, description, client kapacitor and the client_url, details")
    func pagerduty() async throws {
        let receiver = try await HTTPReceiver.start()
        defer { receiver.stop() }
        let service = try PagerDutyService(elements: [["enabled": .bool(true), "url": .string(receiver.url)]])
        let request = try await Self.deliver(service, ["service-key": .string("service_key")], to: receiver)
        #expect(request.path == "/")
        // pagerdutytest.PostData does not decode incident_key; client_url is Kapacitor's own URL (see KeyedSection).
        try Self.expectJSON(request.text, #"{"service_key":"service_key","event_type":"trigger","description":"message","client":"kapacitor","client_url":"http://localhost:9092/kapacitor/v1","details":"details"}"#,
                            ignoring: ["incident_key"])
    }

    @Test("pagerduty2: the PD-CEF payload with class = task, source unknown, links rendered, client and client_url")
    func pagerduty2() async throws {
        let receiver = try await HTTPReceiver.start()
        defer { receiver.stop() }
        receiver.answer(status: 202)
        let service = try PagerDuty2Service(elements: [["enabled": .bool(true), "url": .string(receiver.url)]])
        let request = try await Self.deliver(service, [
            "routing-key": .string("rkey"),
            "links": .list([.object(["href": .string("http://example.com"), "text": .string("t1")]),
                            .object(["href": .string("http://example.com/{{.TaskName}}"), "text": .string("t2")])]),
        ], to: receiver)
        #expect(request.path == "/")
        // pagerduty2test.PDCEF does not decode component and group (empty here), nor the body's images.
        try Self.expectJSON(request.text, #"{"client":"kapacitor","client_url":"http://localhost:9092/kapacitor/v1","event_action":"trigger","dedup_key":"id","payload":{"summary":"message","source":"unknown","severity":"critical","class":"testAlertHandlers","custom_details":{"result":\#(Events.result)},"timestamp":"1970-01-01T00:00:00.000000000Z"},"routing_key":"rkey","links":[{"href":"http://example.com","text":"t1"},{"href":"http://example.com/testAlertHandlers","text":"t2"}]}"#,
                            ignoring: ["payload.component", "payload.group", "images"])
    }

    @Test("pushover: the form token, user, message and priority 1 for a critical alert")
    func pushover() async throws {
        let receiver = try await HTTPReceiver.start()
        defer { receiver.stop() }
        let service = try PushoverService(elements: [["enabled": .bool(true), "url": .string(receiver.url), "token": .string("api_key"),
                                                     "user-key": .string("user")]])
        let request = try await Self.deliver(service, [:], to: receiver)
        #expect(request.header("Content-Type") == "application/x-www-form-urlencoded")
        let form = Dictionary(uniqueKeysWithValues: request.text.split(separator: "&").map { pair in
            let parts = pair.split(separator: "=", maxSplits: 1).map(String.init)
            return (parts[0], parts.count > 1 ? parts[1] : "")
        })
        #expect(form == ["token": "api_key", "user": "user", "message": "message", "priority": "1"])
    }

    @Test("sensu: name, source, output, status 2 and the metadata flattened beside them")
    func sensu() async throws {
        let client = try PostReceiver(mode: .tcp(answer: "ok"))
        let service = try SensuService(elements: [["enabled": .bool(true), "addr": .string("127.0.0.1:\(client.port)"), "source": .string("Kapacitor")]])
        try await service.makeSender(options: ["source": .string("Kapacitor"),
                                               "metadata": .object(["k1": .string("v1"), "k2": .int(5)])]).send(Events.critical)
        let line = try #require(client.requests.first?.text)
        try Self.expectJSON(line, #"{"name":"id","source":"Kapacitor","output":"message","status":2,"handlers":null,"k1":"v1","k2":5}"#)
    }

    @Test("servicenow: one record with source, severity 1, description and message_key the ID")
    func servicenow() async throws {
        let receiver = try await HTTPReceiver.start()
        defer { receiver.stop() }
        let service = try ServiceNowService(elements: [["enabled": .bool(true), "url": .string(receiver.url + "/api/global/em/jsonv2"),
                                                       "source": .string("Kapacitor")]])
        let request = try await Self.deliver(service, ["source": .string("Kapacitor")], to: receiver)
        #expect(request.path == "/api/global/em/jsonv2")
        try Self.expectJSON(request.text, #"{"records":[{"source":"Kapacitor","severity":"1","description":"message","message_key":"id"}]}"#)
    }

    @Test("slack: channel, username kapacitor, empty text and one danger attachment")
    func slack() async throws {
        let receiver = try await HTTPReceiver.start()
        defer { receiver.stop() }
        let service = try SlackService(elements: [["enabled": .bool(true), "url": .string(receiver.url + "/test/slack/url")]])
        let request = try await Self.deliver(service, ["channel": .string("#test")], to: receiver)
        #expect(request.path == "/test/slack/url")
        // slacktest.PostData does not decode as_user and icon_emoji.
        try Self.expectJSON(request.text, ##"{"channel":"#test","username":"kapacitor","text":"","attachments":[{"fallback":"message","color":"danger","text":"message","mrkdwn_in":["text"]}]}"##,
                            ignoring: ["as_user", "icon_emoji"])
    }

    @Test("talk: authorName from the config, the message as text and the ID as title")
    func talk() async throws {
        let receiver = try await HTTPReceiver.start()
        defer { receiver.stop() }
        let service = try TalkService(elements: [["enabled": .bool(true), "url": .string(receiver.url), "author_name": .string("Kapacitor")]])
        let request = try await Self.deliver(service, [:], to: receiver)
        #expect(request.path == "/")
        try Self.expectJSON(request.text, #"{"authorName":"Kapacitor","text":"message","title":"id"}"#)
    }

    @Test("teams: a MessageCard titled CRITICAL: [id], summary cut with ..., colour CC4A31")
    func teams() async throws {
        let receiver = try await HTTPReceiver.start()
        defer { receiver.stop() }
        let service = try TeamsService(elements: [["enabled": .bool(true), "channel-url": .string(receiver.url)]])
        let request = try await Self.deliver(service, [:], to: receiver)
        #expect(request.path == "/")
        try Self.expectJSON(request.text, #"{"@type":"MessageCard","@context":"http://schema.org/extensions","title":"CRITICAL: [id]","text":"message","summary":"CRITICAL: [id] - message...","themeColor":"CC4A31"}"#)
    }

    @Test("teams: Kapacitor's three titles: the ID, else the topic, else the level alone")
    func teamsTitles() throws {
        let sender = TeamsSender(channelURL: "http://x")
        var anonymous = Events.critical
        anonymous.id = ""
        try Self.expectJSON(String(decoding: sender.body(anonymous, topic: "cpu"), as: UTF8.self),
                            #"{"@type":"MessageCard","@context":"http://schema.org/extensions","title":"CRITICAL: [cpu]","text":"message","summary":"CRITICAL: [cpu] - message...","themeColor":"CC4A31"}"#)
        try Self.expectJSON(String(decoding: sender.body(anonymous, topic: ""), as: UTF8.self),
                            #"{"@type":"MessageCard","@context":"http://schema.org/extensions","title":"CRITICAL","text":"message","summary":"CRITICAL: message...","themeColor":"CC4A31"}"#)
        try Self.expectJSON(String(decoding: sender.body(Events.critical, topic: "cpu"), as: UTF8.self),
                            #"{"@type":"MessageCard","@context":"http://schema.org/extensions","title":"CRITICAL: [id]","text":"message","summary":"CRITICAL: [id] - message...","themeColor":"CC4A31"}"#)
    }

    @Test("telegram: sendMessage under bot<token> with chat_id, text, no parse mode and the preview flag")
    func telegram() async throws {
        let receiver = try await HTTPReceiver.start()
        defer { receiver.stop() }
        let service = try TelegramService(elements: [["enabled": .bool(true), "url": .string(receiver.url + "/bot"), "token": .string("TOKEN:AUTH")]])
        let request = try await Self.deliver(service, ["chat-id": .string("chat id"), "disable-web-page-preview": .bool(true)], to: receiver)
        #expect(request.path == "/botTOKEN:AUTH/sendMessage")
        try Self.expectJSON(request.text, #"{"chat_id":"chat id","text":"message","disable_web_page_preview":true}"#)
    }

    @Test("victorops: POST /<api-key>/<routing-key> with message_type, entity_id, state_message and the result as data")
    func victorops() async throws {
        let receiver = try await HTTPReceiver.start()
        defer { receiver.stop() }
        let service = try VictorOpsService(elements: [["enabled": .bool(true), "url": .string(receiver.url), "api-key": .string("api_key")]])
        let request = try await Self.deliver(service, ["routing-key": .string("key")], to: receiver)
        #expect(request.path == "/api_key/key")
        try Self.expectJSON(request.text, #"{"message_type":"CRITICAL","entity_id":"id","state_message":"message","timestamp":0,"monitoring_tool":"kapacitor","data":\#(Events.resultString)}"#)
    }
}
