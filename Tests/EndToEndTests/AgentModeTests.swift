import Foundation
import InfluxDBTesting
import Testing

/// `tock agent` as a child process, stopped with SIGTERM like a service manager does.
final class AgentProcess {
    let process = Process()
    let logPath: String

    init(_ arguments: [String], logPath: String, environment: [String: String] = [:]) throws {
        self.logPath = logPath
        if !FileManager.default.fileExists(atPath: logPath) { FileManager.default.createFile(atPath: logPath, contents: nil) }
        let log = try FileHandle(forWritingTo: URL(fileURLWithPath: logPath))
        log.seekToEndOfFile()
        process.executableURL = URL(fileURLWithPath: TockBinary.path)
        process.arguments = ["agent"] + arguments
        process.currentDirectoryURL = URL(fileURLWithPath: TockBinary.root)
        process.standardOutput = log
        process.standardError = log
        process.standardInput = FileHandle.nullDevice
        if !environment.isEmpty { process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 } }
        try process.run()
    }

    /// SIGTERM, and the exit status (the agent sends what it can for 3 s, then exits).
    @discardableResult
    func stop() -> Int32 {
        if process.isRunning { process.terminate() }
        let deadline = Date().addingTimeInterval(20)
        while process.isRunning && Date() < deadline { usleep(20_000) }
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
        return process.terminationStatus
    }

    var log: String { (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "" }

    deinit { if process.isRunning { kill(process.processIdentifier, SIGKILL) } }
}

/// An agent whose only collector is `seq_exec.py`, which gathers 0, 1, 2, … and writes each number it printed to a
/// ledger: what the agent collected is known exactly, whatever became of it.
struct SeqAgent {
    let dir: String
    let influx: InfluxDBServer
    let database: String
    var ledger: String { dir + "/ledger" }
    var configPath: String { dir + "/agent.conf" }

    /// Writes the configuration: the `[agent]` section's `settings` (beside urls, database and buffer-dir) and the
    /// sequence collector every 100 ms.
    func configure(_ settings: [String: String]) throws {
        let lines = settings.sorted { $0.key < $1.key }.map { "  \($0.key) = \"\($0.value)\"" }.joined(separator: "\n")
        try """
            [agent]
              urls = ["\(influx.url)"]
              database = "\(database)"
              buffer-dir = "\(dir)/buffer"
            \(lines)

            [[collectors.exec]]
              interval = "100ms"
              commands = ["python3 \(TockBinary.root)/Tests/Fixtures/collectors/seq_exec.py \(dir)/state \(ledger)"]
            """.write(toFile: configPath, atomically: true, encoding: .utf8)
    }

    /// The numbers gathered so far.
    func written() -> [Int] {
        ((try? String(contentsOfFile: ledger, encoding: .utf8)) ?? "").split(separator: "\n").compactMap { Int($0) }
    }

    /// The numbers InfluxDB holds.
    func shipped() async -> [Int] {
        let rows = (try? await influx.rows("SELECT n FROM agent_seq", database: database)) ?? []
        return rows.compactMap { ($0["n"] as? NSNumber)?.intValue }
    }

    func start() throws -> AgentProcess {
        try AgentProcess(["--config", configPath], logPath: dir + "/agent.log")
    }
}

