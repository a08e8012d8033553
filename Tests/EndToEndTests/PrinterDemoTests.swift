import Foundation
import Testing

/// The printer-temperature demo of Kapacitor's anomaly-detection guide, run through `tock run` with the
/// three Python t-test UDF processes, over the day generated with seed 42.
@Suite(.serialized) struct PrinterDemoSpecification {
    /// Critical windows for seed 42, as (field, window end in h:mm since 2016-01-01 00:00 UTC).
    /// The planted anomalies: hotend 1:00–1:05, bed 8:00–8:15, air 12:00–12:30; three false positives.
    static let expectedCritical: Set<String> = [
        "hotend 1:05", "hotend 3:50",
        "bed 8:05", "bed 8:10", "bed 8:15", "bed 18:05",
        "air 12:05", "air 12:10", "air 12:15", "air 12:20", "air 12:25", "air 12:30", "air 13:25",
    ]

    struct Alert {
        var id: String
        var level: String
        var clock: String
    }

    func runPrinterTask() throws -> [Alert] {
        let gen = try TockBinary.runProgram("/usr/bin/env", ["python3", "SampleUDFs/printer_data.py", "--seed", "42"])
        try #require(gen.status == 0, "generator failed: \(gen.stderr)")
        let data = FileManager.default.temporaryDirectory.appendingPathComponent("printer-\(getpid()).lp")
        try Data(gen.stdout.utf8).write(to: data)
        defer { try? FileManager.default.removeItem(at: data) }
        let logs = FileManager.default.temporaryDirectory.appendingPathComponent("printer-logs-\(getpid())")
        try FileManager.default.createDirectory(at: logs, withIntermediateDirectories: true)
        var script = try String(contentsOfFile: TockBinary.root + "/SampleUDFs/printer/print_temps.tick", encoding: .utf8)
        script = script.replacingOccurrences(of: "/tmp/tock_udf", with: logs.path)
        let tick = logs.appendingPathComponent("print_temps.tick")
        try script.write(to: tick, atomically: true, encoding: .utf8)

        let run = try TockBinary.run([
            "run", tick.path, "--input", data.path, "--precision", "s",
            "--config", "SampleUDFs/printer/tock.conf",
        ])
        try #require(run.status == 0, "tock run failed: \(run.stderr)")
        return try run.stdout.split(separator: "\n").compactMap { line in
            let object = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
            guard let object, let id = object["id"] as? String, let level = object["level"] as? String,
                  let time = object["time"] as? String else { return nil }
            // "2016-01-01T12:05:00Z" → "12:05"
            let hm = time.dropFirst(11).prefix(5)
            let hour = Int(hm.prefix(2))!
            return Alert(id: id, level: level, clock: "\(hour):\(hm.suffix(2))")
        }
    }

    @Test func findsEveryPlantedAnomalyInExactlyTheExpectedWindows() throws {
        let alerts = try runPrinterTask()
        let critical = Set(alerts.filter { $0.level == "CRITICAL" }.map { "\($0.id) \($0.clock)" })
        #expect(critical == Self.expectedCritical)
        // Each run of critical windows ends with one recovery to OK.
        #expect(alerts.filter { $0.level == "OK" }.count == 6)
        #expect(alerts.allSatisfy { $0.level == "CRITICAL" || $0.level == "OK" })
    }
}
