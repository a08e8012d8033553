import ArgumentParser
import Engine
import Foundation
import PluginHost
import TockModel

/// `tock bench udf`: points/s through a `mirror` UDF driven by the host, against the same agent reading the
/// same requests from a file with no host: the host's overhead.
struct BenchUDF: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "udf",
        abstract: "Points/s through the Swift and Python mirror UDFs, stream and batch, with and without the host.",
        discussion: """
            Through the host: `stream|from()@mirror()` (stream) or \
            `stream|from()|window().periodCount(B).everyCount(B)@mirror()` (batch) run by a TaskRunner, from the \
            first write until every point came back. Agent alone: the same UDF program started with its stdin \
            a file of the same requests (Init, then the points or Begin/points/End) pre-encoded by Tock's \
            codec, and its stdout /dev/null. Both include the program's start. Medians of --runs.
            """)

    @Option(help: "Points per run.") var points = 200_000
    @Option(help: "Runs per case; the median is reported.") var runs = 3
    @Option(help: "Points per batch on the batch edge.") var batchSize = 100
    @Option(help: "The Swift mirror (default: swift-mirror next to this tock).") var swiftMirror: String?
    @Option(help: "The Python mirror script.") var pythonMirror = "SampleUDFs/mirror.py"
    @Option(help: "PYTHONPATH for the Python mirror (the kapacitor agent package).") var pythonPath = "Protocol/python"
    @Option(help: "Only the cases whose name contains this text.") var only: String?

    func validate() throws {
        guard points > 0, runs > 0, batchSize > 0 else { throw ValidationError("--points, --runs and --batch-size must be positive") }
    }

    func run() throws {
        let swift = swiftMirror ?? Self.siblingExecutable("swift-mirror")
        guard FileManager.default.isExecutableFile(atPath: swift) else {
            throw ValidationError("no Swift mirror at \(swift): build it (swift build -c release --product swift-mirror) or give --swift-mirror")
        }
        let python = ["python3", pythonMirror]
        let environment = ["PYTHONPATH": pythonPath]
        let programs: [(name: String, command: [String], batchFlag: String)] = [
            ("swift", [swift], "--batch"), ("python", python, "--batch"),
        ]
        let sample = BenchUDFCodec.samplePoints(count: points)
        print("UDF host overhead: \(points) points per run, batches of \(batchSize), median of \(runs) runs")
        print(["case", "agent alone", "through host", "host/agent", "agent CPU alone", "agent CPU via host", "host CPU",
               "host CPU/point"]
            .enumerated().map { $0.offset == 0 ? $0.element.padding(toLength: 16, withPad: " ", startingAt: 0) : Self.cell($0.element) }
            .joined())
        for program in programs {
            for batch in [false, true] {
                let name = "\(program.name) \(batch ? "batch" : "stream")"
                if let only, !name.contains(only) { continue }
                let command = program.command + (batch ? [program.batchFlag] : [])
                let requests = Self.requests(sample, batch: batch ? batchSize : nil)
                let file = NSTemporaryDirectory() + "tock-bench-udf-\(getpid()).bin"
                try Data(requests).write(to: URL(fileURLWithPath: file))
                defer { try? FileManager.default.removeItem(atPath: file) }
                var alone: [Measure] = [], hosted: [Measure] = []
                for _ in 0..<runs {
                    alone.append(try Self.agentAlone(command, environment: environment, input: file))
                    hosted.append(try throughHost(command, environment: environment, points: sample, batch: batch))
                }
                let a = Measure.median(alone), h = Measure.median(hosted)
                print(name.padding(toLength: 16, withPad: " ", startingAt: 0)
                      + Self.cell(Self.rate(points, a.wall)) + Self.cell(Self.rate(points, h.wall))
                      + Self.cell(String(format: "%.2f", h.wall / a.wall))
                      + Self.cell(String(format: "%.2f s", a.childCPU)) + Self.cell(String(format: "%.2f s", h.childCPU))
                      + Self.cell(String(format: "%.2f s", h.ownCPU))
                      + Self.cell(String(format: "%.2f µs", h.ownCPU / Double(points) * 1e6)))
            }
        }
    }

    struct Measure {
        var wall: Double
        /// CPU seconds of the UDF process.
        var childCPU: Double
        /// CPU seconds of this process (the host), zero for the agent alone.
        var ownCPU: Double

        static func median(_ all: [Measure]) -> Measure { all.sorted { $0.wall < $1.wall }[all.count / 2] }
    }

    /// The requests the host would send: Init, then every point (stream) or batches of `batch` points.
    static func requests(_ points: [Point], batch: Int?) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(points.count * 220)
        if let request = try? UDFCodec.initRequest(options: [], taskID: "bench", nodeID: "mirror1") {
            try? UDFCodec.appendRequest(request, to: &out)
        }
        guard let batch else {
            for p in points { UDFCodec.appendPointRequest(p, to: &out) }
            return out
        }
        var start = 0
        while start < points.count {
            let slice = points[start..<min(start + batch, points.count)]
            let first = slice.first!
            UDFCodec.appendBatchRequests(Batch(name: first.name, group: .none, tags: Tags(), dimensions: .none,
                                               tmax: slice.last!.time, points: slice.map(BatchPoint.init)), to: &out)
            start += batch
        }
        return out
    }

    /// The UDF program reading `input` on stdin, writing to /dev/null.
    static func agentAlone(_ command: [String], environment: [String: String], input: String) throws -> Measure {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = command
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { _, new in new }
        process.standardInput = try FileHandle(forReadingFrom: URL(fileURLWithPath: input))
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        let cpu = Self.childrenCPUSeconds()
        let start = ContinuousClock.now
        try process.run()
        process.waitUntilExit()
        let wall = Self.seconds(ContinuousClock.now - start)
        guard process.terminationStatus == 0 else {
            throw ValidationError("\(command.joined(separator: " ")) exited with status \(process.terminationStatus) reading \(input)")
        }
        return Measure(wall: wall, childCPU: childrenCPUSeconds() - cpu, ownCPU: 0)
    }

    /// The same program as a `@mirror()` node of a task, fed `points`.
    func throughHost(_ command: [String], environment: [String: String], points: [Point], batch: Bool) throws -> Measure {
        let function = UDFFunctionConfiguration(
            name: "mirror", endpoint: .process(program: "/usr/bin/env", arguments: command, environment: environment),
            restart: .stop)
        let registry = UDFRegistry(configuration: UDFConfiguration(functions: ["mirror": function], snapshotInterval: 0))
        let script = batch
            ? "stream|from()|window().periodCount(\(batchSize)).everyCount(\(batchSize))@mirror()"
            : "stream|from()@mirror()"
        let tally = OutputTally()
        let runner = try TaskRunner(script: script, options: .init(taskID: "bench", udfProvider: registry),
                                    handlers: .init(output: { _, message in tally.add(message) }))
        let cpu = Self.childrenCPUSeconds()
        let timer = BenchTimer()
        try runner.start()
        var start = 0
        while start < points.count {
            runner.write(Array(points[start..<min(start + 5_000, points.count)]))
            start += 5_000
        }
        try runner.stop()
        let result = timer.stop(name: "", bytes: 0, points: points.count)
        guard tally.totals.0 == points.count else {
            throw ValidationError("the mirror returned \(tally.totals.0) of \(points.count) points")
        }
        return Measure(wall: result.seconds, childCPU: Self.childrenCPUSeconds() - cpu, ownCPU: result.cpuSeconds)
    }

    static func childrenCPUSeconds() -> Double {
        var usage = rusage()
        getrusage(RUSAGE_CHILDREN.rawValue, &usage)
        return Double(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec)
            + Double(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6
    }

    /// An executable in the same folder as this `tock`.
    static func siblingExecutable(_ name: String) -> String {
        let me = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
        return URL(fileURLWithPath: me).deletingLastPathComponent().appendingPathComponent(name).path
    }

    static func seconds(_ d: Duration) -> Double {
        Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18
    }

    static func rate(_ points: Int, _ seconds: Double) -> String {
        String(format: "%.0f k/s", Double(points) / seconds / 1000)
    }

    static func cell(_ text: String) -> String {
        String(repeating: " ", count: max(1, 20 - text.count)) + text
    }
}
