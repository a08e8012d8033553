import ArgumentParser
import Engine
import Foundation
import LineProtocol
import PluginHost
import TICKScript
import TockModel

/// `tock run`: runs one TICKscript over a line-protocol file, without a server.
struct Run: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run a TICKscript over line protocol and print what it produces.",
        discussion: """
            Prints one JSON object per line on standard output: {"node": NAME, "series": [...]} for each \
            output of a leaf node and each httpOut update, and each alert's JSON with "node" added. \
            A summary (points read, per-node counters, elapsed time) goes to standard error, as do \
            node logs and bad input lines (with line:column; they are skipped).
            """)

    @Argument(help: "The TICKscript.")
    var script: String

    @Option(name: .long, help: "Line protocol to feed the task ('-' for standard input).")
    var input: String

    @Option(name: .long, help: "The database.retentionPolicy the points are written to (default: the script's first dbrp).")
    var dbrp: String?

    @Option(name: .long, help: "Timestamp precision of the input: n, u, ms, s, m or h.")
    var precision: String = "n"

    @Option(name: .long, help: "A kapacitor.conf-style file whose [udf.functions.NAME] tables define the script's @NAME() UDFs.")
    var config: String?

    @Flag(name: .long, help: "Print no summary on standard error.")
    var quiet = false

    @Flag(name: .long, help: "Parse all the input before starting the task, so the elapsed time measures the engine alone.")
    var preload = false

    func run() throws {
        guard let precision = Precision(precision) else {
            throw ValidationError("unknown precision \"\(self.precision)\": use n, u, ms, s, m or h")
        }
        let source = try readText(script)
        let program: Program
        do {
            program = try Program.parse(source)
        } catch {
            Stderr.write(error.rendered(source: source) + "\n")
            throw ExitCode(2)
        }
        let taskID = URL(fileURLWithPath: script).deletingPathExtension().lastPathComponent
        var target = DBRP("", "")
        if let dbrp {
            guard let d = DBRP(parsing: dbrp) else { throw ValidationError("--dbrp must be database.retentionPolicy, got \"\(dbrp)\"") }
            target = d
        } else {
            for case .dbrp(let db, let rp) in program.statements.map(\.kind) {
                target = DBRP(db, rp)
                break
            }
        }

        var udfs: UDFRegistry?
        if let config {
            do {
                let configuration = try UDFConfiguration.load(path: config)
                for warning in configuration.warnings { Stderr.write("warning: \(warning)\n") }
                udfs = UDFRegistry(configuration: configuration, log: { level, message in
                    Stderr.write("\(level.rawValue) [\(taskID)] \(message)\n")
                })
            } catch {
                Stderr.write("\(error)\n")
                throw ExitCode(2)
            }
        }
        defer { udfs?.terminateAll() }

        let out = OutputBuffer()
        let pipeline: Pipeline
        do {
            pipeline = try TaskBuilder(taskID: taskID, udfProvider: udfs).build(program)
        } catch let error as ScriptError {
            Stderr.write(error.rendered(source: source) + "\n")
            throw ExitCode(2)
        }
        // httpOut and alert leaves report through their events; their pass-through output would repeat them.
        let silentLeaves = Set(pipeline.nodes.filter { ["httpOut", "alert"].contains($0.method) }.map(\.id))
        let handlers = TaskRunner.Handlers(
            event: { node, event in
                switch event {
                case .httpOut(_, let json): out.line(Self.withNode(node, json))
                case .alert(let json): out.line(Self.withNode(node, json))
                }
            },
            log: { level, node, message in Stderr.write("\(level.rawValue) [\(taskID):\(node)] \(message)\n") },
            output: { node, message in
                if silentLeaves.contains(node) { return }
                out.line("{\"node\":\(GoJSON.string(node)),\"series\":[\(Series.json(message))]}")
            })
        // The task reads the dbrp the points are written to, whatever the script declares.
        let runner = TaskRunner(pipeline: pipeline, taskID: taskID, dbrps: [target], handlers: handlers)
        var started = Date()
        try runner.start()

        var preloaded: [[Point]] = []
        var parser = LineProtocolParser(precision: precision, defaultTime: Int64(Date().timeIntervalSince1970 * 1e9),
                                        database: target.database, retentionPolicy: target.retentionPolicy)
        var read = 0, bad = 0
        try forEachChunk(of: input) { chunk, firstLine in
            var points: [Point] = []
            points.reserveCapacity(chunk.count / 40)
            let errors = parser.parse(chunk, into: &points)
            for e in errors {
                bad += 1
                Stderr.write("\(input):\(e.line + firstLine - 1):\(e.column): \(e.message)\n")
            }
            read += points.count
            if preload { preloaded.append(points) } else { runner.write(points) }
        }
        if preload {
            started = Date()
            preloaded.reverse()
            while let points = preloaded.popLast() { runner.write(points) }
        }
        var failure: (any Error)?
        do { try runner.stop() } catch { failure = error }
        out.flush()
        let elapsed = Date().timeIntervalSince(started)
        if !quiet {
            var summary = "read \(read) point\(read == 1 ? "" : "s")"
            if bad > 0 { summary += ", skipped \(bad) bad line\(bad == 1 ? "" : "s")" }
            summary += String(format: " in %.3fs (%.0f points/s)", elapsed, elapsed > 0 ? Double(read) / elapsed : 0)
            let cpu = Double(runner.executorCPUNanoseconds) / 1e9
            summary += String(format: "; engine CPU %.3fs (%.0f points per CPU-second)\n", cpu, cpu > 0 ? Double(read) / cpu : 0)
            summary += "node                  in        out     errors  avg time\n"
            for s in runner.stats() {
                summary += s.node.padding(toLength: 16, withPad: " ", startingAt: 0)
                summary += String(format: " %9d %10d %10d  %@\n", s.received, s.emitted, s.errors,
                                  GoDuration.format(s.averageExecutionNanoseconds))
            }
            Stderr.write(summary)
        }
        if let failure {
            Stderr.write("task \(taskID) failed: \(failure)\n")
            throw ExitCode(1)
        }
    }

    /// `{"node":NAME,` spliced into a JSON object.
    static func withNode(_ node: String, _ json: String) -> String {
        guard json.first == "{" else { return json }
        let rest = json.dropFirst()
        return "{\"node\":\(GoJSON.string(node))" + (rest.first == "}" ? "" : ",") + rest
    }
}

