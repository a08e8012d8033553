import Foundation
import HTTPTypes
import Testing
@testable import Server
import Storage

/// `/kapacitor/v1/recordings` and `/replays`: Kapacitor's JSON, links, list parameters and refusals.
@Suite("Recording and replay routes")
struct RecordingRouteTests {
    static let base = "/kapacitor/v1"

    func defineTask(_ client: Client) async throws {
        let body = #"{"id":"cpu","type":"stream","dbrps":[{"db":"db","rp":"rp"}],"script":"stream|from().measurement('cpu')|httpOut('out')","status":"enabled"}"#
        #expect(try await client.execute(uri: Self.base + "/tasks", method: "POST", body: body).status == .ok)
    }

    @Test("record stream answers 201 with the recording's JSON and link; GET answers 202 while it runs")
    func recordStream() async throws {
        try await Fixture.with { client in
            try await defineTask(client)
            let stop = rfc3339Nano(nowNanoseconds() + 60_000_000_000)
            let created = try await client.execute(uri: Self.base + "/recordings/stream", method: "POST",
                                                   body: #"{"id":"r1","task":"cpu","stop":"\#(stop)"}"#)
            #expect(created.status == .created)
            #expect(created.json["link"] == .object([("rel", .string("self")), ("href", .string("/kapacitor/v1/recordings/r1"))]))
            #expect(created.json["type"] == .string("stream"))
            #expect(created.json["status"] == .string("running"))
            let keys = created.json.objectValue?.map(\.0)
            #expect(keys == ["link", "id", "type", "size", "date", "error", "status", "progress"])
            #expect(try await client.execute(uri: Self.base + "/recordings/r1").status == .accepted)
            #expect(try await client.execute(uri: Self.base + "/recordings/r1", method: "DELETE").status == .noContent)
            #expect(try await client.execute(uri: Self.base + "/recordings/r1").status == .notFound)
        }
    }

    @Test("bad requests: an ID with other characters, a missing stop, an unknown task, an unknown clock, a stream recording of a query without InfluxDB")
    func refusals() async throws {
        try await Fixture.with { client in
            try await defineTask(client)
            let badID = try await client.execute(uri: Self.base + "/recordings/stream", method: "POST",
                                                 body: #"{"id":"a b","task":"cpu","stop":"2030-01-01T00:00:00Z"}"#)
            #expect(badID.status == .badRequest)
            #expect(badID.json["error"]?.stringValue?.hasPrefix("recording ID must contain only letters, numbers, '-', '.' and '_'.") == true)
            let noStop = try await client.execute(uri: Self.base + "/recordings/stream", method: "POST", body: #"{"task":"cpu"}"#)
            #expect(noStop.status == .badRequest)
            let noTask = try await client.execute(uri: Self.base + "/recordings/stream", method: "POST",
                                                  body: #"{"task":"nope","stop":"2030-01-01T00:00:00Z"}"#)
            #expect(noTask.status == .notFound)
            #expect(noTask.json["error"] == .string("no task exists"))
            let clock = try await client.execute(uri: Self.base + "/replays", method: "POST",
                                                 body: #"{"task":"cpu","recording":"x","clock":"slow"}"#)
            #expect(clock.status == .badRequest)
            #expect(clock.json["error"] == .string("invalid clock type slow"))
            let query = try await client.execute(uri: Self.base + "/recordings/query", method: "POST",
                                                 body: #"{"id":"q","type":"batch","query":"select v from \"db\".\"rp\".\"cpu\""}"#)
            #expect(query.status == .created)
            var answer = try await client.execute(uri: Self.base + "/recordings/q")
            for _ in 0..<200 where answer.json["status"] == .string("running") {
                try await Task.sleep(for: .milliseconds(10))
                answer = try await client.execute(uri: Self.base + "/recordings/q")
            }
            #expect(answer.json["status"] == .string("failed"))
            #expect(answer.json["error"]?.stringValue?.contains("no InfluxDB configured") == true)
        }
    }

    @Test("times outside the nanosecond range (Go's zero time) are refused, not a crash")
    func zeroTimes() async throws {
        try await Fixture.with { client in
            try await defineTask(client)
            let batch = try await client.execute(uri: Self.base + "/recordings/batch", method: "POST",
                                                 body: #"{"task":"cpu","start":"0001-01-01T00:00:00Z"}"#)
            #expect(batch.status == .badRequest)
            #expect(batch.json["error"] == .string("must provide start time"))
            let stream = try await client.execute(uri: Self.base + "/recordings/stream", method: "POST",
                                                  body: #"{"task":"cpu","stop":"9999-12-31T23:59:59Z"}"#)
            #expect(stream.status == .badRequest)
            #expect(try await client.execute(uri: Self.base + "/recordings").status == .ok)
        }
    }

    @Test("lists take pattern, fields (id and link always), offset and limit; an unknown field is refused")
    func lists() async throws {
        let fixture = Fixture()
        defer { fixture.remove() }
        let master = try fixture.master()
        for id in ["a1", "a2", "b1"] {
            try master.store.save(StoredRecording(id: id, type: "stream", size: 10, date: 0, status: "finished", progress: 1,
                                                  dataPath: fixture.directory + "/replay/\(id).srpl"))
        }
        try await fixture.serve(master) { client in
            let page = try await client.execute(uri: Self.base + "/recordings?pattern=a*&fields=size&offset=1&limit=1")
            #expect(page.json == .object([("recordings", .array([.object([
                ("link", .object([("rel", .string("self")), ("href", .string("/kapacitor/v1/recordings/a2"))])),
                ("id", .string("a2")), ("size", .int(10)),
            ])]))]))
            let unknown = try await client.execute(uri: Self.base + "/recordings?fields=colour")
            #expect(unknown.status == .badRequest)
            #expect(unknown.json["error"] == .string("unsupported field \"colour\""))
            let replays = try await client.execute(uri: Self.base + "/replays")
            #expect(replays.json == .object([("replays", .array([]))]))
        }
    }

    @Test("at start, recordings and replays left running by a stopped daemon are marked failed")
    func restart() async throws {
        let fixture = Fixture()
        defer { fixture.remove() }
        let master = try fixture.master()
        try master.store.save(StoredRecording(id: "r", type: "stream", date: 0, status: "running", dataPath: "/nonexistent"))
        try master.store.save(StoredReplay(id: "p", task: "t", recording: "r", recordingTime: false, clock: "fast", date: 0,
                                           status: "running"))
        try await fixture.serve(master) { client in
            let recording = try await client.execute(uri: Self.base + "/recordings/r")
            #expect(recording.status == .ok)
            #expect(recording.json["status"] == .string("failed"))
            #expect(recording.json["error"] == .string("unexpected Kapacitor shutdown"))
            let replay = try await client.execute(uri: Self.base + "/replays/p")
            #expect(replay.json["status"] == .string("failed"))
        }
    }
}
