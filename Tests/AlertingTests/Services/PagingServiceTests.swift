import HTTPTesting
import Engine
import Testing
@testable import Alerting
import TockModel

/// PagerDuty (v1 and v2), VictorOps, Pushover and OpsGenie (v1 and v2) send the requests Kapacitor's services send
/// (`services/<name>/service.go`; the expected values follow `server/server_test.go` `TestServer_AlertHandlers`).
@Suite("Paging services: PagerDuty, PagerDuty v2, VictorOps, Pushover, OpsGenie, OpsGenie v2")
struct PagingServiceTests {
    @Test("pagerduty: trigger and resolve keyed by the alert ID, details from the details template; INFO is refused")
    func pagerDuty() async throws {
        let receiver = try await HTTPReceiver.start()
        defer { receiver.stop() }
        let sender = try Configured.service("pagerduty", url: receiver.url).makeSender(options: [:])

        let critical = try await Configured.deliver(sender, Events.critical, to: receiver)
        #expect(critical.path == "/pd")
        #expect(critical.header("Content-Type") == "application/json")
        #expect(critical.text == #"{"client":"kapacitor","client_url":"http://localhost:9092/kapacitor/v1","description":"message","details":"details","event_type":"trigger","incident_key":"id","service_key":"service_key"}"# + "\n")

        let ok = try await Configured.deliver(sender, Events.recovery, to: receiver)
        #expect(ok.text == #"{"client":"kapacitor","client_url":"http://localhost:9092/kapacitor/v1","description":"message","details":"details","event_type":"resolve","incident_key":"id","service_key":"service_key"}"# + "\n")

        await #expect { try await sender.send(Events.event(.info)) } throws: { error in
            (error as? DeliveryFailure)?.reason.contains("AlertLevel 'info' is currently ignored") == true
        }
        #expect(receiver.requests.count == 2)

        let other = try Configured.service("pagerduty", url: receiver.url).makeSender(options: ["service-key": .string("other")])
        #expect(try await Configured.deliver(other, Events.critical, to: receiver).text.contains(#""service_key":"other""#))