/// Reads `path` (or standard input for `-`) in chunks that end at a line break, with the chunk's first line number.
func forEachChunk(of path: String, _ body: ([UInt8], Int) throws -> Void) throws {
    let handle: FileHandle
    if path == "-" {
        handle = FileHandle.standardInput
    } else {
        guard let h = FileHandle(forReadingAtPath: path) else { throw ValidationError("cannot read \(path)") }
        handle = h
    }
    var pending: [UInt8] = []
    var line = 1
    while true {
        let data = handle.readData(ofLength: 4 << 20)
        if data.isEmpty { break }
        pending.append(contentsOf: data)
        guard let lastNewline = pending.lastIndex(of: UInt8(ascii: "\n")) else { continue }
        let chunk = Array(pending[...lastNewline])
        pending.removeSubrange(...lastNewline)
        try body(chunk, line)
        line += chunk.reduce(0) { $0 + ($1 == UInt8(ascii: "\n") ? 1 : 0) }
    }
    if !pending.isEmpty { try body(pending, line) }
}

func readText(_ path: String) throws -> String {
    if path == "-" {
        return String(decoding: FileHandle.standardInput.readDataToEndOfFile(), as: UTF8.self)
    }
    guard let data = FileManager.default.contents(atPath: path) else { throw ValidationError("cannot read \(path)") }
    return String(decoding: data, as: UTF8.self)
}

enum Stderr {
    static func write(_ s: String) { FileHandle.standardError.write(Data(s.utf8)) }
}

/// Lines for standard output, written in large blocks; safe from any thread.
final class OutputBuffer: @unchecked Sendable {
    private let lock = NSLock()
    private var buffer: [UInt8] = []

    func line(_ s: String) {
        lock.lock()
        buffer.append(contentsOf: s.utf8)
        buffer.append(UInt8(ascii: "\n"))
        let full = buffer.count >= 1 << 16
        lock.unlock()
        if full { flush() }
    }

    func flush() {
        lock.lock()
        let data = Data(buffer)
        buffer.removeAll(keepingCapacity: true)
        FileHandle.standardOutput.write(data)
        lock.unlock()
    }
}
