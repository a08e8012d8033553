import Foundation
import Testing

@Suite("tock serve with [[collectors.NAME]]: collected points reach stream tasks as /write points do", .serialized)
struct CollectorDaemonTests {
    @Test("mem points every 200 ms reach a Telegraf-style task in telegraf.autogen, with the host tag; self-metrics too")
    func collectorsFeedTasks() async throws {
        let dir = try DaemonProcess.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let daemon = try await DaemonProcess(dataDirectory: dir, configuration: """
            [[collectors.mem]]
              interval = "200ms"
              tags = { role = "e2e" }
            """)
        defer { daemon.stop() }
        let memTask = dir + "/mem.tick"
        try """
            dbrp "telegraf"."autogen"
            stream
                |from()
                    .measurement('mem')
                    .where(lambda: "role" == 'e2e')
                |httpOut('mem')
            """.write(toFile: memTask, atomically: true, encoding: .utf8)
        let selfTask = dir + "/self.tick"
        try """
            dbrp "telegraf"."autogen"
            stream
                |from()
                    .measurement('internal_gather')
                |httpOut('gathers')
            """.write(toFile: selfTask, atomically: true, encoding: .utf8)
        for (id, file) in [("mem_watch", memTask), ("gather_watch", selfTask)] {
            let define = try daemon.cli(["define", id, "-tick", file])
            #expect(define.status == 0, "\(define.stderr)")
            #expect(try daemon.cli(["enable", id]).status == 0)
        }
        try await DaemonProcess.waitUntil("a collected mem point reaches the task") {
            let series = (try? await daemon.getJSON("/kapacitor/v1/tasks/mem_watch/mem"))?["series"] as? [[String: Any]]
            guard let columns = series?.first?["columns"] as? [String], let row = (series?.first?["values"] as? [[Any]])?.first,
                  let i = columns.firstIndex(of: "used_percent") else { return false }
            return (row[i] as? NSNumber).map { $0.doubleValue > 0 && $0.doubleValue <= 100 } ?? false
        }
        let series = try #require((try await daemon.getJSON("/kapacitor/v1/tasks/mem_watch/mem"))["series"] as? [[String: Any]])
        let tags = try #require(series.first?["tags"] as? [String: String])
        #expect(tags["host"]?.isEmpty == false)
        try await DaemonProcess.waitUntil("the collector's self-metric reaches its task") {
            let series = (try? await daemon.getJSON("/kapacitor/v1/tasks/gather_watch/gathers"))?["series"] as? [[String: Any]]
            guard let columns = series?.first?["columns"] as? [String], let row = (series?.first?["values"] as? [[Any]])?.first,
                  let up = columns.firstIndex(of: "up") else { return false }
            return (row[up] as? NSNumber)?.intValue == 1 && (series?.first?["tags"] as? [String: String])?["input"] == "mem"
        }
    }

    @Test("a collector plugin (Python SDK) configured by prog feeds a task; its options reach it")
    func pluginFeedsTask() async throws {
        let dir = try DaemonProcess.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let daemon = try await DaemonProcess(dataDirectory: dir, configuration: """
            [[collectors.faulty]]
              prog = "python3"
              args = ["\(TockBinary.root)/Tests/Fixtures/collectors/fault_collector.py"]
              env = { TOCK_PYTHON_SDK = "\(TockBinary.root)/Protocol/python" }
              interval = "200ms"
              label = "from-daemon"
            """)
        defer { daemon.stop() }
        let tick = dir + "/faulty.tick"
        try """
            dbrp "telegraf"."autogen"
            stream
                |from()
                    .measurement('faulty')
                |httpOut('faulty')
            """.write(toFile: tick, atomically: true, encoding: .utf8)
        #expect(try daemon.cli(["define", "faulty_watch", "-tick", tick]).status == 0)
        #expect(try daemon.cli(["enable", "faulty_watch"]).status == 0)
        try await DaemonProcess.waitUntil("a point from the plugin reaches the task") {
            let series = (try? await daemon.getJSON("/kapacitor/v1/tasks/faulty_watch/faulty"))?["series"] as? [[String: Any]]
            return (series?.first?["tags"] as? [String: String])?["plugin"] == "from-daemon"
        }
    }

    @Test("on SIGHUP the collectors are re-read: unchanged ones keep running, new ones start, removed ones stop; a bad file changes nothing")
    func reloadOnHangup() async throws {
        let dir = try DaemonProcess.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let config = dir + "/collectors.conf"
        try "[[collectors.mem]]\n  interval = \"200ms\"\n\n[[collectors.swap]]\n  interval = \"200ms\"\n".write(toFile: config, atomically: true, encoding: .utf8)
        let daemon = try await DaemonProcess(dataDirectory: dir, config: config)
        defer { daemon.stop() }
        func log() -> String { (try? String(contentsOfFile: daemon.logPath, encoding: .utf8)) ?? "" }
        try await DaemonProcess.waitUntil("the collectors start") { log().contains("collectors started") }

        try "[[collectors.mem]]\n  interval = \"200ms\"\n\n[[collectors.system]]\n  interval = \"200ms\"\n".write(toFile: config, atomically: true, encoding: .utf8)
        kill(daemon.process.processIdentifier, SIGHUP)
        try await DaemonProcess.waitUntil("the reload") { log().contains("collectors reloaded") }
        let reloaded = log().split(separator: "\n").first { $0.contains("collectors reloaded") }.map(String.init) ?? ""
        #expect(reloaded.contains("kept=mem"), "\(reloaded)")
        #expect(reloaded.contains("started=system"), "\(reloaded)")
        #expect(reloaded.contains("stopped=swap"), "\(reloaded)")

        try "[[collectors.mem]]\n  intervall = \"1s\"\n".write(toFile: config, atomically: true, encoding: .utf8)
        kill(daemon.process.processIdentifier, SIGHUP)
        try await DaemonProcess.waitUntil("the refused reload") { log().contains("collectors not reloaded") }
        #expect(log().contains("unknown option \\\"intervall\\\"") || log().contains("intervall"), "\(log())")
        #expect(daemon.process.isRunning)
    }

    @Test("an unknown collector option stops the daemon at start with the file and line")
    func badOption() async throws {
        let dir = try DaemonProcess.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let config = dir + "/bad.conf"
        try "hostname = \"x\"\n\n[[collectors.disk]]\n  mountpoint = [\"/\"]\n".write(toFile: config, atomically: true, encoding: .utf8)
        let result = try TockBinary.run(["serve", "--bind", "127.0.0.1:0", "--data-dir", dir, "--config", config])
        #expect(result.status != 0)
        #expect((result.stdout + result.stderr).contains("\(config):3: [[collectors.disk]]: unknown option \"mountpoint\""),
                "\(result.stdout)\(result.stderr)")
    }
}
