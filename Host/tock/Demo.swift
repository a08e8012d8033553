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
            prints every alert and says which planted anomalies were found. Exits non-zero when a planted anomaly \
            is missed. Runs from any directory: the sample UDFs are looked for in --root, the current directory, \
            beside the tock binary and in its parent directories, in the installed share directory \
            (<prefix>/share/tock for <prefix>/bin/tock; `make install` puts them there), and in the repository \
            tock was built from; when none has them, tock says where it looked. \
            --write-data FILE writes the day's line protocol to FILE (for `tock run` or a daemon) and runs nothing. \
            Also writes an HTML report (one self-contained file: a chart of the three temperatures over the day with the \
            critical windows shaded and the planted anomalies marked, and the tables) to --report, by default \
            printer-report.html in the alert log directory, and prints its path.
            """)

    @Option(help: "The generator's random seed.")
    var seed = 42

    @Option(help: "The directory holding SampleUDFs/ and Protocol/python/ (a Tock repository or <prefix>/share/tock); default: found as described below.")
    var root: String?

    @Option(help: "Write the generated day (line protocol, second precision) to this file ('-': standard output) and run nothing.")
    var writeData: String?

    @Option(help: "Where the alert log files go (default: a new temporary directory).")
    var logDir: String?

    @Option(help: "Where the HTML report goes (default: printer-report.html in the alert log directory).")
    var report: String?

    func run() throws {
        let root = try Self.sampleRoot(given: root)
        let sample = root + "/SampleUDFs"
        Stderr.write("sample UDFs: \(sample)\n")
        if let writeData {
            let data = try Self.runPython([sample + "/printer_data.py", "--seed", String(seed), "--output", "-"], in: root)
            if writeData == "-" {
                FileHandle.standardOutput.write(Data(data))
            } else {
                guard FileManager.default.createFile(atPath: writeData, contents: Data(data)) else {
                    throw ValidationError("cannot write \(writeData)")
                }
                let lines = data.reduce(0) { $0 + ($1 == UInt8(ascii: "\n") ? 1 : 0) }
                Stderr.write("wrote the printer day (seed \(seed), \(lines) points, precision s) to \(writeData)\n")
            }
            return
        }
        // tock.conf names its UDF and PYTHONPATH by ${TOCK_CONFIG_DIR}: nothing depends on the current directory.
        let started = Date()
        let logDir = try logDir.map { URL(fileURLWithPath: $0).standardizedFileURL.path } ?? Self.temporaryDirectory()

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
                // Warnings and errors only, as `WARN [print_temps:node] message` on stderr.
                logger: VerbLogging.logger(label: "tock.demo", level: .warning).with("task", "print_temps")))
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

        let elapsed = Date().timeIntervalSince(started)
        let summary = PrinterReport(alerts: progress.alerts)
        print(summary.render(logDir: logDir, points: points.count, elapsed: elapsed))
        let html = PrinterHTMLReport(report: summary, points: points, seed: seed, logDir: logDir).html(elapsed: elapsed)
        let reportPath = URL(fileURLWithPath: report ?? logDir + "/printer-report.html").standardizedFileURL.path
        guard FileManager.default.createFile(atPath: reportPath, contents: Data(html.utf8)) else {
            throw ValidationError("cannot write the report to \(reportPath)")
        }
        print("report: \(reportPath)")
        if !summary.missed.isEmpty { throw ExitCode(1) }
    }

    /// The directory holding `SampleUDFs/ttest.py` (and `Protocol/python`), looked for in ``samplePlaces(given:)``'s
    /// order; when none has it, the error names every place looked at.
    static func sampleRoot(given: String?) throws -> String {
        let places = samplePlaces(given: given)
        if let found = places.first(where: { hasSamples($0.directory) }) { return found.directory }
        let lines = places.map { "  \($0.directory)  (\($0.why))" }.joined(separator: "\n")
        throw ValidationError("""
            cannot find SampleUDFs/ttest.py; looked in:
            \(lines)
            Pass --root with a Tock repository, or install the samples with `make install PREFIX=<prefix>` (into <prefix>/share/tock).
            """)
    }

    static func hasSamples(_ directory: String) -> Bool {
        FileManager.default.fileExists(atPath: directory + "/SampleUDFs/ttest.py")
    }

    /// Where the sample UDFs may be, in order: `--root` alone when given; else the current directory, the directory
    /// of the running binary and each of its parents (a repository's `.build/debug/tock`), the installed share
    /// directory (`<prefix>/share/tock` beside `<prefix>/bin/tock`, also for the binary's symlink), and the
    /// repository this binary was compiled from.
    static func samplePlaces(given: String?) -> [(directory: String, why: String)] {
        if let given { return [(given, "--root")] }
        var places: [(directory: String, why: String)] = []
        func add(_ directory: String, _ why: String) {
            let path = URL(fileURLWithPath: directory).standardizedFileURL.path
            if !places.contains(where: { $0.directory == path }) { places.append((path, why)) }
        }
        add(FileManager.default.currentDirectoryPath, "the current directory")
        // argv[0] is only "tock" when run from PATH: /proc/self/exe names the binary itself.
        let executable = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe"))
            ?? URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().path
        var directory = URL(fileURLWithPath: executable).deletingLastPathComponent()
        let binary = directory
        while true {
            add(directory.path, directory == binary ? "beside the binary" : "a parent of the binary's directory")
            if directory.path == "/" { break }
            directory.deleteLastPathComponent()
        }
        add(binary.deletingLastPathComponent().appendingPathComponent("share/tock").path, "the installed share directory")
        if let invoked = invokedPath() {
            add(invoked.deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("share/tock").path,
                "the share directory beside the command's link")
        }
        add(builtFrom, "the repository tock was built from")
        return places
    }

    /// The path the command was started by (a symlink on PATH, say), found on PATH when argv[0] is a bare name.
    static func invokedPath() -> URL? {
        let name = CommandLine.arguments[0]
        if name.contains("/") { return URL(fileURLWithPath: name) }
        for dir in (ProcessInfo.processInfo.environment["PATH"] ?? "").split(separator: ":") {
            let candidate = "\(dir)/\(name)"
            if FileManager.default.isExecutableFile(atPath: candidate) { return URL(fileURLWithPath: candidate) }
        }
        return nil
    }

    /// The repository root this file was compiled in (Host/tock/Demo.swift → three levels up).
    static let builtFrom: String = {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<3 { url.deleteLastPathComponent() }
        return url.path
    }()

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
