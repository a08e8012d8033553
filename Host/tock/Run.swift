import Alerting
import ArgumentParser
import Engine
import Foundation
import LineProtocol
import Logging
import PluginHost
import PluginSupervisor
import Recording
import Server
import TICKScript
import TockModel

/// `tock run`: runs one TICKscript over a line-protocol file, without a server.
struct Run: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run a TICKscript over line protocol or a Kapacitor recording and print what it produces.",
        discussion: """
            Prints one JSON object per line on standard output: {"node": NAME, "series": [...]} for each \
            output of a leaf node, and each alert's JSON with "node" added. Each httpOut update prints the \
            series that changed (one row: {"node": NAME, "series": [ROW]}); with --httpout final, each \
            endpoint's whole result is printed once, at the end, instead. --output all prints what every \
            node emits (tagged with the node), --output none nothing but the summary. \
            The input's format is told by its content: line protocol (plain or gzip), a Kapacitor stream \
            recording (.srpl: database, retention policy and line-protocol lines; plain or gzip), or a \
            Kapacitor batch recording (.brpl, a zip archive whose entries feed the script's batch|query() \
            nodes in order, as Kapacitor's replay does; nothing queries InfluxDB). Recorded points keep their recorded times unless \
            --rebase-time moves the first one (and all others with it) to a given time, or to now as \
            Kapacitor's replay does. \
            A summary (points read, per-node counters, elapsed time) goes to standard error, as do \
            node logs and bad input lines (with line:column; they are skipped). \
            Exits 1 when the task fails, and when an alert handler gave up on an event (a dead letter: a log \
            file that cannot be written, a receiver that refuses) unless --keep-going; 2 for a bad script, \
            configuration or input file.
            """)

    /// What `--output` prints.
    enum OutputMode: String, ExpressibleByArgument, CaseIterable {
        case none, leaves, all
    }

    /// How `--httpout` prints httpOut results.
    enum HTTPOutMode: String, ExpressibleByArgument, CaseIterable {
        case updates, final
    }

    @Argument(help: "The TICKscript.")
    var script: String

    @Option(name: .long, help: "Line protocol or a Kapacitor recording (.srpl/.brpl, by content) to feed the task ('-': line protocol on standard input).")
    var input: String

    @Option(name: .long, help: "What to print: none (only the summary), leaves (leaf nodes' output, httpOut and alerts) or all (every node's output, tagged with the node).")
    var output: OutputMode = .leaves

    @Option(name: .long, help: "httpOut results: updates (each update as the series that changed) or final (each endpoint's final result, once, at the end).")
    var httpout: HTTPOutMode = .updates

    @Option(name: .customLong("rebase-time"), help: "Move a recording's first point to TIME (RFC 3339, or 'now' as Kapacitor's replay does), the others with it.")
    var rebaseTime: String?

    @Option(name: .long, help: "The database.retentionPolicy the points are written to (default: the script's first dbrp).")
    var dbrp: String?

    @Option(name: .long, help: "Timestamp precision of the input: n, u, ms, s, m or h.")
    var precision: String = "n"

    @Option(name: .long, help: "A kapacitor.conf-style file whose [udf.functions.NAME] tables define the script's @NAME() UDFs.")
    var config: String?

    @Flag(name: .long, help: "Print no summary on standard error.")
    var quiet = false

    @Flag(name: .customLong("keep-going"), help: "Exit 0 even when alert handlers failed to deliver events (they are still reported as dead letters).")
    var keepGoing = false

    @Flag(name: .long, help: "Parse all the input before starting the task, so the elapsed time measures the engine alone.")
    var preload = false

    func run() throws {
        guard let precision = Precision(precision) else {
            throw ValidationError("unknown precision \"\(self.precision)\": use n, u, ms, s, m or h")
        }
        var rebase: RebaseTime?
        if let rebaseTime {
            guard let r = RebaseTime(parsing: rebaseTime) else {
                throw ValidationError("--rebase-time must be an RFC 3339 time (2026-01-01T00:00:00Z) or now, got \"\(rebaseTime)\"")
            }
            rebase = r
        }
        var format = RecordingFormat.lineProtocol
        if input != "-" {
            do {
                format = try RecordingInput.format(path: input)
            } catch {
                Stderr.write("\(error)\n")
                throw ExitCode(2)
            }
        }
        if rebase != nil, case .lineProtocol = format {
            throw ValidationError("--rebase-time applies to recordings; \(input) is line protocol")
        }
        var recording: BatchRecording?
        if case .batch = format {
            // Read it whole first: a damaged recording is reported with its entry and line.
            do {
                recording = try BatchRecording.read(path: input, rebase: rebase)
            } catch {
                Stderr.write("\(error)\n")
                throw ExitCode(2)
            }
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
        var scriptDBRPs: [DBRP] = []
        for case .dbrp(let db, let rp) in program.statements.map(\.kind) { scriptDBRPs.append(DBRP(db, rp)) }
        if let dbrp {
            guard let d = DBRP(parsing: dbrp) else { throw ValidationError("--dbrp must be database.retentionPolicy, got \"\(dbrp)\"") }
            target = d
        } else if let first = scriptDBRPs.first {
            target = first
        }
        // Line protocol is written to the target; a stream recording's points keep their recorded database and
        // retention policy, and reach the task when they match its dbrps (all of them when it declares none).
        let isRecording = if case .stream = format { true } else { false }
        let taskDBRPs = isRecording ? (dbrp != nil ? [target] : scriptDBRPs) : [target]

        // What the UDFs start comes back to us when its parent dies, and is stopped before we exit.
        Descendants.becomeSubreaper()
        defer { Descendants.terminateAll() }
        // Every line of the task, its UDFs and its alert handlers: `LEVEL [task:node] message` on stderr.
        let logger = VerbLogging.logger(label: "tock.run").with("task", taskID)
        var udfs: UDFRegistry?
        var sections = ConfigSections()
        var alerting = try? AlertingService()
        if let config {
            do {
                // The [[httppost]] and [deadman] sections and the alert services, read as `tock serve` reads them.
                let server = try ServerConfiguration.load(file: config, environment: [:])
                sections = server.configSections
                alerting = try server.makeAlertingService()
                let configuration = try UDFConfiguration.load(path: config)
                for warning in configuration.warnings { Stderr.write("warning: \(warning)\n") }
                udfs = UDFRegistry(configuration: configuration, logger: logger)
            } catch {
                Stderr.write("\(error)\n")
                throw ExitCode(2)
            }
        }
        defer { udfs?.terminateAll() }

        let out = OutputBuffer()
        let loopback = RunLoopback(target: target)
        // influxDBOut writes nowhere in a run: each write is printed as a JSON line instead.
        let printsWrites = output != OutputMode.none
        let influxDB = CapturedInfluxDB { write in
            if printsWrites { out.line { Self.appendJSON(write, to: &$0) } }
        }
        let pipeline: Pipeline
        do {
            var builder = TaskBuilder(taskID: taskID, udfProvider: udfs)
            builder.configSections = sections
            builder.ingress = loopback
            builder.influxDB = influxDB
            builder.alertService = alerting
            // A batch task's queries emit what the recording holds; nothing asks InfluxDB.
            builder.batchSourceMode = .recorded
            pipeline = try builder.build(program)
        } catch let error as ScriptError {
            Stderr.write(error.rendered(source: source) + "\n")
            throw ExitCode(2)
        }
        if let problem = Self.inputMismatch(pipeline: pipeline, recording: recording, input: input) {
            Stderr.write(problem + "\n")
            throw ExitCode(2)
        }
        // httpOut and alert leaves report through their events; their pass-through output would repeat them
        // (with --output all every node's output is printed, theirs included).
        let silentLeaves: Set<String> = output == .all
            ? [] : Set(pipeline.nodes.filter { ["httpOut", "alert"].contains($0.method) }.map(\.id))
        let finals = FinalResults()
        let printsNothing = output == OutputMode.none, finalOnly = httpout == .final, everyNode = output == .all
        // Each printed line starts `{"node":NAME,`: spelled once per node, not once per line.
        var prefixes: [String: [UInt8]] = [:]
        for node in pipeline.nodes { prefixes[node.id] = Self.nodePrefix(node.id) }
        let nodePrefixes = prefixes
        let printOutput: @Sendable (String, Message) -> Void = { node, message in
            if silentLeaves.contains(node) { return }
            let prefix = nodePrefixes[node] ?? Self.nodePrefix(node)
            out.line { b in
                b.append(contentsOf: prefix)
                GoJSON.appendLiteral("\"series\":[", to: &b)
                Series.appendJSON(message, to: &b)
                GoJSON.appendLiteral("]}", to: &b)
            }
        }
        var handlers = TaskRunner.Handlers(
            event: { node, event in
                if printsNothing { return }
                switch event {
                case .httpOut(_, let row, let result):
                    if finalOnly {
                        finals.keep(node: node, result)
                    } else if !everyNode {
                        // (With --output all, the node's own output is the same row.)
                        let prefix = nodePrefixes[node] ?? Self.nodePrefix(node)
                        out.line { b in
                            b.append(contentsOf: prefix)
                            GoJSON.appendLiteral("\"series\":[", to: &b)
                            b.append(contentsOf: row.utf8)
                            GoJSON.appendLiteral("]}", to: &b)
                        }
                    }
                case .alert(let json):
                    let prefix = nodePrefixes[node] ?? Self.nodePrefix(node)
                    out.line { b in Self.appendWithNode(prefix, json, to: &b) }
                }
            },
            logger: logger)
        if !printsNothing { handlers.output = printOutput }
        handlers.everyNode = everyNode
        // Line protocol: the task reads the dbrp the points are written to, whatever the script declares.
        let runner = TaskRunner(pipeline: pipeline, taskID: taskID, dbrps: taskDBRPs, handlers: handlers)
        var started = Date()
        try runner.start()

        var preloaded: [[Point]] = []
        var parser = LineProtocolParser(precision: precision, defaultTime: Int64(Date().timeIntervalSince1970 * 1e9),
                                        database: target.database, retentionPolicy: target.retentionPolicy)
        var read = 0, bad = 0
        // A live stream's results are printed as they come, not when a block of them is full.
        let flusher = input == "-" ? out.startFlushing(every: .milliseconds(100)) : nil
        defer { flusher?.cancel() }
        let deliver: ([Point]) -> Void = { points in
            read += points.count
            if preload { preloaded.append(points) } else { runner.write(points) }
        }
        switch format {
        case .stream:
            do {
                try StreamRecordingReader(path: input).read(rebase: rebase) { points in
                    if runner.state.ended { throw TaskEnded() }
                    deliver(points)
                }
            } catch is TaskEnded {
            } catch {
                Stderr.write("\(error)\n")
                _ = try? runner.stop()
                throw ExitCode(2)
            }
        case .gzipLineProtocol:
            try RecordingInput.forEachLineChunk(path: input) { chunk, firstLine in
                if runner.state.ended { throw TaskEnded() }
                var points: [Point] = []
                for e in parser.parse(chunk, into: &points) {
                    bad += 1
                    Stderr.write("\(input):\(e.line + firstLine - 1):\(e.column): \(e.message)\n")
                }
                deliver(points)
            }
        case .batch:
            let entries = recording?.entries ?? []
            read = entries.reduce(0) { $0 + $1.batches.reduce(0) { $0 + $1.points.count } }
            // The entries are fed in time order across queries (by tmax, entry order on ties), so that joins of
            // several queries see their batches together, as Kapacitor's concurrent replay of the entries does.
            for (index, batch) in Self.interleaved(entries.map(\.batches)) {
                if runner.state.ended { break }
                runner.feed([batch], toQuery: index)
            }
        case .lineProtocol:
        // Reading stops as soon as the task has ended (failed): the rest of the input has nowhere to go.
        try forEachChunk(of: input, idle: { !runner.state.ended }) { chunk, firstLine in
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
        }
        if preload {
            started = Date()
            preloaded.reverse()
            while let points = preloaded.popLast() { runner.write(points) }
        }
        var failure: (any Error)?
        do { try runner.stop() } catch { failure = error }
        // The handlers get `[alerting] drain-timeout` to deliver what the task alerted; the rest are dead letters.
        let deadLetters = alerting.map { Self.settleDeliveries($0) } ?? []
        for (node, result) in finals.all { out.line(Self.withNode(node, result.json)) }
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
            if let line = loopback.summary { summary += line }
            Stderr.write(summary)
        }
        for line in deadLetters { Stderr.write(line + "\n") }
        if failure != nil {
            // The task logged its error when it failed (an ERROR line above); say it once.
            Stderr.write("task \(taskID) failed\n")
            throw ExitCode(1)
        }
        if !deadLetters.isEmpty && !keepGoing {
            Stderr.write("alert handlers failed to deliver (the dead letters above): exiting 1; --keep-going exits 0 all the same\n")
            throw ExitCode(1)
        }
    }

    /// Waits (at most `[alerting] drain-timeout`) for `alerting`'s handlers to deliver what they hold, stops them, and
    /// answers the dead letters to report: one line each (`dead letter 1: …`), then a count by reason. Empty when every
    /// event was delivered.
    static func settleDeliveries(_ alerting: AlertingService) -> [String] {
        let settled = alerting.settle(within: alerting.delivery.drainTimeout)
        let letters = (try? alerting.deadLetters.letters()) ?? []
        var lines = letters.map { l in
            "dead letter \(l.id): task \(l.origin.task) node \(l.origin.node) \(l.handler): event \(l.event.id) \(l.event.level) "
                + "\(l.reason) after \(l.attempts) attempt\(l.attempts == 1 ? "" : "s"): \(l.detail)"
        }
        let summary = alerting.deadLetters.summary
        if !summary.isEmpty {
            lines.append(summary + (settled ? "" : " — handlers still held events after drain-timeout (\(alerting.delivery.drainTimeout))"))
        }
        return lines
    }

    /// Why the input cannot feed the task: a batch recording needs as many `query` nodes as it has entries, and a
    /// batch task reads only batch recordings; `nil` when they fit.
    static func inputMismatch(pipeline: Pipeline, recording: BatchRecording?, input: String) -> String? {
        let queries = pipeline.batchQueries.count
        if let recording {
            if queries == 0 {
                return "\(input) is a Kapacitor batch recording: it replays into a batch task (batch|query()), and the script has no query"
            }
            if recording.entries.count != queries {
                return "\(input) has \(recording.entries.count) recorded quer\(recording.entries.count == 1 ? "y" : "ies") but the script has \(queries) batch quer\(queries == 1 ? "y" : "ies"); each entry feeds one query, in order"
            }
        } else if pipeline.isBatch {
            return "the script is a batch task (batch|query()): it replays a Kapacitor batch recording (.brpl), not \(input == "-" ? "standard input" : input)"
        }
        return nil
    }

    /// The batches of every entry in one sequence ordered by `tmax` (entry order on ties, each entry's own order
    /// kept), with the entry each comes from.
    static func interleaved(_ entries: [[Batch]]) -> [(Int, Batch)] {
        var next = Array(repeating: 0, count: entries.count)
        var result: [(Int, Batch)] = []
        result.reserveCapacity(entries.reduce(0) { $0 + $1.count })
        while true {
            var pick: Int?
            for e in entries.indices where next[e] < entries[e].count {
                if let p = pick, entries[p][next[p]].tmax <= entries[e][next[e]].tmax { continue }
                pick = e
            }
            guard let e = pick else { return result }
            result.append((e, entries[e][next[e]]))
            next[e] += 1
        }
    }

    /// An influxDBOut write as `tock run` prints it: where it would go and its points as series rows.
    static func json(_ write: InfluxWrite) -> String {
        var bytes: [UInt8] = []
        appendJSON(write, to: &bytes)
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Appends ``json(_:)``'s text as UTF-8.
    static func appendJSON(_ write: InfluxWrite, to out: inout [UInt8]) {
        GoJSON.appendLiteral("{\"influxdb\":{\"database\":", to: &out)
        GoJSON.appendString(write.database, to: &out)
        GoJSON.appendLiteral(",\"retentionPolicy\":", to: &out)
        GoJSON.appendString(write.retentionPolicy, to: &out)
        GoJSON.appendLiteral(",\"series\":[", to: &out)
        for (i, p) in write.points.enumerated() {
            if i > 0 { out.append(UInt8(ascii: ",")) }
            Series.appendJSON(.point(p), to: &out)
        }
        GoJSON.appendLiteral("]}}", to: &out)
    }

    /// `{"node":NAME,` as UTF-8: how each line printed for a node begins.
    static func nodePrefix(_ node: String) -> [UInt8] {
        var bytes: [UInt8] = []
        GoJSON.appendLiteral("{\"node\":", to: &bytes)
        GoJSON.appendString(node, to: &bytes)
        bytes.append(UInt8(ascii: ","))
        return bytes
    }

    /// `{"node":NAME,` spliced into a JSON object.
    static func withNode(_ node: String, _ json: String) -> String {
        var bytes: [UInt8] = []
        appendWithNode(nodePrefix(node), json, to: &bytes)
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Appends `json` with a node's ``nodePrefix(_:)`` spliced in (`json` as it is when it is not an object).
    static func appendWithNode(_ prefix: [UInt8], _ json: String, to out: inout [UInt8]) {
        let utf8 = json.utf8
        guard utf8.first == UInt8(ascii: "{") else {
            out.append(contentsOf: utf8)
            return
        }
        let rest = utf8.dropFirst()
        // `{}` becomes `{"node":NAME}`: the prefix without its comma.
        out.append(contentsOf: rest.first == UInt8(ascii: "}") ? prefix.dropLast() : prefix[...])
        out.append(contentsOf: rest)
    }
}

/// Thrown from a reader's callback to stop reading once the task has ended.
struct TaskEnded: Error {}

/// Each httpOut node's live result, in the order the nodes first published, for `--httpout final`.
final class FinalResults: @unchecked Sendable {
    private let lock = NSLock()
    private var order: [String] = []
    private var results: [String: HTTPOutResult] = [:]

    func keep(node: String, _ result: HTTPOutResult) {
        lock.lock()
        defer { lock.unlock() }
        if results.updateValue(result, forKey: node) == nil { order.append(node) }
    }

    var all: [(String, HTTPOutResult)] {
        lock.lock()
        defer { lock.unlock() }
        return order.map { ($0, results[$0]!) }
    }
}

/// Reads `path` (or standard input for `-`) in chunks that end at a line break, with the chunk's first line number.
///
/// A regular file is read in large blocks. Anything else (a pipe, a terminal) is read as its bytes arrive:
/// each complete line is handed over at once, so a live stream is processed while it is still open.
/// Between reads, `idle` runs at least every `idleInterval` (nanoseconds); when it returns `false`, reading
/// stops (the task has ended).
func forEachChunk(of path: String, idleInterval: Int = 100_000_000, idle: () -> Bool = { true },
                  _ body: ([UInt8], Int) throws -> Void) throws {
    let fd: Int32
    if path == "-" {
        fd = 0
    } else {
        fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw ValidationError("cannot read \(path): \(String(cString: strerror(errno)))") }
    }
    defer { if fd != 0 { close(fd) } }
    var info = stat()
    let isRegularFile = fstat(fd, &info) == 0 && (info.st_mode & S_IFMT) == S_IFREG
    let blockSize = isRegularFile ? 4 << 20 : 1 << 20
    var block = [UInt8](repeating: 0, count: blockSize)
    var pending: [UInt8] = []
    var line = 1
    while true {
        if !isRegularFile {
            var pollFD = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            let ready = poll(&pollFD, 1, Int32(idleInterval / 1_000_000))
            if ready < 0 && errno == EINTR { continue }
            if ready == 0 {
                if !idle() { return }
                continue
            }
        }
        let n = block.withUnsafeMutableBytes { read(fd, $0.baseAddress!, $0.count) }
        if n < 0 && errno == EINTR { continue }
        if n < 0 { throw ValidationError("cannot read \(path): \(String(cString: strerror(errno)))") }
        if n == 0 { break }
        guard let lastNewline = block[0..<n].lastIndex(of: UInt8(ascii: "\n")) else {
            pending += block[0..<n]
            continue
        }
        let chunk = pending + block[0...lastNewline]
        pending = Array(block[(lastNewline + 1)..<n])
        try body(chunk, line)
        line += chunk.reduce(0) { $0 + ($1 == UInt8(ascii: "\n") ? 1 : 0) }
        if !idle() { return }
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

    /// A thread that flushes the buffer periodically until cancelled.
    final class Flusher: @unchecked Sendable {
        private let condition = NSCondition()
        private var cancelled = false

        fileprivate init(_ out: OutputBuffer, every interval: Duration) {
            let seconds = Double(interval.components.seconds) + Double(interval.components.attoseconds) / 1e18
            let thread = Thread { [self] in
                condition.lock()
                while !cancelled {
                    condition.unlock()
                    out.flushIfNotEmpty()
                    condition.lock()
                    if !cancelled { _ = condition.wait(until: Date().addingTimeInterval(seconds)) }
                }
                condition.unlock()
            }
            thread.name = "tock-run-flush"
            thread.start()
        }

        func cancel() {
            condition.lock()
            cancelled = true
            condition.broadcast()
            condition.unlock()
        }
    }

    /// Flushes every `interval` from a thread of its own, until the returned flusher is cancelled.
    func startFlushing(every interval: Duration) -> Flusher { Flusher(self, every: interval) }

    func flushIfNotEmpty() {
        lock.lock()
        let empty = buffer.isEmpty
        lock.unlock()
        if !empty { flush() }
    }

    func line(_ s: String) {
        line { $0.append(contentsOf: s.utf8) }
    }

    /// Appends the line that `write` appends to the buffer (under the buffer's lock: keep it short), and a newline.
    func line(_ write: (inout [UInt8]) -> Void) {
        lock.lock()
        write(&buffer)
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
