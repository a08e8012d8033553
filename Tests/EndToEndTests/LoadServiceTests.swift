import Foundation
import Testing

/// The `[load]` service: tasks, templates and template tasks defined from files at start and on SIGHUP.
@Suite("The [load] service", .serialized)
struct LoadServiceSpecification {
    /// A load directory with a task, a template, a task from the template, a broken task and a handler.
    func loadDirectory(in dir: String) throws -> String {
        let load = dir + "/load"
        for sub in ["tasks", "templates", "handlers"] {
            try FileManager.default.createDirectory(atPath: load + "/" + sub, withIntermediateDirectories: true)
        }
        _ = try file("cpu_alert.tick", """
            dbrp "telegraf"."autogen"

            stream
                |from()
                    .measurement('cpu')
                |httpOut('cpu')
            """, in: load + "/tasks")
        _ = try file("threshold.tick", """
            var measurement string
            var limit = 10.0

            stream
                |from()
                    .measurement(measurement)
                |where(lambda: "value" > limit)
                |httpOut('over')
            """, in: load + "/templates")
        _ = try file("mem_over.yaml", """
            template-id: threshold
            dbrps:
              - db: telegraf
                rp: autogen
            vars:
              measurement: {type: string, value: mem}
              limit: {type: float, value: 50.0}
            """, in: load + "/tasks")
        _ = try file("broken.tick", """
            dbrp "telegraf"."autogen"

            stream
                |from()
                    .measurment('cpu')
            """, in: load + "/tasks")
        // A topic handler whose ID is its file's name.
        _ = try file("ops.yaml", "topic: cpu\nkind: log\nmatch: level() >= WARNING\noptions:\n  path: \(dir)/ops.log\n", in: load + "/handlers")
        return load
    }

    func task(_ daemon: DaemonProcess, _ id: String) async throws -> [String: Any]? {
        let reply = try await HTTP.send("GET", daemon.url + "/kapacitor/v1/tasks/\(id)")
        guard reply.status == 200 else { return nil }
        return try JSONSerialization.jsonObject(with: reply.body) as? [String: Any]
    }

    @Test("at start: tasks enabled with the type and dbrp of their script, templates, template tasks; bad files logged, the rest loaded")
    func loadsAtStart() async throws {
        let dir = try DaemonProcess.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let load = try loadDirectory(in: dir)
        let daemon = try await DaemonProcess(dataDirectory: dir, configuration: """
            [load]
              enabled = true
              dir = "\(load)"
            """)
        defer { daemon.stop() }

        let cpu = try #require(try await task(daemon, "cpu_alert"))
        #expect(cpu["status"] as? String == "enabled")
        #expect(cpu["executing"] as? Bool == true)
        #expect(cpu["type"] as? String == "stream")
        #expect((cpu["dbrps"] as? [[String: String]]) == [["db": "telegraf", "rp": "autogen"]])

        let template = try await daemon.getJSON("/kapacitor/v1/templates/threshold")
        #expect(template["id"] as? String == "threshold")

        let mem = try #require(try await task(daemon, "mem_over"))
        #expect(mem["template-id"] as? String == "threshold")
        #expect(mem["status"] as? String == "enabled")
        let vars = try #require(mem["vars"] as? [String: [String: Any]])
        #expect(vars["limit"]?["value"] as? Double == 50.0)

        // The template task runs with its vars: only mem points over 50 pass.
        #expect(try await daemon.write("mem value=20 1\nmem value=70 2\ncpu value=99 3\n", db: "telegraf", rp: "autogen") == 204)
        try await DaemonProcess.waitUntil("mem_over publishes the point over its limit") {
            let series = (try? await daemon.getJSON("/kapacitor/v1/tasks/mem_over/over"))?["series"] as? [[String: Any]]
            return (series?.first?["values"] as? [[Any]])?.first.flatMap { ($0[1] as? NSNumber)?.doubleValue } == 70
        }

        #expect(try await task(daemon, "broken") == nil)
        let log = try String(contentsOfFile: daemon.logPath, encoding: .utf8)
        #expect(log.contains("\(load)/tasks/broken.tick:5:9: unknown property"), "\(log)")
        let handler = try await daemon.getJSON("/kapacitor/v1/alerts/topics/cpu/handlers/ops")
        #expect(handler["kind"] as? String == "log" && handler["match"] as? String == "level() >= WARNING", "\(handler)")
        // Kapacitor's load statistic counts the bad file.
        let debugVars = try await daemon.getJSON("/kapacitor/v1/debug/vars")
        let loadStat = (debugVars["kapacitor"] as? [String: Any])?["load"] as? [String: Any]
        #expect((loadStat?["values"] as? [String: Any])?["errors"] as? Int == 1, "\(String(describing: loadStat))")
    }

    @Test("on SIGHUP: new files are loaded, changed ones reloaded, and what was loaded before and is gone is deleted, also across restarts")
    func reloadsOnHangup() async throws {
        let dir = try DaemonProcess.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let load = try loadDirectory(in: dir)
        let configuration = """
            [load]
              enabled = true
              dir = "\(load)"
            """
        var daemon = try await DaemonProcess(dataDirectory: dir, configuration: configuration)
        #expect(try await task(daemon, "cpu_alert") != nil)
        // A task defined over the API is not the load service's: it stays.
        let own = try file("own.tick", "dbrp \"telegraf\".\"autogen\"\nstream\n    |from()\n    |httpOut('x')\n", in: dir)
        #expect(try daemon.cli(["define", "own", "-tick", own]).status == 0)

        try FileManager.default.removeItem(atPath: load + "/tasks/cpu_alert.tick")
        _ = try file("disk.tick", "dbrp \"telegraf\".\"autogen\"\nstream\n    |from()\n        .measurement('disk')\n    |httpOut('disk')\n",
                     in: load + "/tasks")
        _ = try file("mem_over.yaml", """
            template-id: threshold
            dbrps: [{db: telegraf, rp: autogen}]
            vars:
              measurement: {type: string, value: mem}
              limit: {type: float, value: 80.0}
            """, in: load + "/tasks")
        kill(daemon.process.processIdentifier, SIGHUP)
        try await DaemonProcess.waitUntil("the reload deletes cpu_alert and defines disk") {
            let gone = try await task(daemon, "cpu_alert") == nil
            let added = try await task(daemon, "disk") != nil
            return gone && added
        }
        #expect(daemon.process.isRunning, "SIGHUP must not stop the daemon")
        let mem = try #require(try await task(daemon, "mem_over"))
        #expect((mem["vars"] as? [String: [String: Any]])?["limit"]?["value"] as? Double == 80.0)
        #expect(try await task(daemon, "own") != nil)
        #expect(daemon.stop() == 0)

        // Gone while the daemon was down: deleted at the next start.
        try FileManager.default.removeItem(atPath: load + "/tasks/disk.tick")
        daemon = try await DaemonProcess(dataDirectory: dir, configuration: configuration)
        defer { daemon.stop() }
        #expect(try await task(daemon, "disk") == nil)
        #expect(try await task(daemon, "mem_over") != nil)
        #expect(try await task(daemon, "own") != nil)
    }
}
