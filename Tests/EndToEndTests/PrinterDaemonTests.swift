import Foundation
import Testing

/// The printer flow of Kapacitor's anomaly-detection guide as its readers run it: `tock serve` with the t-test UDF
/// configured, the task defined and enabled with Kapacitor's verbs, the day POSTed to `/write`, and the three
/// failure logs read.
@Suite("The printer day through the daemon", .serialized)
struct PrinterDaemonTests {
    /// The daemon's configuration: the `[udf.functions.tTest]` of SampleUDFs/printer/tock.conf with absolute paths.
    static var configuration: String {
        """
        [udf]
        [udf.functions]
          [udf.functions.tTest]
            prog = "python3"
            args = ["-u", "\(TockBinary.root)/SampleUDFs/ttest.py"]
            timeout = "10s"
            [udf.functions.tTest.env]
              PYTHONPATH = "\(TockBinary.root)/Protocol/python"
        """
    }

    /// The day for seed 42 as line protocol (seconds).
    static func day() throws -> Data {
        let gen = try TockBinary.runProgram("/usr/bin/env", ["python3", "\(TockBinary.root)/SampleUDFs/printer_data.py", "--seed", "42"])
        try #require(gen.status == 0, "generator failed: \(gen.stderr)")
        return Data(gen.stdout.utf8)
    }

    /// The guide's task, its failure logs moved into `dir/logs`: the script's path and the logs' directory.
    static func printerTask(in dir: String) throws -> (tick: String, logs: String) {
        let logs = dir + "/logs"
        try FileManager.default.createDirectory(atPath: logs, withIntermediateDirectories: true)
        var script = try String(contentsOfFile: TockBinary.root + "/SampleUDFs/printer/print_temps.tick", encoding: .utf8)
        script = script.replacingOccurrences(of: "/tmp/tock_udf", with: logs)
        return (try file("print_temps.tick", script, in: dir), logs)
    }

    /// The critical alerts in the failure logs, as "id h:mm", and the number of recoveries.
    static func alerts(in logs: String) -> (critical: Set<String>, ok: Int) {
        var critical = Set<String>(), ok = 0
        for name in ["hotend", "bed", "air"] {
            guard let text = try? String(contentsOfFile: "\(logs)/\(name)_failure.log", encoding: .utf8) else { continue }
            for line in text.split(separator: "\n") {
                guard let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any],
                      let id = object["id"] as? String, let level = object["level"] as? String,
                      let time = object["time"] as? String else { continue }
                let hm = time.dropFirst(11).prefix(5)
                if level == "CRITICAL" { critical.insert("\(id) \(Int(hm.prefix(2))!):\(hm.suffix(2))") }
                if level == "OK" { ok += 1 }
            }
        }
        return (critical, ok)
    }

    @Test("define, enable, POST the day: the three failure logs hold exactly the expected critical windows")
    func printerDayThroughTheDaemon() async throws {
        let dir = try DaemonProcess.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let (tick, logs) = try Self.printerTask(in: dir)

        let daemon = try await DaemonProcess(dataDirectory: dir, configuration: Self.configuration)
        defer { daemon.stop() }
        for args in [["define", "print_temps", "-type", "stream", "-dbrp", "printer.autogen", "-tick", tick],
                     ["enable", "print_temps"]] {
            let result = try daemon.cli(args)
            try #require(result.status == 0, "tock \(args.joined(separator: " ")): \(result.stderr)")
        }
        let reply = try await HTTP.send("POST", daemon.url + "/write?db=printer&rp=autogen&precision=s", body: try Self.day())
        #expect(reply.status == 204)

        var found: (critical: Set<String>, ok: Int) = ([], 0)
        try await DaemonProcess.waitUntil("the failure logs hold every critical window and recovery", timeout: 300) {
            found = Self.alerts(in: logs)
            return found.critical == PrinterDemoSpecification.expectedCritical && found.ok == 6
        }
        #expect(found.critical == PrinterDemoSpecification.expectedCritical)
        #expect(found.ok == 6)
    }

    @Test("record the day as it is POSTed, then replay it with its recorded times: the replay finds the same windows")
    func printerDayRecordedAndReplayed() async throws {
        let dir = try DaemonProcess.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let (tick, logs) = try Self.printerTask(in: dir)
        let daemon = try await DaemonProcess(dataDirectory: dir, configuration: Self.configuration)
        defer { daemon.stop() }
        func ok(_ args: [String]) throws -> String {
            let result = try daemon.cli(args)
            #expect(result.status == 0, "tock \(args.joined(separator: " ")): \(result.stderr)")
            return result.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        }
        _ = try ok(["define", "print_temps", "-type", "stream", "-dbrp", "printer.autogen", "-tick", tick])
        // The task need not be enabled to be recorded for: the recording takes what its dbrp receives.
        // The day spans 24 h of data time: the point past 24 h after the first ends the recording.
        let id = try ok(["record", "stream", "-task", "print_temps", "-duration", "24h", "-no-wait", "-recording-id", "day"])
        #expect(id == "day")
        let reply = try await HTTP.send("POST", daemon.url + "/write?db=printer&rp=autogen&precision=s", body: try Self.day())
        #expect(reply.status == 204)
        try await DaemonProcess.waitUntil("the recording finished", timeout: 60) {
            let recording = try await daemon.getJSON("/kapacitor/v1/recordings/day")
            return recording["status"] as? String == "finished"
        }

        let replayID = try ok(["replay", "-task", "print_temps", "-recording", "day", "-rec-time", "-replay-id", "again"])
        #expect(replayID == "again")
        let replay = try await daemon.getJSON("/kapacitor/v1/replays/again")
        #expect(replay["status"] as? String == "finished", "\(replay)")
        let results = replay["results"] as? [String: Any] ?? [:]
        let alerts = results["alerts"] as? [[String: Any]] ?? []
        var critical = Set<String>()
        for alert in alerts where alert["level"] as? String == "CRITICAL" {
            guard let id = alert["id"] as? String, let time = alert["time"] as? String else { continue }
            let hm = time.dropFirst(11).prefix(5)
            critical.insert("\(id) \(Int(hm.prefix(2))!):\(hm.suffix(2))")
        }
        #expect(critical == PrinterDemoSpecification.expectedCritical)
        #expect(alerts.filter { $0["level"] as? String == "OK" }.count == 6)
        // The replay ran its own copy of the task: its alerts also reached the copy's log handlers.
        #expect(Self.alerts(in: logs).critical == PrinterDemoSpecification.expectedCritical)
    }
}
