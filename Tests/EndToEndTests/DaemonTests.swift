import Foundation
import Storage
import Testing

/// The daemon driven the way a Kapacitor user drives it: `tock` verbs and plain HTTP, against a real
/// `tock serve` on 127.0.0.1 with its own data directory.
@Suite("Daemon end to end", .serialized)
struct DaemonTests {
    static let script = """
        stream
            |from()
                .measurement('cpu')
            |httpOut('out')

        """

    /// Runs the CLI and expects success, reporting its stderr otherwise.
    @discardableResult
    func ok(_ daemon: DaemonProcess, _ args: [String]) throws -> String {
        let result = try daemon.cli(args)
        #expect(result.status == 0, "tock \(args.joined(separator: " ")) failed: \(result.stderr)")
        return result.stdout
    }

    /// Retries `show` until the DOT carries `needle` (the daemon processes writes asynchronously).
    func show(_ daemon: DaemonProcess, _ id: String, until needle: String) async throws -> String {
        var output = ""
        for _ in 0..<200 {
            output = try ok(daemon, ["show", id])
            if output.contains(needle) { break }
            try await Task.sleep(for: .milliseconds(25))
        }
        return output
    }

    @Test("define, enable, write, show, read httpOut, disable, delete — all through tock and HTTP")
    func lifecycle() async throws {
        let dir = try DaemonProcess.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let daemon = try await DaemonProcess(dataDirectory: dir)
        defer { daemon.stop() }
        let tick = try file("task01.tick", Self.script, in: dir)

        try ok(daemon, ["define", "task01", "-tick", tick, "-dbrp", "\"monitor_db\".\"autogen\"", "-type", "stream"])
        let listed = try ok(daemon, ["list", "tasks"])
        #expect(listed.split(separator: "\n").first == "ID                            Type      Status    Executing Databases and Retention Policies")
        #expect(listed.contains("task01                        stream    disabled  false     [\"monitor_db\".\"autogen\"]"))

        try ok(daemon, ["enable", "task01"])
        let status = try await daemon.write("cpu,host=a value=1 1\ncpu,host=a value=2 2\ncpu,host=b value=3 3\n",
                                            db: "monitor_db", rp: "autogen")
        #expect(status == 204)

        let shown = try await show(daemon, "task01", until: "processed=\"3\"")
        #expect(shown.contains("ID: task01\n"))
        #expect(shown.contains("Type: stream\n"))
        #expect(shown.contains("Status: enabled\n"))
        #expect(shown.contains("Executing: true\n"))
        #expect(shown.contains("Databases Retention Policies: [\"monitor_db\".\"autogen\"]\n"))
        #expect(shown.contains("TICKscript:\n" + Self.script))
        #expect(shown.contains("processed=\"3\""), "the DOT's edge counters show the three points:\n\(shown)")

        let out = try await daemon.getJSON("/kapacitor/v1/tasks/task01/out")
        let series = try #require(out["series"] as? [[String: Any]])
        #expect(series.first?["name"] as? String == "cpu")
        let values = try #require(series.first?["values"] as? [[Any]])
        #expect((values.last?.last as? NSNumber)?.doubleValue == 3)

        try ok(daemon, ["disable", "task01"])
        #expect(try ok(daemon, ["show", "task01"]).contains("Status: disabled\nExecuting: false\n"))
        try ok(daemon, ["delete", "tasks", "task01"])
        #expect(try ok(daemon, ["list", "tasks"]) == "ID                            Type      Status    Executing Databases and Retention Policies\n")
        let gone = try daemon.cli(["show", "task01"])
        #expect(gone.status != 0)
        #expect(!gone.stderr.isEmpty)
    }

