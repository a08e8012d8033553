import CompressNIO
import Foundation
import Hummingbird
@testable import Server
import Testing

@Suite("HTTP API: ping, write and errors")
struct WriteRouteTests {
    @Test("/ping answers 204 with the X-Kapacitor-Version header, under both paths")
    func ping() async throws {
        try await Fixture.with { client in
            for uri in ["/ping", "/kapacitor/v1/ping"] {
                let r = try await client.execute(uri: uri, method: "GET")
                #expect(r.status == .noContent)
                #expect(r.headers["x-kapacitor-version"] == TockAPI.version)
            }
        }
    }

    @Test("a write without db is refused: 400 {\"error\": \"database is required\"}")
    func writeNeedsDatabase() async throws {
        try await Fixture.with { client in
            let r = try await client.execute(uri: "/write", method: "POST", body: ("cpu value=1\n"))
            #expect(r.status == .badRequest)
            #expect(r.json == .object([("error", .string("database is required"))]))
        }
    }

    @Test("an unknown route is 404 with a JSON error")
    func unknownRoute() async throws {
        try await Fixture.with { client in
            let r = try await client.execute(uri: "/kapacitor/v1/nothing", method: "GET")
            #expect(r.status == .notFound)
            #expect(r.json["error"]?.stringValue?.contains("/kapacitor/v1/nothing") == true)
        }
    }

    @Test("bad lines are named by line and column; the good points of the request still reach the task")
    func partialWrite() async throws {
        try await Fixture.with { client in
            let define = #"{"id":"cpu","type":"stream","dbrps":[{"db":"telegraf","rp":"autogen"}],"status":"enabled","script":"stream|from().measurement('cpu')"}"#
            #expect(try await client.execute(uri: "/kapacitor/v1/tasks", method: "POST", body: (define)).status == .ok)
            let body = "cpu value=1 1\ncpu value=oops 2\ncpu value=3 3\n"
            let r = try await client.execute(uri: "/write?db=telegraf&rp=autogen&precision=s", method: "POST", body: (body))
            #expect(r.status == .badRequest)
            let message = r.json["error"]?.stringValue ?? ""
            #expect(message.contains("line 2, column"))
            // Reading the task's stats waits for the points queued before it.
            let task = try await client.execute(uri: "/kapacitor/v1/tasks/cpu", method: "GET").json
            #expect(task["stats"]?["node-stats"]?["stream0"]?["emitted"] == .int(2))
        }
    }

    @Test("a gzip body is decoded; an empty body is 200; points go only to tasks of the written dbrp")
    func gzipAndRouting() async throws {
        try await Fixture.with { client in
            let define = #"{"id":"cpu","dbrps":[{"db":"telegraf","rp":"autogen"}],"status":"enabled","script":"stream|from().measurement('cpu')"}"#
            #expect(try await client.execute(uri: "/kapacitor/v1/tasks", method: "POST", body: (define)).status == .ok)
            var plain = ByteBuffer(string: (1...100).map { "cpu value=\($0) \($0)\n" }.joined())
            let gzipped = try plain.compress(with: .gzip)
            let r = try await client.execute(uri: "/kapacitor/v1/write?db=telegraf&rp=autogen&precision=s", method: "POST",
                                             headers: ["Content-Encoding": "gzip"], bytes: Array(gzipped.readableBytesView))
            #expect(r.status == .noContent)
            let other = try await client.execute(uri: "/write?db=other&precision=s", method: "POST", body: ("cpu value=1 1\n"))
            #expect(other.status == .noContent)
            let empty = try await client.execute(uri: "/write?db=telegraf", method: "POST")
            #expect(empty.status == .ok)
            let task = try await client.execute(uri: "/kapacitor/v1/tasks/cpu", method: "GET").json
            #expect(task["stats"]?["node-stats"]?["stream0"]?["emitted"] == .int(100))
            let metrics = try await client.execute(uri: "/metrics", method: "GET").text
            #expect(metrics.contains(#"tock_points_received_total{database="telegraf",retention_policy="autogen",measurement="cpu"} 100"#))
            // No rp: the write went to autogen.
            #expect(metrics.contains(#"tock_points_received_total{database="other",retention_policy="autogen",measurement="cpu"} 1"#))
        }
    }

    @Test("a body over [http] max-body-size is 413")
    func bodyLimit() async throws {
        try await Fixture.with(maxBodySize: 20) { client in
            let r = try await client.execute(uri: "/write?db=telegraf", method: "POST",
                                             body: ("cpu value=1 1\ncpu value=2 2\ncpu value=3 3\n"))
            #expect(r.status == .contentTooLarge)
            #expect(r.json["error"] != nil)
        }
    }
}
