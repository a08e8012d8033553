import Engine
import Testing
@testable import Alerting
import TockModel

/// `sensu` (a JSON line on the client's TCP socket) and `talk` (a webhook POST), as Kapacitor sends them.
@Suite struct SensuTalkServiceTests {
    @Test func sensuWritesTheCheckResultAndReadsOk() async throws {
        let client = try PostReceiver(mode: .tcp(answer: "ok"))
        let service = try SensuService(elements: [["enabled": .bool(true), "addr": .string("127.0.0.1:\(client.port)"),
                                                  "handlers": .array([.string("pagerduty")])]])
        let critical = try service.makeSender(options: ["metadata": .object(["team": .string("ops"), "priority": .int(2), "name": .string("ignored")])])
        try await critical.send(IncidentFixtures.event(id: "cpu.serverA"))
        let ok = try service.makeSender(options: ["source": .string(#"{{ .Name }}-{{ index .Tags "host" }}"#), "handlers": .list([.string("h1")])])
        try await ok.send(IncidentFixtures.event(.ok, id: "cpu.serverA"))
        let lines = client.requests.map(\.text)
        #expect(lines == [
            #"{"handlers":["pagerduty"],"name":"cpu.serverA","output":"cpu is CRITICAL","priority":2,"source":"Kapacitor","status":2,"team":"ops"}"# + "\n",
            #"{"handlers":["h1"],"name":"cpu.serverA","output":"cpu is OK","source":"cpu-serverA","status":0}"# + "\n",
        ])
    }

    @Test func sensuWithoutHandlersSendsNull() throws {
        let service = try SensuService(elements: [["enabled": .bool(true), "addr": .string("127.0.0.1:1")]])
        let sender = try #require(try service.makeSender(options: [:]) as? SensuSender)
        let body = try sender.body(IncidentFixtures.event(.warning, id: "w"))
        #expect(String(decoding: body, as: UTF8.self) == #"{"handlers":null,"name":"w","output":"cpu is WARNING","source":"Kapacitor","status":1}"# + "\n")
    }

    @Test func sensuFailures() async throws {
        let client = try PostReceiver(mode: .tcp(answer: "invalid check"))
        let service = try SensuService(elements: [["enabled": .bool(true), "addr": .string("127.0.0.1:\(client.port)")]])
        let sender = try service.makeSender(options: [:])
        let refused = await IncidentFixtures.failure { () async throws(DeliveryFailure) in try await sender.send(IncidentFixtures.event(id: "x")) }
        #expect(refused?.isRetryable == false)
        #expect(refused?.reason.contains("sensu socket error: invalid check") == true)
        let badName = await IncidentFixtures.failure { () async throws(DeliveryFailure) in try await sender.send(IncidentFixtures.event()) }
        #expect(badName?.isRetryable == false)
        #expect(badName?.reason.contains("invalid name") == true)
        client.stop()
        let down = await IncidentFixtures.failure { () async throws(DeliveryFailure) in try await sender.send(IncidentFixtures.event(id: "x")) }
        #expect(down?.isRetryable == true)
    }

    @Test func sensuConfiguration() throws {
        let defaults = try SensuService(elements: [])
        #expect(defaults.elements == [["enabled": .bool(false), "addr": .string(""), "source": .string("Kapacitor"), "handlers": .array([])]])
        let off = #expect(throws: HandlerOptionError.self) { try defaults.makeSender(options: [:]) }
        #expect(off?.message.contains("[sensu]") == true)
        #expect(throws: ConfigError.self) { try SensuService(elements: [["enabled": .bool(true)]]) }
        let on = try SensuService(elements: [["enabled": .bool(true), "addr": .string("127.0.0.1:1")]])
        let unknown = #expect(throws: HandlerOptionError.self) { try on.makeSender(options: ["channel": .string("#x")]) }
        #expect(unknown?.option == "channel")
    }

    @Test func talkPostsTitleTextAndAuthor() async throws {
        let receiver = try PostReceiver()
        let service = try TalkService(elements: [["enabled": .bool(true), "url": .string(receiver.url + "/v1/services/webhook/abc"),
                                                 "author_name": .string("tock")]])
        try await service.makeSender(options: [:]).send(IncidentFixtures.event())
        try await service.makeSender(options: [:]).send(IncidentFixtures.event(.ok))
        #expect(receiver.requests.map(\.text) == [
            #"{"authorName":"tock","text":"cpu is CRITICAL","title":"cpu:host=serverA"}"# + "\n",
            #"{"authorName":"tock","text":"cpu is OK","title":"cpu:host=serverA"}"# + "\n",
        ])
        #expect(receiver.requests.first?.path == "/v1/services/webhook/abc")
        #expect(receiver.requests.first?.header("Content-Type") == "application/json")
        #expect(service.elements == [["enabled": .bool(true), "url": .bool(true), "author_name": .string("tock")]])
        #expect(throws: HandlerOptionError.self) { try service.makeSender(options: ["title": .string("x")]) }
        #expect(throws: HandlerOptionError.self) { try TalkService(elements: []).makeSender(options: [:]) }
    }

    @Test func talkExpects200() async throws {
        let receiver = try PostReceiver()
        receiver.respond(202, body: #"{"error":"queued elsewhere"}"#)
        receiver.respond(502)
        let sender = try TalkService(elements: [["enabled": .bool(true), "url": .string(receiver.url)]]).makeSender(options: [:])
        let accepted = await IncidentFixtures.failure { () async throws(DeliveryFailure) in try await sender.send(IncidentFixtures.event()) }
        #expect(accepted?.isRetryable == false)
        #expect(accepted?.reason.contains("queued elsewhere") == true)
        let gateway = await IncidentFixtures.failure { () async throws(DeliveryFailure) in try await sender.send(IncidentFixtures.event()) }
        #expect(gateway?.isRetryable == true)
    }
}
