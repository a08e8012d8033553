import Alerting
import Foundation
@testable import Server
import Testing

/// `/kapacitor/v1/alerts/topics`: Kapacitor's topics API over a task with `.topic('cpu')` and inline handlers.
@Suite("Topics API")
struct TopicRouteTests {
    static let path = "/kapacitor/v1/alerts/topics"

    static let script = """
        stream
            |from().measurement('cpu').groupBy('host')
            |alert().topic('cpu').message('{{ .ID }} is {{ .Level }}').details('')
                .crit(lambda: "value" > 90)
                .log('/tmp/tock-topic-route-test.log')
        """

    func setUp(_ f: Fixture) throws -> (TaskMaster, AlertingService) {
        let master = try f.master()
        let alerting = try AlertingService()
        master.alertService = alerting
        try TopicAPI.restore(alerting, from: master.store, log: master.log)
        return (master, alerting)
    }

    func writeAndWait(_ client: Client, _ alerting: AlertingService) async throws {
        let create = try await client.execute(uri: "/kapacitor/v1/tasks", method: "POST", body: """
            {"id": "cpu_alert", "type": "stream", "dbrps": [{"db": "telegraf", "rp": "autogen"}], "status": "enabled",
             "script": \(Self.quoted(Self.script))}
            """)
        #expect(create.status == .ok, "\(create.text)")
        let write = try await client.execute(uri: "/kapacitor/v1/write?db=telegraf&rp=autogen&precision=s", method: "POST",
                                             body: "cpu,host=a value=95 1\ncpu,host=b value=20 2\n")
        #expect(write.status == .noContent)
        let deadline = Date().addingTimeInterval(30)
        while (alerting.topics.summary(of: "cpu")?.collected ?? 0) < 1 && Date() < deadline { try await Task.sleep(for: .milliseconds(20)) }
    }

    static func quoted(_ s: String) -> String {
        var out = ""
        JSON.quote(s, into: &out)
        return out
    }

    @Test("topics, a topic, its events and one event answer Kapacitor's JSON; the anonymous topic holds the inline handler's events")
    func topicsAndEvents() async throws {
        let f = Fixture()
        defer { f.remove() }
        let (master, alerting) = try setUp(f)
        try await f.serve(master) { client in
            try await writeAndWait(client, alerting)
            let list = try await client.execute(uri: Self.path + "?min-level=OK")
            #expect(list.status == .ok)
            #expect(list.json["link"]?["href"]?.stringValue == Self.path + "?min-level=OK")
            #expect(list.json["topics"]?.arrayValue?.compactMap { $0["id"]?.stringValue } == ["cpu", "main:cpu_alert:alert2"])
            let topic = try await client.execute(uri: Self.path + "/cpu")
            #expect(topic.text == #"{"link":{"rel":"self","href":"/kapacitor/v1/alerts/topics/cpu"},"id":"cpu","level":"CRITICAL","collected":1,"events-link":{"rel":"events","href":"/kapacitor/v1/alerts/topics/cpu/events"},"handlers-link":{"rel":"handlers","href":"/kapacitor/v1/alerts/topics/cpu/handlers"}}"# + "\n")
            let critical = try await client.execute(uri: Self.path + "?min-level=CRITICAL&pattern=main:*")
            #expect(critical.json["topics"]?.arrayValue?.compactMap { $0["id"]?.stringValue } == ["main:cpu_alert:alert2"])
            let events = try await client.execute(uri: Self.path + "/main:cpu_alert:alert2/events")
            #expect(events.text == #"{"link":{"rel":"self","href":"/kapacitor/v1/alerts/topics/main:cpu_alert:alert2/events"},"topic":"main:cpu_alert:alert2","events":[{"link":{"rel":"self","href":"/kapacitor/v1/alerts/topics/main:cpu_alert:alert2/events/cpu:host=a"},"id":"cpu:host=a","state":{"message":"cpu:host=a is CRITICAL","details":"","time":"1970-01-01T00:00:01Z","duration":"0s","level":"CRITICAL"}}]}"# + "\n")
            let one = try await client.execute(uri: Self.path + "/cpu/events/cpu:host=a")
            #expect(one.json["state"]?["level"]?.stringValue == "CRITICAL")
            let missing = try await client.execute(uri: Self.path + "/cpu/events/cpu:host=z")
            #expect(missing.status == .notFound && missing.json["error"]?.stringValue == #"unknown event "cpu:host=z" in topic "cpu""#)
            let unknown = try await client.execute(uri: Self.path + "/nope")
            #expect(unknown.status == .notFound && unknown.json["error"]?.stringValue == #"unknown topic: "nope""#)

            let badLevel = try await client.execute(uri: Self.path + "?min-level=LOUD")
            #expect(badLevel.status == .badRequest && badLevel.json["error"]?.stringValue == "unknown alert level 'LOUD' (OK, INFO, WARNING or CRITICAL)")
            let badPattern = try await client.execute(uri: Self.path + "?pattern=cpu%5Bab%5D")
            #expect(badPattern.status == .badRequest && badPattern.json["error"]?.stringValue?.hasPrefix("invalid pattern: syntax error in pattern") == true)

            #expect(try await client.execute(uri: Self.path + "/cpu", method: "DELETE").status == .noContent)
            #expect(try await client.execute(uri: Self.path + "/cpu").status == .notFound)
            #expect(try await client.execute(uri: "/kapacitor/v1/tasks/cpu_alert", method: "DELETE").status == .noContent)
            #expect(try await client.execute(uri: Self.path + "/main:cpu_alert:alert2").status == .notFound, "deleting the task deletes its anonymous topic")
        }
    }

