import Glibc
import LineProtocol
import Logging
import PluginSupervisor
import Synchronization
import TockModel

/// Telegraf's `execd` input, run unchanged: a long-running program that prints line protocol on stdout (or, with
/// `data_format`, a json document per line, or Prometheus text), signalled at
/// each interval as `signal` says (`none`, `STDIN` — a newline —, `SIGHUP`, `SIGUSR1`, `SIGUSR2`), its stderr logged
/// at the level of Telegraf's prefixes (`E! `, `W! `, `I! `, `D! `; other lines as errors), and restarted
/// `restart_delay` after it ends. It runs under the plugin supervisor: its own process group, SIGTERM then SIGKILL
/// when stopped, every child reaped.
public final class ExecdCollector: StreamingCollector {
    public static let name = "execd"
    public static let summary = "runs a long-lived program (Telegraf execd plugins) and reads the line protocol it prints"

    let command: [String]
    let environment: [String: String]
    let signal: String
    let restartDelay: Duration
    /// How its output is read: line protocol, json a document per line, or Prometheus text a line at a time.
    let parser: DataParser
    private let state = Mutex<State>(State())

    private struct State {
        var process: LineProcess?
        var context: StreamContext?
        var stopping = false
        var restart: Task<Void, Never>?
    }

    public init(options: CollectorOptions) throws(CollectorError) {
        var o = options
        command = try o.strings("command", default: [])
        guard let program = command.first, !program.isEmpty else {
            throw CollectorError(Self.name, "command is empty: give the program and its arguments, command = [\"/usr/bin/prog\", \"-x\"]")
        }
        environment = try ShellWords.environment(o.strings("environment", default: []), collector: Self.name)
        signal = try o.string("signal", default: "none")
        guard ["none", "STDIN", "SIGHUP", "SIGUSR1", "SIGUSR2"].contains(signal) else {
            throw CollectorError(Self.name, "signal \"\(signal)\" is not one of none, STDIN, SIGHUP, SIGUSR1, SIGUSR2")
        }
        let delay = try o.string("restart_delay", default: "10s")
        guard let ns = GoDuration.parse(delay), ns >= 0 else {
            throw CollectorError(Self.name, "restart_delay \"\(delay)\" is not a duration")
        }
        restartDelay = .nanoseconds(ns)
        let parser = try DataParser.option(&o)
        self.parser = parser
        // Every DataFormat reads a line on its own, as execd hands them over.
        _ = try o.int("buffer_size", default: 0)
        try o.finish()
    }

    public var isRunning: Bool { state.withLock { $0.process != nil } }

    public func start(_ context: StreamContext) throws(CollectorError) {
        state.withLock { $0.context = context; $0.stopping = false }
        do throws(CollectorError) { try launch() } catch {
            // A program that cannot start now (not installed yet) is tried again, as after a crash.
            context.logger.error("\(error.message); trying again in \(GoDuration.format(restartDelay.nanosecondsValue))")
            scheduleRestart(context: context, label: "execd \(command[0])")
        }
    }

    public func tick() {
        guard let process = state.withLock({ $0.process }) else { return }
        switch signal {
        case "STDIN": process.write([UInt8(ascii: "\n")])
        case "SIGHUP": process.signal(SIGHUP)
        case "SIGUSR1": process.signal(SIGUSR1)
        case "SIGUSR2": process.signal(SIGUSR2)
        default: break
        }
    }

    public func stop() {
        let (process, restart) = state.withLock { s in
            s.stopping = true
            defer { s.process = nil; s.restart = nil }
            return (s.process, s.restart)
        }
        restart?.cancel()
        process?.stop()
    }

    private func launch() throws(CollectorError) {
        guard let context = state.withLock({ $0.context }) else { return }
        let label = "execd \(command[0])"
        let parser = self.parser
        let process: LineProcess
        do {
            process = try LineProcess(program: command[0], arguments: Array(command.dropFirst()), environment: environment,
                                      label: "execd", onLine: { line in
                Self.read(line, parser: parser, context: context, label: label)
            }, onStderr: { line in
                Self.logStderr(line, context: context, label: label)
            }, onEnd: { [weak self] end in
                self?.ended(end, context: context, label: label)
            })
        } catch {
            throw CollectorError(Self.name, "\(label): \(error)")
        }
        let stopping = state.withLock { s -> Bool in
            if !s.stopping { s.process = process }
            return s.stopping
        }
        if stopping { process.stop() }
        context.logger.info("\(label): started (pid \(process.pid.map(String.init) ?? "?"))")
    }

    /// Reads one line of the program's output. Telegraf's execd hands formats other than line protocol to their
    /// parser one line at a time: with `prometheus`, a `# TYPE` line is read on its own and types nothing, so every
    /// sample is untyped (its value in a field `value`, a histogram's buckets points of their own), as in Telegraf.
    static func read(_ line: UnsafeRawBufferPointer, parser: DataParser, context: StreamContext, label: String) {
        guard !line.isEmpty else { return }
        if parser.format != .influx || !parser.nameOverride.isEmpty {
            let parsed = parser.parse(Array(line), time: context.clock(), measurement: "execd")
            for error in parsed.errors.prefix(3) { context.logger.error("\(label): cannot read its output: \(error)") }
            if !parsed.points.isEmpty { context.emit(parsed.points) }
            return
        }
        var parser = LineProtocolParser(defaultTime: context.clock())
        var points: [Point] = []
        let errors = parser.parse(line, into: &points)
        if let error = errors.first {
            let text = String(decoding: line.prefix(120), as: UTF8.self)
            context.logger.error("\(label): cannot read its output: column \(error.column): \(error.message): \(text)")
        }
        if !points.isEmpty { context.emit(points) }
    }

    /// Telegraf's shims prefix their log lines with the level.
    static func logStderr(_ line: String, context: StreamContext, label: String) {
        let levels: [(String, Logger.Level)] = [("E! ", .error), ("W! ", .warning), ("I! ", .info), ("D! ", .debug), ("T! ", .debug)]
        for (prefix, level) in levels where line.hasPrefix(prefix) {
            return context.logger.log(level: level, "\(label): \(line.dropFirst(3))")
        }
        context.logger.error("\(label): stderr: \(line)")
    }

    private func ended(_ end: ConnectionEnd, context: StreamContext, label: String) {
        let stopping = state.withLock { s -> Bool in
            s.process = nil
            return s.stopping
        }
        guard !stopping else { return }
        let how = end.termination.map { $0.description } ?? end.failure?.description ?? "ended"
        let tail = end.stderrTail.suffix(5)
        let stderr = tail.isEmpty ? "" : "; last stderr: " + tail.joined(separator: " | ")
        context.logger.error("\(label): process \(how)\(stderr); restarting in \(GoDuration.format(restartDelay.nanosecondsValue))")
        scheduleRestart(context: context, label: label)
    }

    private func scheduleRestart(context: StreamContext, label: String) {
        let task = Task { [weak self, restartDelay] in
            guard (try? await Task.sleep(for: restartDelay)) != nil, let self else { return }
            guard !self.state.withLock({ $0.stopping }) else { return }
            do throws(CollectorError) { try self.launch() } catch {
                context.logger.error("\(error.description); trying again in \(GoDuration.format(restartDelay.nanosecondsValue))")
                self.scheduleRestart(context: context, label: label)
            }
        }
        state.withLock { $0.restart = task }
    }
}
