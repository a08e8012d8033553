import Foundation
import Testing

/// Issue 10's fault test: a notifier plugin that crashes, hangs, fails retryably or permanently on some events and
/// delivers the rest, behind `tock serve`. Every event ends delivered exactly once or as a dead letter with its reason,
/// the dead letters are listed, replayed and deleted with the CLI, and another task keeps alerting meanwhile.
@Suite("Dead letters through the daemon", .serialized)
struct DeadLetterDaemonTests {
    static let hosts = ["ok-1", "crash-1", "ok-2", "hang-1", "flaky-1", "refuse-1", "down-1", "late-1", "ok-3"]

    /// The IDs of the events the notifier delivered, one per line of its output, in order.
    static func delivered(_ out: String) -> [String] {
        let text = (try? String(contentsOfFile: out, encoding: .utf8)) ?? ""
        return text.split(separator: "\n").map { line in
            let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
            return object?["id"] as? String ?? "unparsable: \(line)"
        }
    }

    @Test("a crashing, hanging, failing notifier: each event delivered once or dead-lettered with its reason; replay and delete work")
    func faultyNotifier() async throws {
        let dir = try DaemonProcess.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let out = dir + "/delivered.jsonl"
        let port = try TCPLines.freePort()
        let config = """
            [alerting]
              # Long enough for the crashed plugin's restart on a loaded machine: an attempt cut short while the new
              # process starts would deliver its event twice (at least once is the contract, once is this test's).
              timeout = "3s"
              retry-max-attempts = 5
              retry-initial-backoff = "200ms"
              retry-max-backoff = "500ms"

            [notifiers.faulty]
              prog = "python3"
              args = ["-u", "\(TockBinary.root)/Tests/Fixtures/notifiers/faulty.py"]
              [notifiers.faulty.env]
                PYTHONPATH = "\(TockBinary.root)/Protocol/python"
                NOTIFIER_OUT = "\(out)"

            """
        let cpu = try file("cpu.tick", """
            dbrp "telegraf"."autogen"
            stream
                |from()
                    .measurement('cpu')
                    .groupBy('host')
                |alert()
                    .id('{{ index .Tags "host" }}')
                    .crit(lambda: "value" > 80)
                    .notify('faulty')

            """, in: dir)
        let mem = try file("mem.tick", """
            dbrp "telegraf"."autogen"
            stream
                |from()
                    .measurement('mem')
                |alert()
                    .crit(lambda: "used" > 90)
                    .tcp('127.0.0.1:\(port)')

            """, in: dir)
        let listener = try TCPLines(port: port)
        defer { listener.stop() }
        let daemon = try await DaemonProcess(dataDirectory: dir, configuration: config)
        defer { daemon.stop() }
        for (id, tick) in [("cpu_alert", cpu), ("mem_alert", mem)] {
            let define = try daemon.cli(["define", id, "-tick", tick])
            #expect(define.status == 0, "\(define.stderr)")
            #expect(try daemon.cli(["enable", id]).status == 0)
        }

        let points = Self.hosts.enumerated().map { "cpu,host=\($1) value=95 \($0 + 1)" }.joined(separator: "\n") + "\n"
        #expect(try await daemon.write(points, db: "telegraf", rp: "autogen") == 204)
        // The other task alerts while the notifier misbehaves.
        #expect(try await daemon.write("mem used=95 1\n", db: "telegraf", rp: "autogen") == 204)
        try await DaemonProcess.waitUntil("the mem task's alert reaches its listener", timeout: 30) { listener.lines.count >= 1 }

        // ok, crash (once), hang (once), flaky (once) and ok end delivered; refuse, down and late end as dead letters.
        try await DaemonProcess.waitUntil("three dead letters", timeout: 60) {
            (try await daemon.getJSON("/kapacitor/v1/alerts/dead-letters")["deadLetters"] as? [[String: Any]] ?? []).count >= 3
        }
        try await DaemonProcess.waitUntil("six deliveries", timeout: 60) { Self.delivered(out).count >= 6 }
        #expect(Self.delivered(out) == ["ok-1", "crash-1", "ok-2", "hang-1", "flaky-1", "ok-3"], "each once, in order")
        let list = try await daemon.getJSON("/kapacitor/v1/alerts/dead-letters")
        let letters = list["deadLetters"] as? [[String: Any]] ?? []
        func letter(_ event: String) -> [String: Any]? {
            letters.first { ($0["event"] as? [String: Any])?["id"] as? String == event }
        }
        #expect(letters.count == 3)
        #expect(letter("refuse-1")?["reason"] as? String == "refused")
        #expect(letter("refuse-1")?["attempts"] as? Int == 1)
        #expect((letter("refuse-1")?["detail"] as? String)?.contains("no such pager for refuse-1") == true)
        #expect(letter("down-1")?["reason"] as? String == "retries-exhausted")
        #expect(letter("down-1")?["attempts"] as? Int == 5)
        #expect((letter("down-1")?["detail"] as? String)?.contains("receiver down") == true)
        #expect(letter("late-1")?["reason"] as? String == "retries-exhausted")
        for l in letters {
            #expect(l["task"] as? String == "cpu_alert" && l["node"] as? String == "alert2" && l["kind"] as? String == "notify",
                    "\(l)")
            #expect(l["handler"] as? String == "notifier faulty")
            #expect((l["event"] as? [String: Any])?["level"] as? String == "CRITICAL", "the event is Kapacitor's alert JSON")
        }
        #expect((list["counts"] as? [String: Any])?["refused"] as? Int == 1)

