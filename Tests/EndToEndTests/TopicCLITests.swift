import Foundation
import Testing

/// The topic verbs against `tock serve`: a task publishing to topic `cpu`, a topic handler defined from a YAML file,
/// the tables of `list topics|topic-handlers`, `show-topic` and `show-topic-handler` in Kapacitor's layout
/// (`cmd/kapacitor/main.go`), deletion, and the state surviving a restart.
@Suite("tock topic verbs")
struct TopicCLITests {
    static let tick = """
        stream
            |from().measurement('cpu').groupBy('host')
            |alert().topic('cpu').message('{{ .ID }} is {{ .Level }}').details('')
                .crit(lambda: "value" > 90)
        """

    func ok(_ r: TockBinary.Result, _ what: String) {
        #expect(r.status == 0, "\(what): \(r.stderr)")
    }

    @Test("define a task with .topic('cpu'), list and show the topic, define, list, show and delete a topic handler")
    func topicVerbs() async throws {
        let dir = try DaemonProcess.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        var daemon: DaemonProcess? = try await DaemonProcess(dataDirectory: dir)
        let tick = dir + "/cpu.tick"
        try Self.tick.write(toFile: tick, atomically: true, encoding: .utf8)
        ok(try daemon!.cli(["define", "cpu_alert", "-tick", tick, "-dbrp", "telegraf.autogen"]), "define")
        ok(try daemon!.cli(["enable", "cpu_alert"]), "enable")
        #expect(try await daemon!.write("cpu,host=a value=95 1\ncpu,host=b value=99 2\n", db: "telegraf", rp: "autogen") == 204)
        try await DaemonProcess.waitUntil("topic cpu collected both events") {
            ((try? await daemon!.getJSON("/kapacitor/v1/alerts/topics/cpu"))?["collected"] as? Int) == 2
        }

        let topics = try daemon!.cli(["list", "topics"])
        ok(topics, "list topics")
        #expect(topics.stdout == "ID  Level     Collected\ncpu CRITICAL          2\n")

        let log = dir + "/ops.log"
        let spec = dir + "/ops.yaml"
        try """
            topic: cpu
            id: ops
            kind: log
            match: level() == CRITICAL AND "host" == 'a'
            options:
              path: \(log)
            """.write(toFile: spec, atomically: true, encoding: .utf8)
        ok(try daemon!.cli(["define-topic-handler", spec]), "define-topic-handler")
        let handlers = try daemon!.cli(["list", "topic-handlers"])
        ok(handlers, "list topic-handlers")
        #expect(handlers.stdout == "Topic      ID         Kind       \ncpu        ops        log        \n")
        let shown = try daemon!.cli(["show-topic-handler", "cpu", "ops"])
        #expect(shown.stdout == "ID: ops\nTopic: cpu\nKind: log\nMatch: level() == CRITICAL AND \"host\" == 'a'\nOptions: {\"path\":\"\(log)\"}\n")

        // The handler receives what its match selects: host a, not host b.
        #expect(try await daemon!.write("cpu,host=a value=96 3\ncpu,host=b value=97 4\n", db: "telegraf", rp: "autogen") == 204)
        try await DaemonProcess.waitUntil("the handler logged host a's event") {
            ((try? String(contentsOfFile: log, encoding: .utf8)) ?? "").contains("\"id\":\"cpu:host=a\"")
        }
        try await Task.sleep(for: .milliseconds(300))
        #expect(((try? String(contentsOfFile: log, encoding: .utf8)) ?? "").split(separator: "\n").count == 1)

        ok(try daemon!.cli(["define-silence", "-id", "maint", "-topic", "cpu", "-duration", "1h"]), "define-silence")
        let topic = try daemon!.cli(["show-topic", "cpu"])
        ok(topic, "show-topic")
        let lines = topic.stdout.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        func pad(_ s: String, _ n: Int) -> String { s + String(repeating: " ", count: max(0, n - s.count)) }
        // Kapacitor's widths: the longest event ID and message, plus one.
        #expect(Array(lines.prefix(6)) == ["ID: cpu", "Level: CRITICAL", "Collected: 4", "Handlers: [ops]", "Events:",
                                           pad("Event", 11) + pad("Level", 9) + pad("Message", 23) + pad("Date", 23)], "\(topic.stdout)")
        #expect(lines.count > 7 && lines[6].hasPrefix(pad("cpu:host=a", 11) + pad("CRITICAL", 9) + pad("cpu:host=a is CRITICAL", 23)),
                "\(topic.stdout)")
        #expect(lines.contains("Silences:"), "\(topic.stdout)")

        let unknown = dir + "/bad.yaml"
        try "topic: cpu\nid: bad\nkind: nosuch\n".write(toFile: unknown, atomically: true, encoding: .utf8)
        let refused = try daemon!.cli(["define-topic-handler", unknown])
        #expect(refused.status != 0)
        #expect(refused.stderr.contains("failed to create handler: unknown alert handler kind \"nosuch\""), "\(refused.stderr)")

        // A restart keeps the handler and the topic's events.
        #expect(daemon!.stop() == 0)
        daemon = try await DaemonProcess(dataDirectory: dir)
        let again = try daemon!.cli(["show-topic-handler", "cpu", "ops"])
        #expect(again.stdout == shown.stdout)
        let events = try await daemon!.getJSON("/kapacitor/v1/alerts/topics/cpu/events")
        #expect((events["events"] as? [[String: Any]])?.compactMap { $0["id"] as? String } == ["cpu:host=a", "cpu:host=b"])

        ok(try daemon!.cli(["delete", "topic-handlers", "cpu", "ops"]), "delete topic-handlers")
        #expect(try daemon!.cli(["list", "topic-handlers"]).stdout == "Topic      ID         Kind       \n")
        ok(try daemon!.cli(["delete", "topics", "cpu"]), "delete topics")
        #expect(try daemon!.cli(["list", "topics"]).stdout == "ID Level     Collected\n")
        daemon!.stop()
    }
}
