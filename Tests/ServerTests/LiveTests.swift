import Foundation
import Hummingbird
@testable import Server
import Testing

@Suite("Daemon on 127.0.0.1: definitions survive a restart")
struct LiveTests {
    @Test("an enabled task defined before a restart runs again after it, and its httpOut answers")
    func restart() async throws {
        let f = Fixture()
        defer { f.remove() }
        try await f.serve(try f.master()) { client in
            let body = #"{"id":"cpu","dbrps":[{"db":"telegraf","rp":"autogen"}],"status":"enabled","script":"stream|from().measurement('cpu')|httpOut('out')"}"#
            let created = try await client.execute(uri: "/kapacitor/v1/tasks", method: "POST", body: body)
            #expect(created.status == .ok)
        }

        try await f.serve(try f.master()) { client in
            let task = try await client.execute(uri: "/kapacitor/v1/tasks/cpu", method: "GET").json
            #expect(task["status"] == .string("enabled"))
            #expect(task["executing"] == .bool(true))
            _ = try await client.execute(uri: "/write?db=telegraf&rp=autogen&precision=s", method: "POST",
                                         body: ("cpu value=7 1\n"))
            _ = try await client.execute(uri: "/kapacitor/v1/tasks/cpu", method: "GET")
            let out = try await client.execute(uri: "/kapacitor/v1/tasks/cpu/out", method: "GET").json
            #expect(out["series"]?.arrayValue?.first?["values"] == .array([.array([.string("1970-01-01T00:00:01Z"), .int(7)])]))
            let vars = try await client.execute(uri: "/kapacitor/v1/debug/vars", method: "GET").json
            #expect(vars["num_tasks"] == .int(1))
            #expect(vars["num_enabled_tasks"] == .int(1))
        }
    }
}
