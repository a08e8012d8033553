import Foundation
import PluginSupervisor
import Synchronization
import TockModel

/// Telegraf's `exec` input: runs each of `commands` at every gather, at most `timeout` each (default 5 s, as in
/// Telegraf), and reads its stdout in `data_format`. A command that fails, times out or prints garbage is reported with its last
/// stderr lines; the other commands' points are kept.
public struct ExecCollector: Collector {
    public static let name = "exec"
    public static let summary = "runs commands each interval and reads their output (line protocol, Prometheus text or JSON)"

    let commands: [[String]]
    let environment: [String: String]
    let format: DataParser
    /// Each command's limit, nanoseconds.
    let timeout: Int64

    public init(options: CollectorOptions) throws(CollectorError) {
        var o = options
        let lines = try o.strings("commands", default: [])
        guard !lines.isEmpty else { throw CollectorError(Self.name, "commands is empty: name at least one command to run") }
        var commands: [[String]] = []
        for line in lines {
            guard let words = ShellWords.split(line), !words.isEmpty else {
                throw CollectorError(Self.name, "cannot split the command \"\(line)\" into words (an unclosed quote?)")
            }
            commands.append(words)
        }
        self.commands = commands
        environment = try ShellWords.environment(o.strings("environment", default: []), collector: Self.name)
        format = try DataParser.option(&o)
        timeout = try o.duration("timeout", default: 5 * GoDuration.second)
        guard timeout > 0 else { throw CollectorError(Self.name, "timeout must be more than 0") }
        try o.finish()
    }

    /// `timeout` is each command's, as in Telegraf.
    public static var ownsTimeoutOption: Bool { true }

    /// One command's `timeout`: the commands run side by side.
    public var gatherBound: Duration? { .nanoseconds(timeout) }

    public mutating func gather(_ context: GatherContext) throws(CollectorError) -> [Point] {
        let results = Mutex<[[Point]]>(Array(repeating: [], count: commands.count))
        let failures = Mutex<[String]>([])
        let commands = self.commands, environment = self.environment, format = self.format
        // Within the section's bound too (a gather-timeout shorter than timeout), less a moment to report in time.
        let limit = min(timeout, max(GoDuration.millisecond, context.timeout.nanosecondsValue - 50 * GoDuration.millisecond))
        // The commands run side by side, as Telegraf runs them.
        DispatchQueue.concurrentPerform(iterations: commands.count) { i in
            let command = commands[i]
            let shown = command.joined(separator: " ")
            do throws(SpawnError) {
                let run = try OneShotProcess.run(program: command[0], arguments: Array(command.dropFirst()),
                                                 environment: environment, timeout: UInt64(limit))
                let stderr = run.stderrTail.isEmpty ? "" : "; stderr: " + run.stderrTail.suffix(5).joined(separator: " | ")
                if run.timedOut {
                    failures.withLock { $0.append("command \"\(shown)\" timed out after \(GoDuration.format(limit)) and was killed\(stderr)") }
                    return
                }
                guard run.termination.isSuccess else {
                    failures.withLock { $0.append("command \"\(shown)\" \(run.termination)\(stderr)") }
                    return
                }
                let parsed = format.parse(run.stdout, time: context.time, measurement: "exec")
                for error in parsed.errors.prefix(5) { context.logger.error("exec: command \"\(shown)\": \(error)") }
                if run.truncated { context.logger.warning("exec: command \"\(shown)\" printed more than 16 MiB; the rest was ignored") }
                results.withLock { $0[i] = parsed.points }
            } catch {
                failures.withLock { $0.append(error.description) }
            }
        }
        let points = results.withLock { $0 }.flatMap { $0 }
        let failed = failures.withLock { $0 }
        if !failed.isEmpty {
            // Points of the commands that worked still count; the gather as a whole failed.
            if points.isEmpty { throw CollectorError(Self.name, failed.joined(separator: "; ")) }
            for failure in failed { context.logger.error("exec: \(failure)") }
        }
        return points
    }
}


/// Shell-like word splitting of a command line (as Telegraf's `shellquote.Split`): whitespace separates words,
/// single quotes keep everything, double quotes keep all but `\"` and `\\`, a backslash escapes one character.
enum ShellWords {
    static func split(_ line: String) -> [String]? {
        var words: [String] = []
        var current = ""
        var inWord = false
        var quote: Character?
        var escaped = false
        for c in line {
            if escaped {
                current.append(c)
                escaped = false
                continue
            }
            if let q = quote {
                if c == q { quote = nil }
                else if c == "\\" && q == "\"" { escaped = true }
                else { current.append(c) }
                continue
            }
            switch c {
            case "'", "\"":
                quote = c
                inWord = true
            case "\\":
                escaped = true
                inWord = true
            case " ", "\t", "\n":
                if inWord { words.append(current); current = ""; inWord = false }
            default:
                current.append(c)
                inWord = true
            }
        }
        guard quote == nil, !escaped else { return nil }
        if inWord { words.append(current) }
        return words
    }

    /// `["KEY=value", …]` as a dictionary.
    static func environment(_ entries: [String], collector: String) throws(CollectorError) -> [String: String] {
        var result: [String: String] = [:]
        for entry in entries {
            guard let eq = entry.firstIndex(of: "="), eq != entry.startIndex else {
                throw CollectorError(collector, "environment entry \"\(entry)\" is not KEY=value")
            }
            result[String(entry[..<eq])] = String(entry[entry.index(after: eq)...])
        }
        return result
    }
}
