import Logging
import Engine
import Foundation
import LineProtocol
import PluginHost
import Recording
import Server
import TICKScript
import TockModel

/// What a case's run produced, kept for matching (each list bounded by ``TestActuals/limit``).
final class TestActuals: @unchecked Sendable {
    /// At most this many alerts, rows per node and writes are kept; past it the run is reported as truncated.
    static let limit = 100_000

    private let lock = NSLock()
    private(set) var alerts: [String] = []
    /// Series rows (JSON) by node, in the order they were emitted.
    private(set) var rows: [String: [String]] = [:]
    /// Nodes in the order they first emitted.
    private(set) var nodeOrder: [String] = []
    private(set) var httpOut: [String: String] = [:]
    private(set) var writes: [(write: InfluxWrite, point: Point)] = []
    private(set) var errors: [String] = []
    private(set) var truncated = false
    var taskFailure: String?
    /// The task's leaf nodes whose output counts as "the task's output" (not httpOut or alert, reported apart).
    var leaves: [String] = []
    /// Every node of the task, in pipeline order.
    var nodes: [String] = []
    var pointsRead = 0
    var badLines: [String] = []

    func alert(_ json: String) {
        lock.withLock { if alerts.count < Self.limit { alerts.append(json) } else { truncated = true } }
    }

    func row(node: String, _ json: String) {
        lock.withLock {
            if rows[node] == nil { nodeOrder.append(node) }
            if rows[node, default: []].count < Self.limit { rows[node, default: []].append(json) } else { truncated = true }
        }
    }

    func httpOut(endpoint: String, _ json: String) { lock.withLock { httpOut[endpoint] = json } }

    func write(_ write: InfluxWrite) {
        lock.withLock {
            for p in write.points {
                if writes.count < Self.limit { writes.append((write, p)) } else { truncated = true }
            }
        }
    }

    func error(_ line: String) { lock.withLock { if errors.count < 100 { errors.append(line) } } }

    func snapshot<T>(_ body: (TestActuals) -> T) -> T { lock.withLock { body(self) } }
}

/// Where a test case's task logs: its warnings and errors become the case's errors, as `LEVEL [node] message`.
struct ActualsLogHandler: LogHandler {
    let actuals: TestActuals
    var metadata: Logger.Metadata = [:]
    var logLevel: Logger.Level = .warning

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        var all = metadata
        if let own = event.metadata { all.merge(own) { $1 } }
        // The case's task is the file's: only the node is named.
        all["task"] = nil
        actuals.error(VerbLogHandler.line(event.level, "\(event.message)", all, style: .bracketed))
    }
}

/// Runs one case of a test file as `tock run` runs a script: its own task, no daemon, UDFs from the test's config.
struct TestCaseRun {
    let file: TockTestFile
    let udfs: UDFRegistry?
    let sections: ConfigSections
    /// Where alert handlers deliver (`nil`: the engine's built-in handlers).
    let alertService: (any AlertService)?
    /// Nodes whose output a case's expectations name.
    let tappedNodes: Set<String>

