import Engine
import Foundation
import Testing
@testable import Alerting
import TockModel

/// `alerta` and `bigpanda`: the bodies and headers Kapacitor sends, on a loopback receiver answering 201.
@Suite struct AlertaBigPandaServiceTests {
    let raw = IncidentFixtures.rawData

    func alerta(_ receiver: PostReceiver, _ extra: ConfigTable = [:]) throws -> AlertaService {
        try AlertaService(elements: [["enabled": .bool(true), "url": .string(receiver.url + "/api"), "token": .string("tok"),
                                      "environment": .string("production"), "origin": .string("kapacitor")].merging(extra) { $1 }])
    }

    @Test func alertaDefaults() async throws {
        let receiver = try PostReceiver(status: 201)
        try await alerta(receiver).makeSender(options: [:]).send(IncidentFixtures.event())
        let request = try #require(receiver.requests.first)
        #expect(request.path == "/api/alert")
        #expect(request.header("Authorization") == "Bearer tok")
        #expect(request.header("Content-Type") == "application/json")
        #expect(request.text == #"{"correlate":["cpu"],"environment":"production","event":"cpu:host=serverA","group":"host=serverA","origin":"kapacitor","rawData":"# + raw + #","resource":"cpu","service":["cpu"],"severity":"critical","tags":["host=serverA"],"text":"cpu is CRITICAL","timeout":86400,"value":""}"# + "\n")
    }

    @Test func alertaTemplatesAndOverrides() async throws {
        let receiver = try PostReceiver(status: 201)
        let sender = try alerta(receiver).makeSender(options: [
            "resource": .string(#"{{ index .Tags "host" }}"#), "event": .string("{{ .Name }}"),
            "value": .string(#"{{ index .Fields "value" }}"#), "service": .list([.string("svc-{{ .Name }}")]),
            "correlate": .list([.string("a"), .string("b")]), "timeout": .duration(3_600_000_000_000),
            "origin": .string("tock"), "token": .string("t2"), "token-prefix": .string("Key"),
        ])
        try await sender.send(IncidentFixtures.event(.ok))
        let request = try #require(receiver.requests.first)
        #expect(request.header("Authorization") == "Key t2")
        #expect(request.text == #"{"correlate":["a","b"],"environment":"production","event":"cpu","group":"host=serverA","origin":"tock","rawData":"# + raw + #","resource":"serverA","service":["svc-cpu"],"severity":"ok","tags":["host=serverA"],"text":"cpu is OK","timeout":3600,"value":"91.5"}"# + "\n")
    }

    @Test func alertaAnswersAndOptions() async throws {
        let receiver = try PostReceiver(status: 201)
        receiver.respond(200, body: #"{"status":"error","message":"duplicate alert"}"#)
        receiver.respond(500)
        let service = try alerta(receiver)
        let sender = try service.makeSender(options: [:])
        let ok200 = await IncidentFixtures.failure { () async throws(DeliveryFailure) in try await sender.send(IncidentFixtures.event()) }
        #expect(ok200?.isRetryable == false)
        #expect(ok200?.reason.contains("duplicate alert") == true)
        let down = await IncidentFixtures.failure { () async throws(DeliveryFailure) in try await sender.send(IncidentFixtures.event()) }
        #expect(down?.isRetryable == true)
        let unknown = #expect(throws: HandlerOptionError.self) { try service.makeSender(options: ["services": .list([.string("x")])]) }
        #expect(unknown?.option == "services")
        let broken = #expect(throws: HandlerOptionError.self) { try service.makeSender(options: ["resource": .string("{{ .Nope }}")]) }
        #expect(broken?.option == "resource")
        let off = #expect(throws: HandlerOptionError.self) { try AlertaService(elements: []).makeSender(options: [:]) }
        #expect(off?.message.contains("[alerta]") == true)
        #expect(try AlertaService(elements: []).elements == [[
            "enabled": .bool(false), "url": .string(""), "insecure-skip-verify": .bool(false), "token": .bool(false),
            "token-prefix": .string(""), "environment": .string(""), "origin": .string(""), "timeout": .string("24h0m0s"),
        ]])
        #expect(throws: ConfigError.self) { try AlertaService(elements: [["enabled": .bool(true)]]) }
    }