@Suite("tock agent: collectors shipped to a remote /write, surviving server and agent restarts", .serialized)
struct AgentModeTests {
    @Test("to a real InfluxDB: an InfluxDB restart and an agent restart in between lose no point; heartbeats carry host and location",
          .enabled(if: InfluxDBServer.isAvailable, "influxd (Debian's influxdb) is not installed"))
    func influxDBRoundTrip() async throws {
        let dir = try DaemonProcess.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let influx = try await InfluxDBServer.start()
        defer { influx.destroy() }
        let seq = SeqAgent(dir: dir, influx: influx, database: "agent_e2e")
        try seq.configure(["location": "725", "hostname": "printer-host", "flush-interval": "200ms",
                           "heartbeat-interval": "500ms", "retry-max-interval": "500ms"])
        func shipped() async -> [Int] { await seq.shipped() }
        func written() -> [Int] { seq.written() }

        var agent = try seq.start()
        try await DaemonProcess.waitUntil("points reach InfluxDB (the agent created the database)") { await shipped().count >= 5 }

        influx.stop()
        try await DaemonProcess.waitUntil("points gathered while InfluxDB is down") {
            written().count >= (await shipped()).count + 10
        }
        // The outage is logged once the write fails (a refused connection is retried until the write's timeout).
        try await DaemonProcess.waitUntil("the agent logs that it cannot write") { agent.log.contains("cannot write: ") }
        #expect(agent.stop() == 0)
        #expect(agent.log.contains("points buffered in \(dir)/buffer"), "\(agent.log)")
        let buffered = try FileManager.default.contentsOfDirectory(atPath: dir + "/buffer").filter { $0.hasSuffix(".batch") }
        #expect(!buffered.isEmpty)

        agent = try seq.start()
        try await Task.sleep(for: .milliseconds(800))
        try await influx.restart()
        try await DaemonProcess.waitUntil("the buffered points reach InfluxDB after its restart", timeout: 30) {
            let now = written()
            let got = Set(await shipped())
            return now.count > 30 && got.isSuperset(of: now.dropLast(3))
        }
        #expect(agent.stop() == 0)

        let expected = written()
        let got = await shipped()
        #expect(Set(got) == Set(expected), "lost: \(Set(expected).subtracting(got).sorted()); log:\n\(agent.log)")
        #expect(got.count == expected.count)
        #expect(agent.log.contains("left buffered by an earlier run will be sent first"), "\(agent.log)")

        let heartbeats = try await influx.rows("SELECT * FROM tock_agent WHERE host = 'printer-host' AND location = '725'", database: "agent_e2e")
        #expect(heartbeats.count >= 2)
        #expect(heartbeats.last?["version"] as? String == "0.1.0")
        let selfMetrics = try await influx.rows("SELECT count(up) FROM internal_gather WHERE input = 'exec'", database: "agent_e2e")
        #expect(((selfMetrics.first?["count"] as? NSNumber)?.intValue ?? 0) > 0)
    }

    @Test("an agent killed with SIGKILL between two flushes loses none of the points it had collected: the next run sends them",
          .enabled(if: InfluxDBServer.isAvailable, "influxd (Debian's influxdb) is not installed"))
    func killedBetweenFlushes() async throws {
        let dir = try DaemonProcess.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let influx = try await InfluxDBServer.start()
        defer { influx.destroy() }
        let seq = SeqAgent(dir: dir, influx: influx, database: "agent_kill")
        func written() -> [Int] { seq.written() }
        // A flush interval of an hour: nothing is sealed before the kill.
        try seq.configure(["flush-interval": "1h", "heartbeat-interval": "1h"])
        var agent = try seq.start()
        try await DaemonProcess.waitUntil("the agent collected ten points") { written().count >= 10 }
        kill(agent.process.processIdentifier, SIGKILL)
        agent.process.waitUntilExit()
        let collected = written()
        #expect(FileManager.default.fileExists(atPath: dir + "/buffer/open.journal"))

        try seq.configure(["flush-interval": "200ms", "heartbeat-interval": "1h"])
        agent = try seq.start()
        // The last gather may have been under way when the agent was killed: it was never collected.
        let expected = Set(collected.dropLast(1))
        try await DaemonProcess.waitUntil("the first run's points reach InfluxDB", timeout: 30) {
            Set(await seq.shipped()).isSuperset(of: expected)
        }
        #expect(agent.stop() == 0)
        #expect(agent.log.contains("collected but not sealed by the last run were recovered from its journal"), "\(agent.log)")
    }

