import Foundation
import Testing

/// The verbs a Kapacitor user reaches for besides define/enable/show: reload, vars, level, config,
/// users delete, and the offline ones, fmt and show-graph. Each through the real `tock` binary.
@Suite("CLI verbs end to end", .serialized)
struct CLIVerbTests {
    static let script = "stream\n    |from()\n        .measurement('cpu')\n    |httpOut('out')\n"



    @Test("reload restarts an enabled task from its stored definition: its counters start again from zero")
    func reload() async throws {
        let dir = try DaemonProcess.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let daemon = try await DaemonProcess(dataDirectory: dir)
        defer { daemon.stop() }
        let tick = try file("t.tick", Self.script, in: dir)
        ok(try daemon.cli(["define", "cpu_a", "-tick", tick, "-dbrp", "db.rp"]), "define")
        ok(try daemon.cli(["enable", "cpu_a"]), "enable")
        #expect(try await daemon.write("cpu value=1 1\ncpu value=2 2\n", db: "db", rp: "rp") == 204)
        try await DaemonProcess.waitUntil("the task processed both points") {
            try daemon.cli(["show", "cpu_a"]).stdout.contains("processed=\"2\"")
        }

        ok(try daemon.cli(["reload", "cpu_*"]), "reload by glob")
        let reloaded = ok(try daemon.cli(["show", "cpu_a"]), "show after reload")
        #expect(reloaded.contains("Status: enabled\nExecuting: true\n"))
        #expect(!reloaded.contains("processed=\"2\""), "a reloaded task starts with fresh counters:\n\(reloaded)")
        #expect(try await daemon.write("cpu value=3 3\n", db: "db", rp: "rp") == 204)
        try await DaemonProcess.waitUntil("the reloaded task processed the new point") {
            try daemon.cli(["show", "cpu_a"]).stdout.contains("processed=\"1\"")
        }

        let unknown = try daemon.cli(["reload", "nope"])
        #expect(unknown.status != 0)
        #expect(unknown.stderr.contains("nope"), "the error names the task: \(unknown.stderr)")
    }

