import Alerting
import ArgumentParser
import Engine
import Foundation
import LineProtocol
import PluginHost
import TICKScript
import TockModel

/// `tock demo printer`: the printer-temperature anomaly demo of Kapacitor's anomaly-detection guide,
/// run embedded (no server) with the Python t-test UDF.
struct Demo: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run a built-in demo.",
        subcommands: [PrinterDemo.self])
}

struct PrinterDemo: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "printer",
        abstract: "Find the planted anomalies in a generated day of 3D-printer temperatures.",
        discussion: """
            Generates the seeded day (SampleUDFs/printer_data.py), runs SampleUDFs/printer/print_temps.tick \
            with three @tTest() UDF processes (SampleUDFs/ttest.py, configured by SampleUDFs/printer/tock.conf), \
            prints every alert and says which planted anomalies were found. Run it from the repository root \
            (or pass --root). Exits non-zero when a planted anomaly is missed.
            """)

    @Option(help: "The generator's random seed.")
    var seed = 42

    @Option(help: "The Tock repository (where SampleUDFs/ is); default: the current directory or the one the binary was built in.")
    var root: String?

    @Option(help: "Where the alert log files go (default: a new temporary directory).")
    var logDir: String?

    func run() throws {
        let root = try Self.repositoryRoot(given: root)
        // The UDF config's relative paths (SampleUDFs/ttest.py, PYTHONPATH) are relative to the repository.
        FileManager.default.changeCurrentDirectoryPath(root)
        let started = Date()
        let logDir = try logDir ?? Self.temporaryDirectory()
        let sample = root + "/SampleUDFs"

        Stderr.write("generating the printer day (seed \(seed))…\n")
        let data = try Self.runPython([sample + "/printer_data.py", "--seed", String(seed), "--output", "-"], in: root)

        var script = try String(contentsOfFile: sample + "/printer/print_temps.tick", encoding: .utf8)
        script = script.replacingOccurrences(of: "'/tmp/tock_udf/", with: "'\(logDir)/")
        let udfs: UDFRegistry
        do {
            udfs = try UDFRegistry(configurationFile: sample + "/printer/tock.conf")
        } catch {
            throw ValidationError("\(error)")
        }

        let progress = DemoProgress(total: 86_402)
        let alerting = try AlertingService()
        defer { alerting.shutdown() }
        var options = TaskRunner.Options(taskID: "print_temps", dbrps: [DBRP("printer", "autogen")], udfProvider: udfs)
        options.alertService = alerting
        let runner = try TaskRunner(
            script: script,
            options: options,
            handlers: .init(
                event: { _, event in
                    if case .alert(let json) = event { progress.alert(json) }
                },
                log: { level, node, message in
                    if level >= .warning { Stderr.write("\(level.rawValue) [print_temps:\(node)] \(message)\n") }
                }))
        try runner.start()

        var parser = LineProtocolParser(precision: .seconds, defaultTime: 0, database: "printer", retentionPolicy: "autogen")
        var points: [Point] = []
        let errors = data.withUnsafeBytes { parser.parse($0, into: &points) }
        guard errors.isEmpty else {
            throw ValidationError("the generator wrote bad line protocol: \(errors[0])")
        }
        Stderr.write("replaying \(points.count) points through 3 t-test UDFs…\n")
        // An hour at a time; stats() returns once the hour has reached the UDFs (pipes apply back-pressure).
        let hour = 3_600
        for start in stride(from: 0, to: points.count, by: hour) {
            let end = min(start + hour, points.count)
            runner.write(Array(points[start..<end]))
            _ = runner.stats()
            progress.show(end)
        }
        try runner.stop()
        progress.finish()

        let report = PrinterReport(alerts: progress.alerts)
        print(report.render(logDir: logDir, points: points.count, elapsed: Date().timeIntervalSince(started)))
        if !report.missed.isEmpty { throw ExitCode(1) }
    }

    /// The directory holding `SampleUDFs/ttest.py`: `--root`, the current directory, or an ancestor of the binary.
    static func repositoryRoot(given: String?) throws -> String {
        let fm = FileManager.default
        func isRoot(_ dir: String) -> Bool { fm.fileExists(atPath: dir + "/SampleUDFs/ttest.py") }
        if let given {
            guard isRoot(given) else { throw ValidationError("\(given) has no SampleUDFs/ttest.py: pass the Tock repository") }
            return given
        }
        if isRoot(fm.currentDirectoryPath) { return fm.currentDirectoryPath }
        var dir = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent()
        while dir.path != "/" {
            if isRoot(dir.path) { return dir.path }
            dir.deleteLastPathComponent()
        }
        throw ValidationError("cannot find SampleUDFs/ttest.py: run from the Tock repository or pass --root")
    }

    static func temporaryDirectory() throws -> String {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("tock-printer-\(getpid())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        return dir.path
    }

    /// Runs `python3 args…` in `dir` and returns its standard output.
    static func runPython(_ args: [String], in dir: String) throws -> [UInt8] {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3"] + args
        process.currentDirectoryURL = URL(fileURLWithPath: dir)
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw ValidationError("python3 \(args.joined(separator: " ")) exited with status \(process.terminationStatus)")
        }
        return [UInt8](data)
    }
}