    @Test("to tock serve: gzip-compressed batches arrive as /write points; a task sees the heartbeat; the inventory registers the host")
    func toTockServe() async throws {
        let dir = try DaemonProcess.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let daemon = try await DaemonProcess(dataDirectory: dir)
        defer { daemon.stop() }
        let task = dir + "/heartbeat.tick"
        try """
            dbrp "telegraf"."autogen"
            stream
                |from()
                    .measurement('tock_agent')
                |httpOut('beats')
            """.write(toFile: task, atomically: true, encoding: .utf8)
        #expect(try daemon.cli(["define", "beats", "-tick", task]).status == 0)
        #expect(try daemon.cli(["enable", "beats"]).status == 0)
        let agent = try AgentProcess(["--url", daemon.url, "--location", "lab", "--hostname", "agent-under-test",
                                      "--flush-interval", "100ms", "--heartbeat-interval", "300ms",
                                      "--buffer-dir", dir + "/buffer"], logPath: dir + "/agent.log")
        defer { agent.stop() }
        try await DaemonProcess.waitUntil("the heartbeat reaches the task") {
            let series = (try? await daemon.getJSON("/kapacitor/v1/tasks/beats/beats"))?["series"] as? [[String: Any]]
            let tags = series?.first?["tags"] as? [String: String]
            return tags?["host"] == "agent-under-test" && tags?["location"] == "lab"
        }
        #expect(agent.process.isRunning)
        // The host inventory registered the agent's host: its version from the heartbeat, its facts from host_facts.
        try await DaemonProcess.waitUntil("the inventory knows the agent's host and its facts") {
            let host = try? await daemon.getJSON("/kapacitor/v1/hosts/agent-under-test")
            return host?["agent-version"] as? String == "0.1.0" && ((host?["facts"] as? [String: Any])?.isEmpty == false)
        }
        let host = try await daemon.getJSON("/kapacitor/v1/hosts/agent-under-test")
        #expect(host["reported-location"] as? String == "lab")
        #expect(host["status"] as? String == "reporting")
        let list = try daemon.cli(["hosts", "list", "--unassigned"])
        #expect(list.stdout.contains("agent-under-test"), "\(list.stdout)\(list.stderr)")
        #expect(!agent.log.contains("E! "), "\(agent.log)")
    }

    @Test("tock agent becomes the small tock-agent beside tock in the same process, so SIGTERM reaches it; TOCK_AGENT_IN_PROCESS=1 keeps it in tock")
    func agentExecutable() async throws {
        let dir = try DaemonProcess.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let small = URL(fileURLWithPath: TockBinary.path).deletingLastPathComponent().appendingPathComponent("tock-agent").path
        try #require(FileManager.default.isExecutableFile(atPath: small), "swift build puts tock-agent beside tock")
        for (environment, expected) in [([String: String](), small), (["TOCK_AGENT_IN_PROCESS": "1"], TockBinary.path)] {
            let log = dir + "/agent-\(environment.count).log"
            let agent = try AgentProcess(["--url", "http://127.0.0.1:1", "--buffer-dir", dir + "/buffer", "--interval", "1s"],
                                         logPath: log, environment: environment)
            try await DaemonProcess.waitUntil("the agent runs as \(expected)") {
                (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(agent.process.processIdentifier)/exe")) == expected
            }
            try await Task.sleep(for: .milliseconds(500))
            #expect(agent.stop() == 0, "\(agent.log)")
            #expect(agent.log.contains("signal 15: stopping"), "\(agent.log)")
        }
    }

    @Test("a configuration with an unknown [agent] key is refused with the file and line, before anything runs")
    func badConfiguration() throws {
        let dir = try DaemonProcess.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let config = dir + "/agent.conf"
        try "[agent]\n  url = \"http://127.0.0.1:1\"\n  flush = \"1s\"\n".write(toFile: config, atomically: true, encoding: .utf8)
        let result = try TockBinary.run(["agent", "--config", config])
        #expect(result.status != 0)
        #expect(result.stderr.contains("\(config):3: [agent] flush: unknown key"), "\(result.stderr)")
        let noURL = try TockBinary.run(["agent"])
        #expect(noURL.status != 0)
        #expect(noURL.stderr.contains("no server to ship to"), "\(noURL.stderr)")
    }
}
