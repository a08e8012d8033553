import Engine
import Foundation
import Testing
@testable import Alerting
import TockModel

/// `servicenow` and `zenoss`: the bodies and headers Kapacitor sends, on a loopback receiver.
@Suite struct ServiceNowZenossServiceTests {
    let basic = "Basic " + Data("u:p".utf8).base64EncodedString()

    func serviceNow(_ receiver: PostReceiver) throws -> ServiceNowService {
        try ServiceNowService(elements: [["enabled": .bool(true), "url": .string(receiver.url + "/api/global/em/jsonv2"),
                                          "source": .string("Kapacitor"), "username": .string("u"), "password": .string("p")]])
    }

    @Test func serviceNowEvents() async throws {
        let receiver = try PostReceiver()
        let service = try serviceNow(receiver)
        try await service.makeSender(options: [:]).send(IncidentFixtures.event())
        try await service.makeSender(options: [
            "node": .string(#"{{ index .Tags "host" }}"#), "type": .string("CPU"), "resource": .string("{{ .Name }}"),
            "metric_name": .string("value"), "message_key": .string("{{ .TaskName }}"),
            "additional_info": .object(["value": .string(#"{{ index .Fields "value" }}"#), "n": .int(3)]),
        ]).send(IncidentFixtures.event(.ok))
        let requests = receiver.requests
        try #require(requests.count == 2)
        #expect(requests[0].path == "/api/global/em/jsonv2")
        #expect(requests[0].header("Authorization") == basic)
        #expect(requests[0].header("Content-Type") == "application/json")
        #expect(requests[0].text == #"{"records":[{"source":"Kapacitor","message_key":"cpu:host=serverA","severity":"1","description":"cpu is CRITICAL"}]}"#)
        #expect(requests[1].text == #"{"records":[{"source":"Kapacitor","node":"serverA","type":"CPU","resource":"cpu","metric_name":"value","message_key":"cpu_alert","severity":"5","description":"cpu is OK","additional_info":"{\"n\":\"3\",\"value\":\"91.5\"}"}]}"#)
    }

    @Test func serviceNowConfigurationAndAnswers() async throws {
        let defaults = try ServiceNowService(elements: [])
        #expect(defaults.elements == [[
            "enabled": .bool(false), "url": .string("https://instance.service-now.com/api/global/em/jsonv2"), "source": .string(""),
            "username": .string(""), "password": .bool(false), "global": .bool(false), "state-changes-only": .bool(false),
        ]])
        #expect(throws: HandlerOptionError.self) { try defaults.makeSender(options: [:]) }
        let receiver = try PostReceiver()
        receiver.respond(201, body: #"{"error":"wrong table"}"#)
        receiver.respond(401, body: "denied")
        let service = try serviceNow(receiver)
        #expect(throws: HandlerOptionError.self) { try service.makeSender(options: ["metricName": .string("x")]) }
        let sender = try service.makeSender(options: [:])
        let created = await IncidentFixtures.failure { () async throws(DeliveryFailure) in try await sender.send(IncidentFixtures.event()) }
        #expect(created?.reason.contains("wrong table") == true)
        let denied = await IncidentFixtures.failure { () async throws(DeliveryFailure) in try await sender.send(IncidentFixtures.event()) }
        #expect(denied?.isRetryable == false)
        #expect(try ServiceNowService(elements: [["global": .bool(true)]]).globalHandlers.map(\.kind) == ["servicenow"])
    }

    func zenoss(_ receiver: PostReceiver, _ extra: ConfigTable = [:]) throws -> ZenossService {
        try ZenossService(elements: [["enabled": .bool(true), "url": .string(receiver.url + "/zport/dmd/evconsole_router"),
                                      "collector": .string("Kapacitor"), "username": .string("u"), "password": .string("p")].merging(extra) { $1 }])
    }

    @Test func zenossRouterCalls() async throws {
        let receiver = try PostReceiver()
        try await zenoss(receiver).makeSender(options: [:]).send(IncidentFixtures.event())
        let sender = try zenoss(receiver, ["severity-map": .table(["OK": .int(0)])]).makeSender(options: [
            "summary": .string("{{ .ID }} {{ .Level }}"), "device": .string(#"{{ index .Tags "host" }}"#), "component": .string("cpu"),
            "eventclasskey": .string("k"), "eventClass": .string("/Status"), "message": .string("{{ .Message }}"), "tid": .int(7),
            "customField": .object(["extra": .string(#"{"a":[1,2]}"#), "plain": .string("x-{{ .Name }}"), "n": .int(3)]),
        ])
        try await sender.send(IncidentFixtures.event(.ok))
        let requests = receiver.requests
        try #require(requests.count == 2)
        #expect(requests[0].path == "/zport/dmd/evconsole_router")
        #expect(requests[0].header("Authorization") == basic)
        #expect(requests[0].text == #"{"action":"EventsRouter","method":"add_event","data":[{"collector":"Kapacitor","component":"","device":"","evclass":"","evclasskey":"","severity":"Critical","summary":"cpu is CRITICAL"}],"type":"rpc","tid":1}"#)
        #expect(requests[1].text == #"{"action":"EventsRouter","method":"add_event","data":[{"collector":"Kapacitor","component":"cpu","device":"serverA","evclass":"/Status","evclasskey":"k","extra":{"a":[1,2]},"message":"cpu is OK","n":3,"plain":"x-cpu","severity":0,"summary":"cpu:host=serverA OK"}],"type":"rpc","tid":7}"#)
    }

    @Test func zenossConfiguration() async throws {
        let defaults = try ZenossService(elements: [])
        #expect(defaults.elements == [[
            "enabled": .bool(false), "url": .string("https://tenant.zenoss.io:8080/zport/dmd/evconsole_router"), "username": .string(""),
            "password": .bool(false), "action": .string("EventsRouter"), "method": .string("add_event"), "type": .string("rpc"),
            "tid": .int(1), "collector": .string(""), "global": .bool(false), "state-changes-only": .bool(false),
            "severity-map": .table(["OK": .string("Clear"), "Info": .string("Info"), "Warning": .string("Warning"), "Critical": .string("Critical")]),
        ]])
        #expect(throws: HandlerOptionError.self) { try defaults.makeSender(options: [:]) }
        #expect(throws: ConfigError.self) { try ZenossService(elements: [["severity-map": .table(["Fatal": .int(5)])]]) }
        let receiver = try PostReceiver()
        receiver.respond(503)
        let service = try zenoss(receiver)
        #expect(throws: HandlerOptionError.self) { try service.makeSender(options: ["custom_fields": .object([:])]) }
        let sender = try service.makeSender(options: [:])
        let busy = await IncidentFixtures.failure { () async throws(DeliveryFailure) in try await sender.send(IncidentFixtures.event()) }
        #expect(busy?.isRetryable == true)
    }
}
