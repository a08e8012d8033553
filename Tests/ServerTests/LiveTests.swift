import Foundation
import Hummingbird
import HummingbirdTesting
@testable import Server
import Testing

@Suite("Daemon on 127.0.0.1: definitions survive a restart")
struct LiveTests {
    @Test("an enabled task defined before a restart runs again after it, and its httpOut answers")
    func restart() async throws {
        let f = Fixture()
        defer { f.remove() }
        let first = try f.master()
        try await f.application(first).test(.live) { client in
            let body = #"{"id":"cpu","dbrps":[{"db":"telegraf","rp":"autogen"}],"status":"enabled","script":"stream|from().measurement('cpu')|httpOut('out')"}"#
            #expect(try await client.execute(uri: "/kapacitor/v1/tasks", method: .post, body: jsonBody(body)).status == .ok)
        }
        first.stopAll()

        let second = try f.master()
        try await f.application(second).test(.live) { client in
            let task = try await client.execute(uri: "/kapacitor/v1/tasks/cpu", method: .get).json
            #expect(task["status"] == .string("enabled"))
            #expect(task["executing"] == .bool(true))
            _ = try await client.execute(uri: "/write?db=telegraf&rp=autogen&precision=s", method: .post,
                                         body: jsonBody("cpu value=7 1\n"))
            _ = try await client.execute(uri: "/kapacitor/v1/tasks/cpu", method: .get)
            let out = try await client.execute(uri: "/kapacitor/v1/tasks/cpu/out", method: .get).json
            #expect(out["series"]?.arrayValue?.first?["values"] == .array([.array([.string("1970-01-01T00:00:01Z"), .int(7)])]))
            let vars = try await client.execute(uri: "/kapacitor/v1/debug/vars", method: .get).json
            #expect(vars["num_tasks"] == .int(1))
            #expect(vars["num_enabled_tasks"] == .int(1))
        }
        second.stopAll()
    }
}
