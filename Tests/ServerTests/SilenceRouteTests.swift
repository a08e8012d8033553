import Alerting
import Foundation
@testable import Server
import Testing

/// `/kapacitor/v1/alerts/silences`: define, list, show and end silences; they survive a restart through the store.
@Suite("Silences API")
struct SilenceRouteTests {
    static let path = "/kapacitor/v1/alerts/silences"

    @Test("a silence posted with a duration is listed, shown and deleted; the topic filter keeps those that apply")
    func lifecycle() async throws {
        let f = Fixture()
        defer { f.remove() }
        let master = try f.master()
        let alerting = try AlertingService()
        master.alertService = alerting
        try SilenceAPI.restore(alerting.silences, from: master.store, log: master.log)
        try await f.serve(master) { client in
            let created = try await client.execute(uri: Self.path, method: "POST", body: """
                {"id": "maint-db1", "topic": "cpu*", "tags": {"host": "db1"}, "start": "2030-01-01T00:00:00Z", "duration": "2h", "comment": "disk swap"}
                """)
            #expect(created.status == .ok, "\(created.text)")
            #expect(created.json["end"]?.stringValue == "2030-01-01T02:00:00Z")
            #expect(created.json["active"]?.boolValue == false, "it starts in 2030")
            #expect(created.json["link"]?["href"]?.stringValue == Self.path + "/maint-db1")
            _ = try await client.execute(uri: Self.path, method: "POST", body: #"{"id": "mem", "topic": "mem", "duration": "1h"}"#)

            let forCPU = try await client.execute(uri: Self.path + "?topic=cpu_high")
            #expect(forCPU.json["silences"]?.arrayValue?.compactMap { $0["id"]?.stringValue } == ["maint-db1"])
            let all = try await client.execute(uri: Self.path)
            #expect(Set(all.json["silences"]?.arrayValue?.compactMap { $0["id"]?.stringValue } ?? []) == ["maint-db1", "mem"])
            let one = try await client.execute(uri: Self.path + "/mem")
            #expect(one.json["active"]?.boolValue == true && one.json["topic"]?.stringValue == "mem")

            #expect(try await client.execute(uri: Self.path + "/mem", method: "DELETE").status == .noContent)
            let gone = try await client.execute(uri: Self.path + "/mem")
            #expect(gone.status == .notFound && gone.json["error"]?.stringValue == "silence mem does not exist")
        }
        // A restart: a new alert service restores the silence from the store.
        let restarted = try AlertingService()
        try SilenceAPI.restore(restarted.silences, from: master.store, log: master.log)
        #expect(restarted.silences.list().map(\.id) == ["maint-db1"])
        #expect(restarted.silences.list().first?.tags == ["host": "db1"])
    }

    @Test("a silence without an end, with both an end and a duration, or with an unknown member is refused by name")
    func refusals() async throws {
        let f = Fixture()
        defer { f.remove() }
        let master = try f.master()
        master.alertService = try AlertingService()
        try await f.serve(master) { client in
            for (body, message) in [
                (#"{"topic": "cpu"}"#, "a silence needs an end or a duration"),
                (#"{"end": "2030-01-01T00:00:00Z", "duration": "1h"}"#, "a silence takes an end or a duration, not both"),
                (#"{"duration": "1h", "until": "x"}"#, "unknown silence member \"until\" (a silence has id, topic, event, tags, start, end or duration, comment)"),
                (#"{"duration": "soon"}"#, "silence duration \"soon\" is not a positive duration"),
                (#"{"end": "yesterday"}"#, "silence end \"yesterday\" is not an RFC 3339 time"),
                (#"{"end": "2001-01-01T00:00:00Z"}"#, "its end must come after its start"),
                (#"{"id": "a/b", "duration": "1h"}"#, "silence id \"a/b\" may hold only letters, digits, '-', '_' and '.'"),
            ] {
                let answer = try await client.execute(uri: Self.path, method: "POST", body: body)
                #expect(answer.status == .badRequest, "\(body)")
                #expect(answer.json["error"]?.stringValue?.hasSuffix(message) == true, "\(body): \(answer.text)")
            }
        }
    }
}