    @Test("vars prints the server's debug/vars JSON with Kapacitor's top-level keys and the task counts")
    func vars() async throws {
        let dir = try DaemonProcess.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let daemon = try await DaemonProcess(dataDirectory: dir)
        defer { daemon.stop() }
        let tick = try file("t.tick", Self.script, in: dir)
        ok(try daemon.cli(["define", "one", "-tick", tick, "-dbrp", "db.rp"]), "define one")
        ok(try daemon.cli(["define", "two", "-tick", tick, "-dbrp", "db.rp"]), "define two")
        ok(try daemon.cli(["enable", "two"]), "enable two")
        let printed = ok(try daemon.cli(["vars"]), "vars")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(printed.utf8)) as? [String: Any])
        #expect((object["num_tasks"] as? NSNumber)?.intValue == 2)
        #expect((object["num_enabled_tasks"] as? NSNumber)?.intValue == 1)
        #expect(object["product"] as? String == "kapacitor")
        let stats = try #require(object["kapacitor"] as? [String: Any])
        #expect(stats["task:two"] != nil, "the running task has its entry: \(stats.keys.sorted())")
        #expect(stats["task:one"] == nil, "a disabled task has none")
    }

    @Test("level switches the daemon's log level at run time; an unknown level is refused")
    func level() async throws {
        let dir = try DaemonProcess.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let daemon = try await DaemonProcess(dataDirectory: dir)
        defer { daemon.stop() }
        func requestLines() throws -> Int {
            try String(contentsOfFile: daemon.logPath, encoding: .utf8).components(separatedBy: "msg=\"http request\"").count - 1
        }
        ok(try daemon.cli(["list", "tasks"]), "list at info")
        #expect(try requestLines() == 0, "requests are logged at debug level only")

        ok(try daemon.cli(["level", "debug"]), "level debug")
        ok(try daemon.cli(["list", "tasks"]), "list at debug")
        try await DaemonProcess.waitUntil("requests are logged") { try requestLines() >= 1 }

        ok(try daemon.cli(["level", "error"]), "level error")
        let before = try requestLines()
        ok(try daemon.cli(["list", "tasks"]), "list at error")
        ok(try daemon.cli(["list", "tasks"]), "list at error")
        #expect(try requestLines() <= before + 1, "at most the level request itself was logged after error was set")

        let refused = try daemon.cli(["level", "loud"])
        #expect(refused.status != 0)
        #expect(refused.stderr.contains("invalid log level"), "\(refused.stderr)")
    }

    @Test("config prints a configuration the daemon starts with, holding Kapacitor's sections and defaults")
    func config() async throws {
        let printed = ok(try TockBinary.runProgram(TockBinary.path, ["config"]), "config")
        for line in ["[http]", "bind-address = \":9092\"", "[task]", "snapshot-interval = \"60s\""] {
            #expect(printed.contains(line), "tock config prints \(line)")
        }
        let dir = try DaemonProcess.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let path = try file("tock.conf", printed, in: dir)
        let daemon = try await DaemonProcess(dataDirectory: dir, config: path)
        #expect(try await HTTP.send("GET", daemon.url + "/ping").status == 204)
        #expect(daemon.stop() == 0)
    }

    @Test("users delete removes the user: their password and their tokens stop working")
    func usersDelete() async throws {
        let dir = try DaemonProcess.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let daemon = try await DaemonProcess(dataDirectory: dir, configuration: "[http]\n  auth-enabled = true\n")
        defer { daemon.stop() }
        ok(try TockBinary.runProgram(TockBinary.path, ["users", "add", "root", "--admin", "--user-password", "rootpw",
                                                       "--data-dir", dir]), "bootstrap root")
        let admin = ["-username", "root", "-password", "rootpw"]
        ok(try daemon.cli(["users", "add", "ops", "--permissions", "read", "--user-password", "opspw"] + admin), "add ops")
        let token = ok(try daemon.cli(["users", "token", "create", "ops"] + admin), "token for ops")
            .trimmingCharacters(in: .whitespacesAndNewlines)
        ok(try daemon.cli(["list", "tasks", "-token", token]), "ops's token works before the delete")

        ok(try daemon.cli(["users", "delete", "ops"] + admin), "users delete ops")
        #expect(!ok(try daemon.cli(["users", "list"] + admin), "users list").contains("ops"))
        #expect(try daemon.cli(["list", "tasks", "-username", "ops", "-password", "opspw"]).stderr == "authorization failed\n")
        #expect(try daemon.cli(["list", "tasks", "-token", token]).stderr == "authorization failed\n")
        let again = try daemon.cli(["users", "delete", "ops"] + admin)
        #expect(again.status != 0, "deleting a user who does not exist is an error")
        #expect(again.stderr.contains("ops"), "\(again.stderr)")
    }

    @Test("fmt prints the canonical layout, -w rewrites the file, and a broken script is left alone with line:column")
    func fmt() throws {
        let dir = try DaemonProcess.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let messy = "var x=5m\nstream|from().measurement('cpu')   .groupBy('host')|window().period(x).every(x)|mean('usage')"
        let canonical = """
            var x = 5m

            stream
                |from()
                    .measurement('cpu')
                    .groupBy('host')
                |window()
                    .period(x)
                    .every(x)
                |mean('usage')

            """
        let path = try file("messy.tick", messy, in: dir)
        #expect(ok(try TockBinary.runProgram(TockBinary.path, ["fmt", path]), "fmt") == canonical)
        #expect(try String(contentsOfFile: path, encoding: .utf8) == messy, "without -w the file is untouched")
        ok(try TockBinary.runProgram(TockBinary.path, ["fmt", "-w", path]), "fmt -w")
        #expect(try String(contentsOfFile: path, encoding: .utf8) == canonical)
        #expect(ok(try TockBinary.runProgram(TockBinary.path, ["fmt", path]), "fmt of canonical") == canonical,
                "formatting is idempotent")

        let broken = try file("broken.tick", "stream\n    |from(\n", in: dir)
        let failed = try TockBinary.runProgram(TockBinary.path, ["fmt", "-w", broken])
        #expect(failed.status != 0)
        #expect(failed.stderr.hasPrefix("\(broken):3:1: "), "\(failed.stderr)")
        #expect(try String(contentsOfFile: broken, encoding: .utf8) == "stream\n    |from(\n")
    }

    @Test("show-graph prints the checked pipeline as Kapacitor's DOT, and refuses a bad script with line:column")
    func showGraph() throws {
        let dir = try DaemonProcess.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let path = try file("cpu_alert.tick", """
            stream
                |from()
                    .measurement('cpu')
                |alert()
                    .crit(lambda: "usage" > 90)
                    .log('/tmp/alerts.log')

            """, in: dir)
        let dot = ok(try TockBinary.runProgram(TockBinary.path, ["show-graph", path]), "show-graph")
        #expect(dot == "digraph cpu_alert {\nstream0 -> from1;\nfrom1 -> alert2;\n}\n", "\(dot)")

        let bad = try file("bad.tick", "stream\n    |from()\n    |windw()\n", in: dir)
        let refused = try TockBinary.runProgram(TockBinary.path, ["show-graph", bad])
        #expect(refused.status == 2)
        #expect(refused.stderr.hasPrefix("3:5: unknown node \"windw\""), "\(refused.stderr)")
    }
}