    @Test("handlers are created, listed, shown, replaced, patched (JSON Patch) and deleted; bad ones are refused with Kapacitor's words")
    func handlers() async throws {
        let f = Fixture()
        defer { f.remove() }
        let (master, alerting) = try setUp(f)
        let handlers = Self.path + "/cpu/handlers"
        try await f.serve(master) { client in
            let created = try await client.execute(uri: handlers, method: "POST", body: """
                {"id": "ops", "kind": "log", "options": {"path": "/tmp/ops.log"}, "match": "level() >= WARNING"}
                """)
            #expect(created.status == .ok, "\(created.text)")
            #expect(created.text == #"{"link":{"rel":"self","href":"/kapacitor/v1/alerts/topics/cpu/handlers/ops"},"id":"ops","kind":"log","options":{"path":"/tmp/ops.log"},"match":"level() \u003e= WARNING"}"# + "\n", "Go escapes < > & in JSON strings")
            let again = try await client.execute(uri: handlers, method: "POST", body: #"{"id": "ops", "kind": "log", "options": {"path": "/tmp/x"}}"#)
            #expect(again.status == .badRequest && again.json["error"]?.stringValue == #"failed to create handler: cannot register handler, handler with ID "ops" already exists"#)
            let list = try await client.execute(uri: handlers)
            #expect(list.json["topic"]?.stringValue == "cpu")
            #expect(list.json["handlers"]?.arrayValue?.compactMap { $0["id"]?.stringValue } == ["ops"])
            #expect(try await client.execute(uri: Self.path).json["topics"]?.arrayValue?.compactMap { $0["id"]?.stringValue } == ["cpu"],
                    "a topic with a handler is listed before any event")

            let put = try await client.execute(uri: handlers + "/ops", method: "PUT", body: #"{"id": "ops", "kind": "log", "options": {"path": "/tmp/ops2.log"}}"#)
            #expect(put.status == .ok && put.json["options"]?["path"]?.stringValue == "/tmp/ops2.log" && put.json["match"]?.stringValue == "")
            let patched = try await client.execute(uri: handlers + "/ops", method: "PATCH", body: """
                [{"op": "replace", "path": "/id", "value": "oncall"}, {"op": "add", "path": "/match", "value": "changed()"}]
                """)
            #expect(patched.status == .ok, "\(patched.text)")
            #expect(patched.json["id"]?.stringValue == "oncall" && patched.json["match"]?.stringValue == "changed()")
            #expect(try await client.execute(uri: handlers + "/ops").status == .notFound, "renamed")
            let moved = try await client.execute(uri: handlers + "/oncall", method: "PATCH", body: #"[{"op": "replace", "path": "/topic", "value": "mem"}]"#)
            #expect(moved.status == .badRequest && moved.json["error"]?.stringValue == "failed to update handler: cannot change topic in update")
            let badPatch = try await client.execute(uri: handlers + "/oncall", method: "PATCH", body: #"[{"op": "remove", "path": "/nope"}]"#)
            #expect(badPatch.status == .badRequest && badPatch.json["error"]?.stringValue == "failed to apply patch: path /nope does not exist")

            for (body, error) in [
                (#"{"id": "x", "kind": "nosuch"}"#, #"failed to create handler: unknown alert handler kind "nosuch""#),
                (#"{"id": "bad id", "kind": "log"}"#, #"invalid handler spec: handler ID must contain only letters, numbers, '-', '.' and '_'. "bad id""#),
                (#"{"id": "x", "kind": "log", "options": {"path": "/tmp/x"}, "match": "level() > LOUD"}"#,
                 #"failed to create handler: invalid match expression: 1:11: unknown identifier "LOUD" (a match expression knows OK, INFO, WARNING and CRITICAL)"#),
                (#"{"id": 5, "kind": "log"}"#, "invalid handler json: id must be a string"),
            ] {
                let r = try await client.execute(uri: handlers, method: "POST", body: body)
                #expect(r.status == .badRequest, "\(body)")
                #expect(r.json["error"]?.stringValue?.hasPrefix(error) == true, "\(r.text)")
            }
            #expect(try await client.execute(uri: handlers + "/oncall", method: "DELETE").status == .noContent)
            #expect(try await client.execute(uri: handlers + "/oncall", method: "DELETE").status == .noContent, "deleting twice is no error")
            #expect(try await client.execute(uri: handlers).json["handlers"]?.arrayValue?.isEmpty == true)
        }
        #expect(try master.store.topicHandlers().isEmpty)
        _ = alerting
    }

    @Test("handlers and topic event states survive a restart through the store")
    func persistence() async throws {
        let f = Fixture()
        defer { f.remove() }
        let (master, alerting) = try setUp(f)
        try await f.serve(master) { client in
            let r = try await client.execute(uri: Self.path + "/cpu/handlers", method: "POST", body: #"{"id": "fwd", "kind": "publish", "options": {"topics": ["all"]}}"#)
            #expect(r.status == .ok, "\(r.text)")
            try await writeAndWait(client, alerting)
        }
        TopicAPI.save(alerting.topics, to: master.store, log: master.log)
        let restarted = try AlertingService()
        try TopicAPI.restore(restarted, from: master.store, log: master.log)
        #expect(restarted.topicRouter.allSpecs == [TopicHandlerSpec(topic: "cpu", id: "fwd", kind: "publish", options: ["topics": .list([.string("all")])])])
        #expect(restarted.topics.event("cpu:host=a", of: "cpu")?.level == .critical)
        #expect(restarted.topics.event("cpu:host=a", of: "all")?.message == "cpu:host=a is CRITICAL", "the publish handler re-published it")
        master.stopAll()
    }
}