    @Test("a broken TICKscript on define prints line:column and leaves the existing task as it was")
    func brokenRedefine() async throws {
        let dir = try DaemonProcess.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let daemon = try await DaemonProcess(dataDirectory: dir)
        defer { daemon.stop() }
        let good = try file("good.tick", Self.script, in: dir)
        let broken = try file("broken.tick", "stream\n    |from()\n        .measurement('cpu'\n    |httpOut('out')\n", in: dir)

        try ok(daemon, ["define", "task01", "-tick", good, "-dbrp", "monitor_db.autogen", "-type", "stream"])
        try ok(daemon, ["enable", "task01"])
        let failed = try daemon.cli(["define", "task01", "-tick", broken])
        #expect(failed.status != 0)
        #expect(failed.stderr.range(of: #"\d+:\d+"#, options: .regularExpression) != nil,
                "the error names a line:column: \(failed.stderr)")
        #expect(failed.stdout.isEmpty)

        let shown = try ok(daemon, ["show", "task01"])
        #expect(shown.contains("TICKscript:\n" + Self.script))
        #expect(shown.contains("Status: enabled\nExecuting: true\n"))
    }

    @Test("-dbrp is repeatable, define updates in place, globs select tasks, templates list with their vars")
    func flagsAndGlobs() async throws {
        let dir = try DaemonProcess.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let daemon = try await DaemonProcess(dataDirectory: dir)
        defer { daemon.stop() }
        let tick = try file("t.tick", Self.script, in: dir)

        try ok(daemon, ["define", "cpu_alert", "--tick", tick, "--type", "stream", "--dbrp", "a.autogen", "-dbrp", "b.one_week"])
        try ok(daemon, ["define", "mem_alert", "-tick", tick, "-type", "stream", "-dbrp", "a.autogen"])
        try ok(daemon, ["define", "other", "-tick", tick, "-type", "stream", "-dbrp", "a.autogen"])
        #expect(try ok(daemon, ["show", "cpu_alert"]).contains("Databases Retention Policies: [\"a\".\"autogen\" \"b\".\"one_week\"]\n"))

        try ok(daemon, ["enable", "*_alert"])
        let listed = try ok(daemon, ["list", "tasks", "*_alert"]).split(separator: "\n").map(String.init)
        #expect(listed.count == 3)
        #expect(listed.dropFirst().allSatisfy { $0.contains("enabled   true") })
        #expect(try ok(daemon, ["list", "tasks", "other"]).contains("other                         stream    disabled  false"))

        // Re-defining with only -dbrp keeps the script and the enabled state.
        try ok(daemon, ["define", "cpu_alert", "-dbrp", "c.autogen"])
        let shown = try ok(daemon, ["show", "cpu_alert"])
        #expect(shown.contains("Databases Retention Policies: [\"c\".\"autogen\"]\n"))
        #expect(shown.contains("Status: enabled\nExecuting: true\n"))
        #expect(shown.contains("TICKscript:\n" + Self.script))

        let template = try file("tpl.tick", "var measurement string\nvar limit = 10\nstream\n    |from()\n        .measurement(measurement)\n    |httpOut('out')\n", in: dir)
        try ok(daemon, ["define-template", "generic", "-tick", template, "-type", "stream"])
        let templates = try ok(daemon, ["list", "templates"])
        #expect(templates.contains("generic                       stream    limit,measurement"))
        let vars = try file("vars.json", #"{"measurement": {"type": "string", "value": "cpu"}}"#, in: dir)
        try ok(daemon, ["define", "from_tpl", "-template", "generic", "-vars", vars, "-dbrp", "a.autogen"])
        let fromTemplate = try ok(daemon, ["show", "from_tpl"])
        #expect(fromTemplate.contains("Template: generic\n"))
        #expect(fromTemplate.contains("measurement                   string    cpu\n"))

        try ok(daemon, ["delete", "tasks", "*"])
        try ok(daemon, ["delete", "templates", "generic"])
        #expect(try ok(daemon, ["list", "tasks"]).split(separator: "\n").count == 1)
        #expect(try ok(daemon, ["list", "templates"]).split(separator: "\n").count == 1)
    }

    @Test("tasks survive a restart and the enabled ones run again")
    func restart() async throws {
        let dir = try DaemonProcess.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let tick = try file("t.tick", Self.script, in: dir)
        do {
            let first = try await DaemonProcess(dataDirectory: dir)
            defer { first.stop() }
            try ok(first, ["define", "running", "-tick", tick, "-type", "stream", "-dbrp", "db.rp"])
            try ok(first, ["define", "idle", "-tick", tick, "-type", "stream", "-dbrp", "db.rp"])
            try ok(first, ["enable", "running"])
            #expect(first.stop() == 0, "SIGTERM stops the daemon cleanly")
        }
        let second = try await DaemonProcess(dataDirectory: dir)
        defer { second.stop() }
        let listed = try ok(second, ["list", "tasks"])
        #expect(listed.contains("idle                          stream    disabled  false     [\"db\".\"rp\"]"))
        #expect(listed.contains("running                       stream    enabled   true      [\"db\".\"rp\"]"))
        #expect(try await second.write("cpu value=7 1\n", db: "db", rp: "rp") == 204)
        let shown = try await show(second, "running", until: "processed=\"1\"")
        #expect(shown.contains("processed=\"1\""))
        let out = try await second.getJSON("/kapacitor/v1/tasks/running/out")
        let values = (out["series"] as? [[String: Any]])?.first?["values"] as? [[Any]]
        #expect((values?.last?.last as? NSNumber)?.doubleValue == 7)
    }

    @Test("kill -9 during a burst of defines loses no acknowledged definition")
    func killDuringBurst() async throws {
        let dir = try DaemonProcess.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let daemon = try await DaemonProcess(dataDirectory: dir)
        let acknowledged = Acknowledged()
        let url = daemon.url
        // Four writers define tasks as fast as the daemon acknowledges them; the daemon dies mid-burst.
        try await withThrowingTaskGroup(of: Void.self) { group in
            for writer in 0..<4 {
                group.addTask {
                    for i in 0..<10_000 {
                        let id = "burst_\(writer)_\(i)"
                        let body = try JSONSerialization.data(withJSONObject: [
                            "id": id, "type": "stream", "dbrps": [["db": "db", "rp": "rp"]],
                            "script": Self.script, "status": "disabled",
                        ])
                        guard let reply = try? await HTTP.send("POST", url + "/kapacitor/v1/tasks", body: body) else { return }
                        if reply.status == 200 || reply.status == 201 { await acknowledged.add(id) }
                    }
                }
            }
            try await DaemonProcess.waitUntil("40 defines were acknowledged", timeout: 60) { await acknowledged.count >= 40 }
            daemon.kill9()
            try await group.waitForAll()
        }
        let ids = await acknowledged.ids
        #expect(ids.count >= 40)

        let restarted = try await DaemonProcess(dataDirectory: dir)
        defer { restarted.stop() }
        let listed = Set(try ok(restarted, ["list", "tasks", "burst_*"]).split(separator: "\n").dropFirst()
            .map { String($0.prefix { $0 != " " }) })
        let lost = ids.subtracting(listed)
        #expect(lost.isEmpty, "acknowledged but lost after kill -9: \(lost.sorted())")
    }

    @Test("Kapacitor's flag order: `tock -url URL verb …`; stats general and ingress print numbers and rows")
    func globalURLFlagAndStats() async throws {
        let dir = try DaemonProcess.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let daemon = try await DaemonProcess(dataDirectory: dir)
        defer { daemon.stop() }
        let tick = try file("t.tick", "dbrp \"monitor_db\".\"autogen\"\n" + Self.script, in: dir)

        let defined = try TockBinary.runProgram(TockBinary.path, ["-url", daemon.url, "define", "t", "-tick", tick])
        #expect(defined.status == 0, "\(defined.stderr)")
        let listed = try TockBinary.runProgram(TockBinary.path, ["-url", daemon.url, "list", "tasks"])
        #expect(listed.stdout.contains("t                             stream    disabled  false     [\"monitor_db\".\"autogen\"]"),
                "the script's dbrp is the task's:\n\(listed.stdout)\(listed.stderr)")
        try ok(daemon, ["enable", "t"])
        // No rp: the write goes to autogen.
        #expect(try await daemon.write("cpu value=1 1\ncpu value=2 2\n", db: "monitor_db", rp: "") == 204)

        let general = try ok(daemon, ["stats", "general"])
        #expect(general.contains("Tasks:              1\n"), "\(general)")
        #expect(general.contains("Enabled Tasks:      1\n"))
        let ingress = try ok(daemon, ["stats", "ingress"])
        // (The [stats] service's own points, every 10 s into _kapacitor, are ingress too, as in Kapacitor.)
        let rows = ingress.split(separator: "\n").map { $0.split(separator: " ", omittingEmptySubsequences: true).joined(separator: " ") }
            .filter { !$0.hasPrefix("_kapacitor ") }
        #expect(rows == ["Database Retention Policy Measurement Points Received", "monitor_db autogen cpu 2"])
    }

    @Test("Kapacitor's generic template: show-template lists defaults and <required>; a YAML -file defines a task from it")
    func templateFromYAML() async throws {
        let dir = try DaemonProcess.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let daemon = try await DaemonProcess(dataDirectory: dir)
        defer { daemon.stop() }
        let template = try file("generic.tick", """
            var measurement string
            var where_filter = lambda: TRUE
            var groups = [*]
            var field string
            var window = 5m

            stream
                |from()
                    .measurement(measurement)
                    .where(where_filter)
                    .groupBy(groups)
                |window()
                    .period(window)
                    .every(window)
                |mean(field)
                |httpOut('out')

            """, in: dir)
        try ok(daemon, ["define-template", "generic_mean", "-tick", template, "-type", "stream"])
        let shown = try ok(daemon, ["show-template", "generic_mean"])
        let vars = shown.split(separator: "\n").map { $0.split(separator: " ", omittingEmptySubsequences: true).joined(separator: " ") }
        #expect(vars.contains("field string <required>"))
        #expect(vars.contains("groups list [*]"))
        #expect(vars.contains("where_filter lambda TRUE"))
        #expect(vars.contains("window duration 5m0s"))

        let yaml = try file("mem.yaml", """
            template-id: generic_mean
            dbrps: [{"db": "telegraf", "rp": "autogen"}]
            vars:
              measurement: {"type": "string", "value": "mem"}
              field: {"type": "string", "value": "used"}
              window: {"type": "duration", "value": "10s"}

            """, in: dir)
        try ok(daemon, ["define", "mem_mean", "-file", yaml])
        try ok(daemon, ["enable", "mem_mean"])
        #expect(try await daemon.write("mem,host=a used=10 1\nmem,host=a used=30 2\nmem,host=a used=0 11\n",
                                       db: "telegraf", rp: "autogen") == 204)
        var series: [[String: Any]] = []
        for _ in 0..<200 {
            series = (try await daemon.getJSON("/kapacitor/v1/tasks/mem_mean/out"))["series"] as? [[String: Any]] ?? []
            if !series.isEmpty { break }
            try await Task.sleep(for: .milliseconds(25))
        }
        let first = try #require(series.first)
        #expect(first["tags"] as? [String: String] == ["host": "a"])
        #expect((first["values"] as? [[Any]])?.first?.last as? Double == 20)
    }

    @Test("an alert's level survives a restart: CRITICAL is not repeated under stateChangesOnly, and OK recovers it")
    func alertStateSurvivesRestart() async throws {
        let dir = try DaemonProcess.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let alerts = dir + "/alerts.log"
        let tick = try file("alert.tick", """
            dbrp "telegraf"."autogen"
            stream
                |from()
                    .measurement('cpu')
                    .groupBy('host')
                |alert()
                    .crit(lambda: "value" > 80)
                    .stateChangesOnly()
                    .log('\(alerts)')

            """, in: dir)
        func levels() -> [String] {
            let text = (try? String(contentsOfFile: alerts, encoding: .utf8)) ?? ""
            return text.split(separator: "\n").compactMap { line in
                guard let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any] else { return nil }
                return "\(object["previousLevel"] ?? "?")->\(object["level"] ?? "?")"
            }
        }
        func waitFor(_ count: Int) async throws {
            for _ in 0..<200 where levels().count < count { try await Task.sleep(for: .milliseconds(25)) }
        }

        let first = try await DaemonProcess(dataDirectory: dir)
        try ok(first, ["define", "cpu_alert", "-tick", tick])
        try ok(first, ["enable", "cpu_alert"])
        #expect(try await first.write("cpu,host=a value=90 1\ncpu,host=a value=95 2\n", db: "telegraf", rp: "autogen") == 204)
        try await waitFor(1)
        #expect(levels() == ["OK->CRITICAL"])
        #expect(first.stop() == 0)

        let second = try await DaemonProcess(dataDirectory: dir)
        defer { second.stop() }
        #expect(try await second.write("cpu,host=a value=91 3\ncpu,host=a value=50 4\n", db: "telegraf", rp: "autogen") == 204)
        try await waitFor(2)
        #expect(levels() == ["OK->CRITICAL", "CRITICAL->OK"])
    }

    @Test("UDF snapshots reach the database every snapshot-interval: after kill -9 the moving average resumes")
    func udfSnapshotsSurviveKill9() async throws {
        let dir = try DaemonProcess.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let config = try file("tock.conf", """
            [task]
              snapshot-interval = "100ms"
            [udf]
            [udf.functions.movingAverage]
              prog = "/usr/bin/env"
              args = ["python3", "\(TockBinary.root)/SampleUDFs/moving_avg.py"]
              timeout = "10s"
              [udf.functions.movingAverage.env]
                PYTHONPATH = "\(TockBinary.root)/Protocol/python"

            """, in: dir)
        let tick = try file("avg.tick", """
            dbrp "sensors"."autogen"
            stream
                |from()
                    .measurement('m')
                @movingAverage()
                    .field('value')
                    .size(3)
                    .as('avg')
                |httpOut('out')

            """, in: dir)
        func lastAverage(_ daemon: DaemonProcess, after time: String) async throws -> Double? {
            for _ in 0..<200 {
                let out = try await daemon.getJSON("/kapacitor/v1/tasks/avg/out")
                if let row = ((out["series"] as? [[String: Any]])?.first?["values"] as? [[Any]])?.last,
                   row.first as? String == time {
                    return row.last as? Double
                }
                try await Task.sleep(for: .milliseconds(25))
            }
            return nil
        }

        let first = try await DaemonProcess(dataDirectory: dir, config: config)
        try ok(first, ["define", "avg", "-tick", tick])
        try ok(first, ["enable", "avg"])
        #expect(try await first.write("m value=10 1\nm value=20 2\n", db: "sensors", rp: "autogen") == 204)
        #expect(try await lastAverage(first, after: "1970-01-01T00:00:02Z") == 15)
        // Wait until a snapshot holding both points has reached the database (read beside the running daemon).
        let store = try Store(path: dir + "/tock.db")
        try await DaemonProcess.waitUntil("the database holds a snapshot of the window [10, 20]") {
            try store.udfSnapshots().contains { $0.taskID == "avg" && String(decoding: $0.data, as: UTF8.self).contains("[10.0, 20.0]") }
        }
        first.kill9()

        let second = try await DaemonProcess(dataDirectory: dir, config: config)
        defer { second.stop() }
        #expect(try await second.write("m value=60 3\n", db: "sensors", rp: "autogen") == 204)
        // (10 + 20 + 60) / 3 = 30 with the whole window restored; 35 from a snapshot of [10] alone; 60 with none.
        #expect(try await lastAverage(second, after: "1970-01-01T00:00:03Z") == 30)
    }
}

/// The IDs the daemon acknowledged, shared by the burst writers.
actor Acknowledged {
    private(set) var ids: Set<String> = []
    var count: Int { ids.count }
    func add(_ id: String) { ids.insert(id) }
}