    func bigPanda(_ receiver: PostReceiver, _ extra: ConfigTable = [:]) throws -> BigPandaService {
        try BigPandaService(elements: [["enabled": .bool(true), "url": .string(receiver.url + "/data/v2/alerts"),
                                        "token": .string("tok"), "app-key": .string("app")].merging(extra) { $1 }])
    }

    @Test func bigPandaDefaults() async throws {
        let receiver = try PostReceiver(status: 201)
        try await bigPanda(receiver).makeSender(options: [:]).send(IncidentFixtures.event())
        let request = try #require(receiver.requests.first)
        #expect(request.path == "/data/v2/alerts")
        #expect(request.header("Authorization") == "Bearer tok")
        #expect(request.header("Content-Type") == "application/json")
        #expect(request.text == #"{"app_key":"app","check":"cpu:host=serverA","description":"cpu is CRITICAL","details":"details","host":"serverA","status":"critical","task":"cpu_alert:cpu","timestamp":10,"value":91.5}"# + "\n")
    }

    @Test func bigPandaOptionsAndAutoAttributes() async throws {
        let receiver = try PostReceiver(status: 201)
        let sender = try bigPanda(receiver, ["auto-attributes": .string("fields")]).makeSender(options: [
            "app-key": .string("k2"), "primary-property": .string("host"), "secondary-property": .string("check"),
            "host": .string(#"{{ index .Tags "host" }}-box"#), "attributes": .object(["runbook": .string("https://wiki/{{ .Name }}")]),
        ])
        try await sender.send(IncidentFixtures.event(.ok, details: #"{&#34;json&#34;:1}"#))
        #expect(receiver.requests.first?.text == #"{"app_key":"k2","check":"cpu:host=serverA","description":"cpu is OK","host":"serverA-box","primary_property":"host","runbook":"https://wiki/cpu","secondary_property":"check","status":"ok","task":"cpu_alert:cpu","timestamp":10,"value":91.5}"# + "\n")
    }

    @Test func bigPandaUnescapesDetailsAndExpects201() async throws {
        let receiver = try PostReceiver(status: 201)
        receiver.respond(200, body: #"{"error":"app key unknown"}"#)
        receiver.respond(429, headers: [("Retry-After", "7")])
        let service = try bigPanda(receiver, ["auto-attributes": .string("")])
        let sender = try #require(try service.makeSender(options: [:]) as? BigPandaSender)
        let body = try sender.body(IncidentFixtures.event(.warning, details: "load &lt; 5 &amp; rising"))
        #expect(String(decoding: body, as: UTF8.self) == #"{"app_key":"app","check":"cpu:host=serverA","description":"cpu is WARNING","details":"load \u003c 5 \u0026 rising","status":"warning","task":"cpu_alert:cpu","timestamp":10}"# + "\n")
        let refused = await IncidentFixtures.failure { () async throws(DeliveryFailure) in try await sender.send(IncidentFixtures.event()) }
        #expect(refused?.isRetryable == false)
        #expect(refused?.reason.contains("app key unknown") == true)
        let limited = await IncidentFixtures.failure { () async throws(DeliveryFailure) in try await sender.send(IncidentFixtures.event()) }
        #expect(limited?.kind == .retryable(after: .seconds(7)))
        #expect(throws: HandlerOptionError.self) { try service.makeSender(options: ["appKey": .string("x")]) }
        #expect(throws: ConfigError.self) { try BigPandaService(elements: [["enabled": .bool(true), "token": .string("t")]]) }
        let defaults = try BigPandaService(elements: [])
        #expect(defaults.elements.first?["url"] == .string("https://api.bigpanda.io/data/v2/alerts"))
        #expect(defaults.elements.first?["auto-attributes"] == .string("tags,fields"))
        #expect(try bigPanda(receiver).elements.first?["token"] == .bool(true))
        #expect(throws: HandlerOptionError.self) { try defaults.makeSender(options: [:]) }
    }
}
