import Engine
import Foundation
import Synchronization
import TockModel

/// `.exec(prog, args...)` / topic handler kind `exec`: runs the program for every event with the JSON line on its
/// stdin (Kapacitor's services/alert/handlers.go `ExecHandlerConfig`: `prog`, `args`). No kapacitor.conf section.
///
/// Unlike Kapacitor, which waits for the program forever, the attempt's timeout ends it: its whole process group gets
/// SIGTERM, then SIGKILL after ``ExecSender/killGrace``.
public struct ExecService: AlertServiceKind {
    public static let kind = "exec"
    public static let section = ConfigSectionSpec.none

    public init(elements: [ConfigTable]) throws(ConfigError) {}

    public var elements: [ConfigTable] { [] }

    public func makeSender(options: [String: HandlerOption]) throws(HandlerOptionError) -> any AlertSender {
        var r = OptionReader(options, kind: Self.kind)
        let program = try r.string("prog") ?? ""
        let arguments = try r.strings("args") ?? []
        try r.finish()
        guard !program.isEmpty else { throw HandlerOptionError("alert .exec() needs a program", option: "prog") }
        return ExecSender(program: program, arguments: arguments)
    }
}

struct ExecSender: AlertSender {
    let program: String
    let arguments: [String]

    /// How long a program has between SIGTERM and SIGKILL.
    static let killGrace: Duration = .seconds(2)

    var description: String { "exec \(([program] + arguments).joined(separator: " "))" }

    /// A program that cannot be started is a permanent failure; a non-zero exit or a signal is retryable, naming the
    /// exit status and the last lines of the program's output.
    func send(_ event: AlertEvent) async throws(DeliveryFailure) {
        let body = event.jsonLine
        let child: Child
        do { child = try Child.spawn(try Self.resolve(program), arguments: arguments) } catch {
            throw .permanent("\(program): \(error)")
        }
        let outcome = await withTaskCancellationHandler {
            await offload { child.run(stdin: body) }
        } onCancel: {
            child.terminate(grace: Self.killGrace)
        }
        if outcome.status == 0 && outcome.signal == nil { return }
        let how = outcome.signal.map { "killed by signal \($0)" } ?? "exit status \(outcome.status)"
        let tail = outcome.lastLines.isEmpty ? "" : "; last output: \(outcome.lastLines)"
        throw .retryable("\(program) failed: \(how)\(tail)")
    }

    /// `program` itself when it holds a slash, else the first match on `PATH` (as Go's exec.LookPath).
    static func resolve(_ program: String) throws(ExecError) -> String {
        if program.contains("/") { return program }
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin"
        for dir in path.split(separator: ":") {
            let candidate = dir + "/" + program
            if access(candidate, X_OK) == 0 { return candidate }
        }
        throw ExecError("executable file not found in PATH")
    }
}

struct ExecError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// A started program in its own process group: its stdin (a socket, so writing to a program that exited is an
/// error rather than SIGPIPE) and its combined stdout and stderr.
final class Child: Sendable {
    let pid: pid_t
    private let input: Int32
    private let output: Int32
    /// Set once the child is reaped: its pid (and group id) may then belong to another process.
    private let reaped = Mutex(false)

    struct Outcome: Sendable {
        var status: Int32
        var signal: Int32?
        /// The last lines of output (at most 3 lines, 500 characters).
        var lastLines: String
    }

    private init(pid: pid_t, input: Int32, output: Int32) {
        self.pid = pid
        self.input = input
        self.output = output
    }

    static func spawn(_ path: String, arguments: [String]) throws(ExecError) -> Child {
        var pair: [Int32] = [-1, -1]
        var pipeFDs: [Int32] = [-1, -1]
        guard socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0, &pair) == 0 else {
            throw ExecError("cannot create its stdin: \(String(cString: strerror(errno)))")
        }
        guard pipe(&pipeFDs) == 0, fcntl(pipeFDs[0], F_SETFD, FD_CLOEXEC) == 0, fcntl(pipeFDs[1], F_SETFD, FD_CLOEXEC) == 0 else {
            let e = errno
            close(pair[0]); close(pair[1])
            throw ExecError("cannot create its output pipe: \(String(cString: strerror(e)))")
        }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_adddup2(&actions, pair[0], 0)
        posix_spawn_file_actions_adddup2(&actions, pipeFDs[1], 1)
        posix_spawn_file_actions_adddup2(&actions, pipeFDs[1], 2)
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        posix_spawnattr_setpgroup(&attributes, 0)
        var defaults = sigset_t()
        sigemptyset(&defaults)
        sigaddset(&defaults, SIGPIPE)
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGDEF))
        let argv = ([path] + arguments).map { strdup($0) } + [nil]
        defer { for a in argv { free(a) } }
        var pid: pid_t = 0
        let rc = posix_spawn(&pid, path, &actions, &attributes, argv, environ)
        close(pair[0])
        close(pipeFDs[1])
        guard rc == 0 else {
            close(pair[1]); close(pipeFDs[0])
            throw ExecError("cannot run it: \(String(cString: strerror(rc)))")
        }
        return Child(pid: pid, input: pair[1], output: pipeFDs[0])
    }

    /// Writes `stdin`, reads the output to its end and waits for the program (blocking).
    func run(stdin: [UInt8]) -> Outcome {
        var offset = 0
        while offset < stdin.count {
            let n = stdin.withUnsafeBufferPointer { send(input, $0.baseAddress! + offset, $0.count - offset, Int32(MSG_NOSIGNAL)) }
            if n < 0 { if errno == EINTR { continue } else { break } }
            offset += n
        }
        close(input)
        var tail: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let n = buffer.withUnsafeMutableBytes { read(output, $0.baseAddress, $0.count) }
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { break }
            tail += buffer[0..<n]
            if tail.count > 8192 { tail.removeFirst(tail.count - 8192) }
        }
        close(output)
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        reaped.withLock { $0 = true }
        let text = String(decoding: tail, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        let lines = text.split(separator: "\n", omittingEmptySubsequences: true).suffix(3).joined(separator: " | ")
        let last = lines.count > 500 ? "…" + lines.suffix(500) : lines
        if status & 0x7f == 0 { return Outcome(status: (status >> 8) & 0xff, signal: nil, lastLines: last) }
        return Outcome(status: -1, signal: status & 0x7f, lastLines: last)
    }

    /// SIGTERM to the program's process group, SIGKILL after `grace` if it is still there.
    func terminate(grace: Duration) {
        signalGroup(SIGTERM)
        let ms = Int(grace.components.seconds * 1000 + grace.components.attoseconds / 1_000_000_000_000_000)
        DispatchQueue.global().asyncAfter(deadline: .now() + .milliseconds(ms)) { [self] in signalGroup(SIGKILL) }
    }

    private func signalGroup(_ signal: Int32) {
        reaped.withLock { done in if !done { _ = kill(-pid, signal) } }
    }
}
