import Alerting
import Foundation
import Testing
@testable import Server

@Suite("Service tests: /kapacitor/v1/service-tests as Kapacitor's services/servicetest")
struct ServiceTestAPITests {
    @Test("GET /service-tests lists the services by name with Kapacitor's default options; pattern filters")
    func list() async throws {
        let f = slackFixture(url: "http://127.0.0.1:1/hook")
        defer { f.remove() }
        try await serveWithAlerting(f) { client in
            let all = try await client.execute(uri: "/kapacitor/v1/service-tests")
            #expect(all.status == .ok)
            let names = all.json.objectValue?.first { $0.0 == "services" }?.1.arrayValue?.compactMap {
                $0.objectValue?.first { $0.0 == "name" }?.1.stringValue
            } ?? []
            #expect(names == ServiceTestCatalog.all.map(\.name))
            #expect(names.contains("httppost") && names.contains("slack") && names.contains("pagerduty2"))
            let slack = try await client.execute(uri: "/kapacitor/v1/service-tests?pattern=sl*")
            #expect(slack.text == #"{"link":{"rel":"self","href":"/kapacitor/v1/service-tests"},"services":[{"link":{"rel":"self","href":"/kapacitor/v1/service-tests/slack"},"name":"slack","options":{"workspace":"","channel":"ops","message":"test slack message","level":"CRITICAL","username":"","icon-emoji":""}}]}"# + "\n")
            let unknown = try await client.execute(uri: "/kapacitor/v1/service-tests/nope", method: "POST")
            #expect(unknown.status == .notFound)
            #expect(unknown.json.serialized == #"{"error":"service \"nope\" not found"}"#)
        }
    }

    @Test("POST /service-tests/slack sends one test message to the receiver and reports success")
    func success() async throws {
        let receiver = LoopbackReceiver()
        try await receiver.serve { url in
            let f = slackFixture(url: url + "/hook")
            defer { f.remove() }
            try await serveWithAlerting(f) { client in
                let answer = try await client.execute(uri: "/kapacitor/v1/service-tests/slack", method: "POST",
                                                      body: #"{"channel":"tests","message":"hello from the test"}"#)
                #expect(answer.status == .ok)
                #expect(answer.json.serialized == #"{"success":true,"message":""}"#)
                let requests = try await receiver.waitForRequests(1)
                #expect(requests.count == 1)
                #expect(requests[0].path == "/hook")
                #expect(requests[0].body.contains(#""channel":"tests""#))
                #expect(requests[0].body.contains("hello from the test"))
            }
        }
    }

    @Test("POST /service-tests/slack reports the receiver's refusal, and a receiver that is down")
    func failure() async throws {
        let refusing = LoopbackReceiver(status: .notFound, answer: "no_team")
        try await refusing.serve { url in
            let f = slackFixture(url: url + "/hook")
            defer { f.remove() }
            try await serveWithAlerting(f) { client in
                let answer = try await client.execute(uri: "/kapacitor/v1/service-tests/slack", method: "POST")
                #expect(answer.status == .ok)
                guard case .object(let members) = answer.json else { Issue.record("not an object: \(answer.text)"); return }
                #expect(members.map(\.0) == ["success", "message"])
                #expect(members[0].1 == .bool(false))
                #expect(members[1].1.stringValue?.contains("no_team") == true)
            }
        }
        let port = try closedPort()
        let down = slackFixture(url: "http://127.0.0.1:\(port)/hook")
        defer { down.remove() }
        try await serveWithAlerting(down) { client in
            let answer = try await client.execute(uri: "/kapacitor/v1/service-tests/slack", method: "POST", body: "null")
            guard case .object(let members) = answer.json else { Issue.record("not an object: \(answer.text)"); return }
            #expect(members[0].1 == .bool(false))
            let message = members[1].1.stringValue ?? ""
            #expect(message == "slack channel \"ops\": POST http://127.0.0.1:\(port)/hook failed: connection refused", "\(message)")
        }
    }

    @Test("A disabled service's test fails with the reason it cannot send")
    func disabledService() async throws {
        let f = Fixture()
        defer { f.remove() }
        try await serveWithAlerting(f) { client in
            let answer = try await client.execute(uri: "/kapacitor/v1/service-tests/slack", method: "POST", body: "{}")
            #expect(answer.json.serialized == #"{"success":false,"message":"[slack] is not enabled: set enabled = true in kapacitor.conf to use the slack handler"}"#)
        }
    }
}