    /// The run's results, or a problem that kept it from running (a script that does not build, an unreadable input).
    func run(_ testCase: TestCase) throws(TestFileError) -> TestActuals {
        let actuals = TestActuals()
        let program: Program
        do { program = try Program.parse(file.script) } catch {
            throw TestFileError(file.render(error))
        }
        var scriptDBRPs: [DBRP] = []
        for case .dbrp(let db, let rp) in program.statements.map(\.kind) { scriptDBRPs.append(DBRP(db, rp)) }
        let dbrps = file.dbrps.isEmpty ? scriptDBRPs : file.dbrps
        let captured = CapturedInfluxDB(onWrite: { actuals.write($0) })
        let pipeline: Pipeline
        do {
            var builder = TaskBuilder(taskID: file.taskID, variables: file.variables, udfProvider: udfs)
            builder.configSections = sections
            builder.influxDB = captured
            builder.alertService = alertService
            builder.ingress = TestLoopback(taskDBRPs: dbrps)
            // A batch task's queries emit what a case's batch recording holds; nothing asks InfluxDB.
            builder.batchSourceMode = .recorded
            pipeline = try builder.build(program)
        } catch let error as ScriptError {
            throw TestFileError(file.render(error))
        } catch {
            throw TestFileError("\(file.scriptPath ?? file.path): \(error)")
        }
        if let isBatch = file.isBatch, isBatch != pipeline.isBatch {
            throw TestFileError("\(file.path): type is \(isBatch ? "batch" : "stream") but the script is a \(pipeline.isBatch ? "batch" : "stream") task")
        }
        let silent = Set(pipeline.nodes.filter { ["httpOut", "alert"].contains($0.method) }.map(\.id))
        let tapped = tappedNodes
        actuals.nodes = pipeline.nodes.map(\.id)
        actuals.leaves = pipeline.nodes.filter { $0.children.isEmpty && !silent.contains($0.id) }.map(\.id)
        var handlers = TaskRunner.Handlers(
            event: { node, event in
                switch event {
                case .alert(let json): actuals.alert(json)
                case .httpOut(let endpoint, _, let result): actuals.httpOut(endpoint: endpoint, result.json)
                }
            },
            logger: Logger(label: "tock.test") { _ in ActualsLogHandler(actuals: actuals) })
        handlers.output = { node, message in
            if silent.contains(node) && !tapped.contains(node) { return }
            actuals.row(node: node, Series.json(message))
        }
        handlers.everyNode = !tapped.isEmpty
        let runner = TaskRunner(pipeline: pipeline, taskID: file.taskID, dbrps: dbrps, handlers: handlers)
        do { try runner.start() } catch { throw TestFileError("\(testCase.location): the task did not start: \(error)") }
        do {
            try feed(testCase.input, to: runner, pipeline: pipeline, target: dbrps.first ?? DBRP("", ""), actuals: actuals)
        } catch {
            _ = try? runner.stop()
            throw TestFileError("\(testCase.location): \(error)")
        }
        do { try runner.stop() } catch { actuals.taskFailure = "\(error)" }
        return actuals
    }

    private func feed(_ input: TestInput, to runner: TaskRunner, pipeline: Pipeline, target: DBRP, actuals: TestActuals) throws {
        switch input {
        case .lineProtocol(let text, let path, let precision, let dbrp):
            if let problem = Run.inputMismatch(pipeline: pipeline, recording: nil, input: path ?? "inline lines") {
                throw TestFileError(problem)
            }
            let to = dbrp ?? target
            // Points without a time get 0 (1970-01-01T00:00:00Z), so that a test gives the same answer every run.
            var parser = LineProtocolParser(precision: precision, defaultTime: 0, database: to.database,
                                            retentionPolicy: to.retentionPolicy)
            let name = path ?? "lines"
            let chunk: ([UInt8], Int) -> Void = { bytes, firstLine in
                var points: [Point] = []
                for e in parser.parse(bytes, into: &points) {
                    actuals.badLines.append("\(name):\(e.line + firstLine - 1):\(e.column): \(e.message)")
                }
                actuals.pointsRead += points.count
                runner.write(points)
            }
            if let text { chunk(Array(text.utf8), 1) } else if let path {
                switch try RecordingInput.format(path: path) {
                case .lineProtocol, .gzipLineProtocol: try RecordingInput.forEachLineChunk(path: path, chunk)
                case let other: throw TestFileError("\(path) is a \(other), not line protocol: give it as \"recording\"")
                }
            }
        case .recording(let path):
            switch try RecordingInput.format(path: path) {
            case .stream:
                if let problem = Run.inputMismatch(pipeline: pipeline, recording: nil, input: path) { throw TestFileError(problem) }
                actuals.pointsRead += try StreamRecordingReader(path: path).read { points in runner.write(points) }
            case .batch:
                let recording = try BatchRecording.read(path: path)
                if let problem = Run.inputMismatch(pipeline: pipeline, recording: recording, input: path) {
                    throw TestFileError(problem)
                }
                actuals.pointsRead += recording.entries.reduce(0) { $0 + $1.batches.reduce(0) { $0 + $1.points.count } }
                // In time order across the queries, as `tock run` replays them.
                for (index, batch) in Run.interleaved(recording.entries.map(\.batches)) {
                    if runner.state.ended { break }
                    runner.feed([batch], toQuery: index)
                }
            case .lineProtocol, .gzipLineProtocol:
                throw TestFileError("\(path) is line protocol, not a recording: give it as \"file\"")
            }
        }
    }
}

/// `kapacitorLoopback` in a test: points written back reach no task (the test runs one), as in `tock run`.
final class TestLoopback: PointIngress {
    let taskDBRPs: [DBRP]
    init(taskDBRPs: [DBRP]) { self.taskDBRPs = taskDBRPs }
    func write(_ points: [Point]) throws {}
}
