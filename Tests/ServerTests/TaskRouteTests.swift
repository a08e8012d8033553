import Foundation
import Hummingbird
@testable import Server
import Testing

@Suite("HTTP API: tasks and templates in Kapacitor's JSON shapes")
struct TaskRouteTests {
    static let define = #"{"id":"cpu","type":"stream","dbrps":[{"db":"telegraf","rp":"autogen"}],"script":"stream\n    |from()\n        .measurement('cpu')\n    |httpOut('out')\n"}"#

    @Test("create, get, list, disable/enable by status, delete")
    func lifecycle() async throws {
        try await Fixture.with { client in
            let created = try await client.execute(uri: "/kapacitor/v1/tasks", method: "POST", body: (Self.define))
            #expect(created.status == .ok)
            let task = created.json
            #expect(task["id"] == .string("cpu"))
            #expect(task["link"] == .object([("rel", .string("self")), ("href", .string("/kapacitor/v1/tasks/cpu"))]))
            #expect(task["type"] == .string("stream"))
            #expect(task["status"] == .string("disabled"))
            #expect(task["executing"] == .bool(false))
            #expect(task["dbrps"] == .array([.object([("db", .string("telegraf")), ("rp", .string("autogen"))])]))
            #expect(task["script"] == .string(cpuScript))
            #expect(task["dot"]?.stringValue?.hasPrefix("digraph cpu {") == true)

            let again = try await client.execute(uri: "/kapacitor/v1/tasks", method: "POST", body: (Self.define))
            #expect(again.status == .badRequest)

            let enabled = try await client.execute(uri: "/kapacitor/v1/tasks/cpu", method: "PATCH",
                                                   body: (#"{"status":"enabled"}"#)).json
            #expect(enabled["status"] == .string("enabled"))
            #expect(enabled["executing"] == .bool(true))
            #expect(enabled["stats"]?["node-stats"]?["stream0"] != nil)

            let list = try await client.execute(uri: "/kapacitor/v1/tasks?pattern=c*&fields=status", method: "GET").json
            #expect(list == .object([("tasks", .array([.object([
                ("link", .object([("rel", .string("self")), ("href", .string("/kapacitor/v1/tasks/cpu"))])),
                ("id", .string("cpu")), ("status", .string("enabled")),
            ])]))]))
            let none = try await client.execute(uri: "/kapacitor/v1/tasks?pattern=mem*", method: "GET").json
            #expect(none == .object([("tasks", .array([]))]))

            let disabled = try await client.execute(uri: "/kapacitor/v1/tasks/cpu", method: "PATCH",
                                                    body: (#"{"status":"disabled"}"#)).json
            #expect(disabled["executing"] == .bool(false))

            #expect(try await client.execute(uri: "/kapacitor/v1/tasks/cpu", method: "DELETE").status == .noContent)
            #expect(try await client.execute(uri: "/kapacitor/v1/tasks/cpu", method: "DELETE").status == .noContent)
            #expect(try await client.execute(uri: "/kapacitor/v1/tasks/cpu", method: "GET").status == .notFound)
        }
    }

    @Test("a broken script is refused with line:column and leaves the existing task untouched")
    func brokenScript() async throws {
        try await Fixture.with { client in
            _ = try await client.execute(uri: "/kapacitor/v1/tasks", method: "POST", body: (Self.define))
            let broken = #"{"script":"stream\n    |from()\n        .measurment('cpu')\n"}"#
            let r = try await client.execute(uri: "/kapacitor/v1/tasks/cpu", method: "PATCH", body: (broken))
            #expect(r.status == .badRequest)
            #expect(r.json["error"]?.stringValue?.hasPrefix("3:") == true)
            let task = try await client.execute(uri: "/kapacitor/v1/tasks/cpu", method: "GET").json
            #expect(task["script"] == .string(cpuScript))
        }
    }

    @Test("a stream task needs a dbrp, in the request or the script")
    func needsDBRP() async throws {
        try await Fixture.with { client in
            let r = try await client.execute(uri: "/kapacitor/v1/tasks", method: "POST",
                                             body: (#"{"id":"x","script":"stream|from()"}"#))
            #expect(r.json["error"] == .string("must provide at least one database and retention policy"))
            let ok = try await client.execute(uri: "/kapacitor/v1/tasks", method: "POST",
                                              body: (#"{"id":"y","script":"dbrp \"db\".\"rp\"\nstream|from()"}"#))
            #expect(ok.status == .ok)
        }
    }

    @Test("httpOut: {\"series\":null} before data, then the last point written")
    func httpOut() async throws {
        try await Fixture.with { client in
            var body = Self.define
            body.removeLast()
            body += #","status":"enabled"}"#
            #expect(try await client.execute(uri: "/kapacitor/v1/tasks", method: "POST", body: (body)).status == .ok)
            let before = try await client.execute(uri: "/kapacitor/v1/tasks/cpu/out", method: "GET")
            #expect(before.status == .ok)
            #expect(before.text == "{\"series\":null}\n")
            let w = try await client.execute(uri: "/write?db=telegraf&rp=autogen&precision=s", method: "POST",
                                             body: ("cpu,host=a value=42 60\n"))
            #expect(w.status == .noContent)
            _ = try await client.execute(uri: "/kapacitor/v1/tasks/cpu", method: "GET")  // waits for the queued points
            let after = try await client.execute(uri: "/kapacitor/v1/tasks/cpu/out", method: "GET").json
            let series = after["series"]?.arrayValue?.first
            #expect(series?["name"] == .string("cpu"))
            #expect(series?["values"] == .array([.array([.string("1970-01-01T00:01:00Z"), .int(42)])]))
        }
    }

    @Test("a task from a template takes the template's script with its vars")
    func templates() async throws {
        try await Fixture.with { client in
            let template = #"{"id":"by-measurement","type":"stream","script":"var m string\nstream\n    |from()\n        .measurement(m)\n    |httpOut('out')\n"}"#
            let t = try await client.execute(uri: "/kapacitor/v1/templates", method: "POST", body: (template))
            #expect(t.status == .ok)
            #expect(t.json["vars"]?["m"]?["type"] == .string("string"))
            let task = #"{"id":"mem","template-id":"by-measurement","dbrps":[{"db":"telegraf","rp":"autogen"}],"vars":{"m":{"type":"string","value":"mem"}},"status":"enabled"}"#
            let r = try await client.execute(uri: "/kapacitor/v1/tasks", method: "POST", body: (task))
            #expect(r.status == .ok)
            #expect(r.json["template-id"] == .string("by-measurement"))
            #expect(r.json["vars"] == .object([("m", .object([("type", .string("string")), ("value", .string("mem"))]))]))
            _ = try await client.execute(uri: "/write?db=telegraf&rp=autogen&precision=s", method: "POST",
                                         body: ("cpu value=1 1\nmem value=2 2\n"))
            _ = try await client.execute(uri: "/kapacitor/v1/tasks/mem", method: "GET")
            let out = try await client.execute(uri: "/kapacitor/v1/tasks/mem/out", method: "GET").json
            #expect(out["series"]?.arrayValue?.first?["name"] == .string("mem"))
            let used = try await client.execute(uri: "/kapacitor/v1/templates/by-measurement", method: "DELETE")
            #expect(used.status == .badRequest)
        }
    }
}