        // The CLI lists them; a glob on the task selects them.
        let table = try daemon.cli(["list", "dead-letters", "cpu*"])
        #expect(table.status == 0, "\(table.stderr)")
        #expect(table.stdout.hasPrefix("ID "), "\(table.stdout)")
        #expect(table.stdout.contains("refuse-1 CRITICAL") && table.stdout.contains("retries-exhausted"), "\(table.stdout)")
        #expect(table.stdout.split(separator: "\n").count == 4, "\(table.stdout)")

        // The receiver comes up: replaying late-1 delivers it once, through the running task's handler.
        FileManager.default.createFile(atPath: out + ".up", contents: Data())
        let lateID = try #require(letter("late-1")?["id"] as? Int)
        let replay = try daemon.cli(["replay-dead-letters", "\(lateID)"])
        #expect(replay.status == 0, "\(replay.stderr)")
        #expect(replay.stdout.contains("\(lateID): queued on its running handler (notifier faulty)"), "\(replay.stdout)")
        try await DaemonProcess.waitUntil("late-1 delivered") { Self.delivered(out).count >= 7 }
        #expect(Self.delivered(out).filter { $0 == "late-1" }.count == 1)

        // The rest are deleted by task; the list is then empty.
        let delete = try daemon.cli(["delete", "dead-letters", "cpu_alert"])
        #expect(delete.status == 0, "\(delete.stderr)")
        #expect((try await daemon.getJSON("/kapacitor/v1/alerts/dead-letters")["deadLetters"] as? [[String: Any]])?.isEmpty == true)

        // Both tasks still run: the next events are delivered.
        #expect(try await daemon.write("cpu,host=ok-4 value=95 20\nmem used=10 20\nmem used=99 21\n", db: "telegraf", rp: "autogen") == 204)
        try await DaemonProcess.waitUntil("ok-4 delivered") { Self.delivered(out).contains("ok-4") }
        try await DaemonProcess.waitUntil("the mem task alerts again") { listener.lines.count >= 3 }
        #expect(Self.delivered(out).count == 8)
    }

    @Test("dead letters outlive a restart; the API refuses bad filters by name")
    func persisted() async throws {
        let dir = try DaemonProcess.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let port = try TCPLines.freePort()
        let config = """
            [alerting]
              timeout = "1s"
              retry-max-attempts = 2
              retry-initial-backoff = "50ms"
              retry-max-backoff = "50ms"

            """
        let tick = try file("cpu.tick", """
            dbrp "telegraf"."autogen"
            stream
                |from()
                    .measurement('cpu')
                |alert()
                    .crit(lambda: "value" > 80)
                    .tcp('127.0.0.1:\(port)')

            """, in: dir)
        do {
            let daemon = try await DaemonProcess(dataDirectory: dir, configuration: config)
            defer { daemon.stop() }
            #expect(try daemon.cli(["define", "cpu_alert", "-tick", tick]).status == 0)
            #expect(try daemon.cli(["enable", "cpu_alert"]).status == 0)
            #expect(try await daemon.write("cpu value=95 1\n", db: "telegraf", rp: "autogen") == 204)
            try await DaemonProcess.waitUntil("a dead letter (nothing listens)") {
                (try await daemon.getJSON("/kapacitor/v1/alerts/dead-letters")["deadLetters"] as? [[String: Any]] ?? []).count == 1
            }
            let bad = try await HTTP.send("GET", daemon.url + "/kapacitor/v1/alerts/dead-letters?reason=lost")
            #expect(bad.status == 400)
            #expect(String(decoding: bad.body, as: UTF8.self).contains("reason \\\"lost\\\" is not one of refused, retries-exhausted, queue-full, stopped"))
        }
        let daemon = try await DaemonProcess(dataDirectory: dir, configuration: config)
        defer { daemon.stop() }
        let letters = try await daemon.getJSON("/kapacitor/v1/alerts/dead-letters")["deadLetters"] as? [[String: Any]] ?? []
        #expect(letters.count == 1)
        #expect(letters.first?["handler"] as? String == "tcp 127.0.0.1:\(port)")
        // The receiver is up now: the replay goes through the running task's handler and arrives.
        let listener = try TCPLines(port: port)
        defer { listener.stop() }
        let replay = try daemon.cli(["replay-dead-letters", "-all"])
        #expect(replay.status == 0, "\(replay.stderr)")
        try await DaemonProcess.waitUntil("the replayed alert arrives") { listener.lines.count == 1 }
        #expect(listener.lines.first?.contains("\"level\":\"CRITICAL\"") == true)
    }
}