        #expect(try PagerDutyService(elements: []).elements == [[
            "enabled": .bool(false), "url": .string("https://events.pagerduty.com/generic/2010-04-15/create_event.json"),
            "service-key": .bool(false), "global": .bool(false),
        ]])
    }

    @Test("pagerduty2: a trigger with severity, the result as custom_details and links; OK resolves by dedup_key")
    func pagerDuty2() async throws {
        let receiver = try await HTTPReceiver.start()
        defer { receiver.stop() }
        let sender = try Configured.service("pagerduty2", url: receiver.url).makeSender(options: [
            "links": .list([.object(["href": .string("http://example.com")]),
                            .object(["href": .string("http://example.com/b"), "text": .string("b")])]),
        ])

        let critical = try await Configured.deliver(sender, Events.critical, to: receiver)
        #expect(critical.path == "/v2/enqueue")
        #expect(critical.header("Content-Type") == "application/json")
        #expect(critical.header("Accept") == "application/vnd.pagerduty+json;version=2")
        #expect(critical.text == #"{"routing_key":"rkey","event_action":"trigger","dedup_key":"id","payload":{"summary":"message","source":"unknown","severity":"critical","timestamp":"1970-01-01T00:00:00.000000000Z","class":"testAlertHandlers","component":"","group":"","custom_details":{"result":\#(Events.result)}},"images":null,"links":[{"href":"http://example.com","text":"http://example.com"},{"href":"http://example.com/b","text":"b"}],"client":"kapacitor","client_url":"http://localhost:9092/kapacitor/v1"}"# + "\n")

        let ok = try await Configured.deliver(sender, Events.recovery, to: receiver)
        #expect(ok.text == #"{"routing_key":"rkey","dedup_key":"id","event_action":"resolve"}"# + "\n")

        let host = try await Configured.deliver(try Configured.service("pagerduty2", url: receiver.url).makeSender(options: [:]),
                                                Events.event(.info, time: 1_500_000_000_000_000_123, tags: ["host": "serverA"]), to: receiver)
        #expect(host.text.contains(#""source":"serverA","severity":"info","timestamp":"2017-07-14T02:40:00.000000123Z""#))
        #expect(host.text.contains(#""images":null,"links":null,"#))

        #expect { try Configured.service("pagerduty2", url: receiver.url).makeSender(options: ["links": .string("x")]) } throws: { error in
            (error as? HandlerOptionError)?.option == "links"
        }
        #expect(try PagerDuty2Service(elements: []).elements == [[
            "enabled": .bool(false), "url": .string("https://events.pagerduty.com/v2/enqueue"), "routing-key": .bool(false),
            "global": .bool(false),
        ]])
    }

    @Test("victorops: posted under the API and routing keys, RECOVERY for OK, the result as a string or as JSON")
    func victorOps() async throws {
        let receiver = try await HTTPReceiver.start()
        defer { receiver.stop() }
        let sender = try Configured.service("victorops", url: receiver.url).makeSender(options: [:])

        let critical = try await Configured.deliver(sender, Events.critical, to: receiver)
        #expect(critical.path == "/api_key/test_key")
        #expect(critical.header("Content-Type") == "application/json")
        #expect(critical.text == #"{"data":\#(Events.resultString),"entity_id":"id","message_type":"CRITICAL","monitoring_tool":"kapacitor","state_message":"message","timestamp":0}"# + "\n")

        let ok = try await Configured.deliver(sender, Events.recovery, to: receiver)
        #expect(ok.text == #"{"data":\#(Events.resultString),"entity_id":"id","message_type":"RECOVERY","monitoring_tool":"kapacitor","state_message":"message","timestamp":0}"# + "\n")

        let json = try VictorOpsService(elements: [["enabled": .bool(true), "url": .string(receiver.url + "/alert"),
                                                    "api-key": .string("k"), "routing-key": .string("r"), "json-data": .bool(true)]])
            .makeSender(options: ["routing-key": .string("db")])
        let asJSON = try await Configured.deliver(json, Events.event(.warning, time: 1_500_000_000_900_000_000), to: receiver)
        #expect(asJSON.path == "/alert/k/db")
        #expect(asJSON.text == #"{"data":\#(Events.result),"entity_id":"id","message_type":"WARNING","monitoring_tool":"kapacitor","state_message":"message","timestamp":1500000000}"# + "\n")

        #expect(try VictorOpsService(elements: []).elements == [[
            "enabled": .bool(false), "api-key": .bool(false), "routing-key": .string(""),
            "url": .string("https://alert.victorops.com/integrations/generic/20131114/alert"), "global": .bool(false),
            "json-data": .bool(false),
        ]])
    }

    @Test("pushover: a form with Go's key order and escaping, priority by level")
    func pushover() async throws {
        let receiver = try await HTTPReceiver.start()
        defer { receiver.stop() }
        let sender = try Configured.service("pushover", url: receiver.url).makeSender(options: [:])

        let critical = try await Configured.deliver(sender, Events.critical, to: receiver)
        #expect(critical.path == "/1/messages.json")
        #expect(critical.header("Content-Type") == "application/x-www-form-urlencoded")
        #expect(critical.text == "message=message&priority=1&token=api_key&user=user")

        let ok = try await Configured.deliver(sender, Events.recovery, to: receiver)
        #expect(ok.text == "message=message&priority=-2&token=api_key&user=user")

        let full = try Configured.service("pushover", url: receiver.url).makeSender(options: [
            "device": .string("phone"), "title": .string("CPU high"), "url": .string("http://example.com/a?b=c"),
            "url-title": .string("graph"), "sound": .string("siren"), "user-key": .string("other"),
        ])
        let warning = try await Configured.deliver(full, Events.event(.warning, message: "x > 90% & rising"), to: receiver)
        #expect(warning.text == "device=phone&message=x+%3E+90%25+%26+rising&priority=0&sound=siren&title=CPU+high&token=api_key&url=http%3A%2F%2Fexample.com%2Fa%3Fb%3Dc&url_title=graph&user=other")

        #expect(try PushoverService(elements: []).elements == [[
            "enabled": .bool(false), "token": .bool(false), "user-key": .bool(false), "url": .string("https://api.pushover.net/1/messages.json"),
        ]])
        #expect(throws: ConfigError("[pushover] must specify user-key")) {
            try PushoverService(elements: [["enabled": .bool(true), "token": .string("t")]])
        }
    }

    @Test("opsgenie: the v1 alert with the key in the body; recoveries go to the recovery URL as a note")
    func opsGenie() async throws {
        let receiver = try await HTTPReceiver.start()
        defer { receiver.stop() }
        let sender = try Configured.service("opsgenie", url: receiver.url).makeSender(options: [:])

        let critical = try await Configured.deliver(sender, Events.critical, to: receiver)
        #expect(critical.path == "/v1/json/alert/")
        #expect(critical.header("Content-Type") == "application/json")
        #expect(critical.text == #"{"alias":"id","apiKey":"api_key","description":\#(Events.resultString),"details":{"Level":"CRITICAL","Monitoring Tool":"Kapacitor"},"entity":"id","message":"message","monitoring_tool":"kapacitor","note":"","recipients":["test_recipient"],"teams":["A team","B team"]}"# + "\n")

        let ok = try await Configured.deliver(sender, Events.recovery, to: receiver)
        #expect(ok.path == "/v1/json/alert/note/")
        #expect(ok.text == #"{"alias":"id","apiKey":"api_key","description":\#(Events.resultString),"details":{"Level":"RECOVERY","Monitoring Tool":"Kapacitor"},"entity":"id","message":"message","monitoring_tool":"kapacitor","note":"message","recipients":["test_recipient"],"teams":["A team","B team"]}"# + "\n")

        let teams = try Configured.service("opsgenie", url: receiver.url).makeSender(options: ["teams-list": .list([.string("db")])])
        #expect(try await Configured.deliver(teams, Events.critical, to: receiver).text.contains(#""recipients":["test_recipient"],"teams":["db"]}"#))
    }

    @Test("opsgenie2: create with GenieKey, base64 alias, priority and responders; OK posts a note by alias")
    func opsGenie2() async throws {
        let receiver = try await HTTPReceiver.start()
        defer { receiver.stop() }
        let sender = try Configured.service("opsgenie2", url: receiver.url).makeSender(options: [:])

        let critical = try await Configured.deliver(sender, Events.critical, to: receiver)
        #expect(critical.path == "/v2/alerts")
        #expect(critical.header("Content-Type") == "application/json")
        #expect(critical.header("Authorization") == "GenieKey api_key")
        #expect(critical.text == #"{"alias":"aWQ=","description":\#(Events.resultString),"details":{"Kapacitor Task Name":"alert","Level":"CRITICAL","Monitoring Tool":"Kapacitor"},"entity":"id","message":"message","note":"","priority":"P1","responders":[{"name":"A team","type":"team"},{"name":"B team","type":"team"},{"type":"user","username":"test_recipient"}]}"# + "\n")

        let ok = try await Configured.deliver(sender, Events.recovery, to: receiver)
        #expect(ok.path == "/v2/alerts/aWQ=/notes?identifierType=alias")
        #expect(ok.header("Authorization") == "GenieKey api_key")
        #expect(ok.text == #"{"note":"message"}"# + "\n")

        let closing = try OpsGenie2Service(elements: [["enabled": .bool(true), "url": .string(receiver.url + "/v2/alerts"),
                                                      "api-key": .string("k"), "recovery_action": .string("close")]])
            .makeSender(options: ["recipients-list": .list([.string("bob")])])
        #expect(try await Configured.deliver(closing, Events.recovery, to: receiver).path == "/v2/alerts/aWQ=/close?identifierType=alias")
        let info = try await Configured.deliver(closing, Events.event(.info, tags: ["host": "a"]), to: receiver)
        #expect(info.text.contains(#""details":{"Kapacitor Task Name":"alert","Level":"INFO","Monitoring Tool":"Kapacitor","host":"a"}"#))
        #expect(info.text.contains(#""priority":"P5","responders":[{"type":"user","username":"bob"}]}"#))

        #expect(try OpsGenie2Service(elements: []).elements == [[
            "enabled": .bool(false), "api-key": .bool(false), "teams": .array([]), "recipients": .array([]),
            "url": .string("https://api.opsgenie.com/v2/alerts"), "recovery_action": .string("notes"), "global": .bool(false),
            "details": .bool(false),
        ]])
    }
}
