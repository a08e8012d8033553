import Engine
import Foundation
import Testing
@testable import Alerting
import TockModel

/// `post`: what Kapacitor's services/httppost sends, checked on a loopback receiver.
@Suite struct HTTPPostServiceTests {
    let event = IncidentFixtures.event()

    @Test func aURLAloneGetsTheAlertJSONLine() async throws {
        let receiver = try PostReceiver()
        let service = try HTTPPostService(elements: [])
        let sender = try service.makeSender(options: ["url": .string(receiver.url + "/hook"), "headers": .object(["X-Team": .string("ops")])])
        try await sender.send(event)
        let request = try #require(receiver.requests.first)
        #expect(request.method == "POST")
        #expect(request.path == "/hook")
        #expect(request.text == event.json + "\n")
        #expect(request.text.hasPrefix(#"{"id":"cpu:host=serverA","message":"cpu is CRITICAL","details":"details","time":"1970-01-01T00:00:10Z","duration":0,"level":"CRITICAL","data":"#))
        #expect(request.header("Content-Type") == "application/json")
        #expect(request.header("X-Team") == "ops")
        #expect(request.header("Authorization") == nil)
    }

    @Test func anEndpointRendersItsTemplateWithItsHeadersAndCredentials() async throws {
        let receiver = try PostReceiver()
        let service = try HTTPPostService(elements: [[
            "endpoint": .string("ops"),
            "url": .string(receiver.url + "/alerts"),
            "headers": .table(["X-Source": .string("tock"), "X-Team": .string("endpoint")]),
            "basic-auth": .table(["username": .string("kapa"), "password": .string("secret")]),
            "alert-template": .string(#"{"text":{{ json .Message }},"level":"{{ .Level }}","was":"{{ .PreviousLevel }}","rows":{{ len .Data.Series }}}"#),
        ]])
        let sender = try service.makeSender(options: ["endpoint": .string("ops"), "headers": .object(["x-team": .string("handler")])])
        try await sender.send(event)
        try await sender.send(IncidentFixtures.event(.ok))
        let requests = receiver.requests
        try #require(requests.count == 2)
        #expect(requests[0].path == "/alerts")
        #expect(requests[0].text == "{\"text\":\"cpu is CRITICAL\"\n,\"level\":\"CRITICAL\",\"was\":\"OK\",\"rows\":1}")
        #expect(requests[1].text == "{\"text\":\"cpu is OK\"\n,\"level\":\"OK\",\"was\":\"CRITICAL\",\"rows\":1}")
        #expect(requests[0].header("Authorization") == "Basic " + Data("kapa:secret".utf8).base64EncodedString())
        #expect(requests[0].header("X-Source") == "tock")
        #expect(requests[0].header("X-Team") == "handler")
        #expect(requests[0].headers.filter { $0.0.lowercased() == "x-team" }.count == 1)
        #expect(requests[0].header("Content-Type") == nil)
    }

    @Test func aHandlersURLIsATemplateOverTheAlertData() async throws {
        let receiver = try PostReceiver()
        let sender = try HTTPPostService(elements: []).makeSender(options: ["url": .string(receiver.url + "/by-level/{{ .Level }}")])
        try await sender.send(IncidentFixtures.event(.ok))
        #expect(receiver.requests.first?.path == "/by-level/OK")
    }

    @Test func jsonOfTheWholeAlertDataIsTheAlertJSON() async throws {
        let receiver = try PostReceiver()
        let service = try HTTPPostService(endpoints: [HTTPPostEndpoint(name: "raw", url: receiver.url, alertTemplate: "{{ json . }}")])
        try await service.makeSender(options: ["endpoint": .string("raw")]).send(event)
        #expect(receiver.requests.first?.text == event.json + "\n")
    }

    @Test func sectionsAreReadAsKapacitorReadsThem() throws {
        let service = try HTTPPostService(elements: [
            ["endpoint": .string("a"), "url": .string("http://127.0.0.1:1/a"), "basic-auth": .table(["username": .string("u"), "password": .string("p")])],
        ])
        #expect(service.elements == [[
            "endpoint": .string("a"), "url": .string("http://127.0.0.1:1/a"), "headers": .table([:]), "basic-auth": .bool(true),
            "alert-template": .string(""), "alert-template-file": .string(""), "row-template": .string(""), "row-template-file": .string(""),
        ]])
        #expect(throws: ConfigError.self) { try HTTPPostService(elements: [["endpoint": .string("a")]]) }
        #expect(throws: ConfigError.self) { try HTTPPostService(elements: [["endpoint": .string("a"), "url": .string("http://x"), "retries": .int(3)]]) }
        #expect(throws: ConfigError.self) {
            try HTTPPostService(elements: [["endpoint": .string("a"), "url": .string("http://x"), "alert-template": .string("x"), "alert-template-file": .string("/tmp/x")]])
        }
        #expect(throws: ConfigError.self) { try HTTPPostService(elements: [["endpoint": .string("a"), "url": .string("http://x"), "alert-template": .string("{{ .Nope }}")]]) }
    }

    @Test func aTemplateFileHasNoJSONFunction() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("tock-post-\(UUID()).tmpl").path
        try #"{{ json .Message }}"#.write(toFile: path, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let service = try? HTTPPostService(elements: [["endpoint": .string("f"), "url": .string("http://127.0.0.1:1"), "alert-template-file": .string(path)]])
        #expect(service == nil)
    }

    @Test func handlerOptionsAreChecked() throws {
        let service = try HTTPPostService(elements: [])
        let unknown = #expect(throws: HandlerOptionError.self) { try service.makeSender(options: ["url": .string("http://127.0.0.1:1"), "retry": .int(1)]) }
        #expect(unknown?.option == "retry")
        let missing = #expect(throws: HandlerOptionError.self) { try service.makeSender(options: ["endpoint": .string("nowhere")]) }
        #expect(missing?.message.contains("nowhere") == true)
        #expect(throws: HandlerOptionError.self) { try service.makeSender(options: [:]) }
    }

    @Test func statusesAreClassified() async throws {
        let receiver = try PostReceiver()
        receiver.respond(503, body: "busy")
        receiver.respond(400, body: "bad alert")
        let sender = try HTTPPostService(elements: []).makeSender(options: ["url": .string(receiver.url), "timeout": .duration(5_000_000_000)])
        let busy = await IncidentFixtures.failure { () async throws(DeliveryFailure) in try await sender.send(event) }
        #expect(busy?.isRetryable == true)
        #expect(busy?.reason == "post: POST \(receiver.url) returned non 2xx status code 503: unknown error, use .captureResponse() to capture the HTTP response")
        let bad = await IncidentFixtures.failure { () async throws(DeliveryFailure) in try await sender.send(event) }
        #expect(bad?.isRetryable == false)
        #expect(bad?.reason.hasSuffix("returned non 2xx status code 400: unknown error, use .captureResponse() to capture the HTTP response") == true)
        receiver.stop()
        let down = await IncidentFixtures.failure { () async throws(DeliveryFailure) in try await sender.send(event) }
        #expect(down?.isRetryable == true)
        #expect(down?.reason.hasPrefix("post: POST \(receiver.url) failed") == true)
    }

    @Test func captureResponsePutsTheReceiversAnswerInTheError() async throws {
        let receiver = try PostReceiver()
        receiver.respond(500, body: "{\"error\":\"disk full\"}")
        receiver.respond(422, body: "missing field")
        let sender = try HTTPPostService(elements: []).makeSender(options: ["url": .string(receiver.url + "/hook"), "capture-response": .bool(true)])
        let full = await IncidentFixtures.failure { () async throws(DeliveryFailure) in try await sender.send(event) }
        #expect(full?.isRetryable == true)
        #expect(full?.reason == "post: POST \(receiver.url)/hook returned non 2xx status code 500: {\"error\":\"disk full\"}")
        let refused = await IncidentFixtures.failure { () async throws(DeliveryFailure) in try await sender.send(event) }
        #expect(refused?.isRetryable == false)
        #expect(refused?.reason == "post: POST \(receiver.url)/hook returned non 2xx status code 422: missing field")
    }
}
