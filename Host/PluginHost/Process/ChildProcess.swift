import Foundation
import Glibc

/// How a child process ended.
public enum Termination: Sendable, Hashable, CustomStringConvertible {
    case exited(Int32)
    case signaled(Int32)

    public var description: String {
        switch self {
        case .exited(let status): return "exited with status \(status)"
        case .signaled(let signal): return "was killed by signal \(signal) (\(Termination.signalName(signal)))"
        }
    }

    /// Whether the process exited by itself with status 0.
    public var isSuccess: Bool { self == .exited(0) }

    static func signalName(_ signal: Int32) -> String {
        switch signal {
        case SIGHUP: return "SIGHUP"
        case SIGINT: return "SIGINT"
        case SIGQUIT: return "SIGQUIT"
        case SIGILL: return "SIGILL"
        case SIGABRT: return "SIGABRT"
        case SIGBUS: return "SIGBUS"
        case SIGFPE: return "SIGFPE"
        case SIGKILL: return "SIGKILL"
        case SIGSEGV: return "SIGSEGV"
        case SIGPIPE: return "SIGPIPE"
        case SIGALRM: return "SIGALRM"
        case SIGTERM: return "SIGTERM"
        default: return "signal \(signal)"
        }
    }

    init(waitStatus status: Int32) {
        if status & 0x7f == 0 {
            self = .exited((status >> 8) & 0xff)
        } else {
            self = .signaled(status & 0x7f)
        }
    }
}

/// Serializes pipe creation and spawning so that no child inherits another child's pipe ends
/// between `pipe()` and `fcntl(FD_CLOEXEC)` (Glibc's `pipe2` is not visible to Swift).
private let spawnLock = ConditionLock()

/// A program started with pipes on its stdin, stdout and stderr, in a process group of its own
/// (so that stopping it also stops anything it started).
final class ChildProcess: @unchecked Sendable {
    let pid: pid_t
    /// The write end of the child's stdin.
    let stdinFD: Int32
    /// The read end of the child's stdout.
    let stdoutFD: Int32
    /// The read end of the child's stderr.
    let stderrFD: Int32

    private let lock = ConditionLock()
    private var termination: Termination?

    private init(pid: pid_t, stdinFD: Int32, stdoutFD: Int32, stderrFD: Int32) {
        self.pid = pid
        self.stdinFD = stdinFD
        self.stdoutFD = stdoutFD
        self.stderrFD = stderrFD
    }

    /// Starts `program` (looked up in `PATH` when it has no `/`) with `arguments`, this process's
    /// environment plus `environment`, in a new process group.
    static func spawn(program: String, arguments: [String], environment: [String: String]) throws(SpawnError) -> ChildProcess {
        ignoreSIGPIPE
        var env = ProcessInfo.processInfo.environment
        for (k, v) in environment { env[k] = v }
        let argv = [program] + arguments
        let envp = env.map { "\($0.key)=\($0.value)" }

        spawnLock.lock()
        defer { spawnLock.unlock() }
        var stdinPipe: [Int32] = [-1, -1], stdoutPipe: [Int32] = [-1, -1], stderrPipe: [Int32] = [-1, -1]
        func closeAll() {
            for fd in stdinPipe + stdoutPipe + stderrPipe where fd >= 0 { close(fd) }
        }
        guard pipe(&stdinPipe) == 0, pipe(&stdoutPipe) == 0, pipe(&stderrPipe) == 0 else {
            let e = errno
            closeAll()
            throw SpawnError(program: program, reason: "cannot create pipes: \(errnoDescription(e))")
        }
        for fd in stdinPipe + stdoutPipe + stderrPipe { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }
        // Larger pipes mean fewer wake-ups per point on a busy stream (Linux only; failure is harmless).
        _ = fcntl(stdinPipe[1], 1031 /* F_SETPIPE_SZ */, 1 << 20)
        _ = fcntl(stdoutPipe[1], 1031 /* F_SETPIPE_SZ */, 1 << 20)

        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_adddup2(&actions, stdinPipe[0], 0)
        posix_spawn_file_actions_adddup2(&actions, stdoutPipe[1], 1)
        posix_spawn_file_actions_adddup2(&actions, stderrPipe[1], 2)

        var attr = posix_spawnattr_t()
        posix_spawnattr_init(&attr)
        defer { posix_spawnattr_destroy(&attr) }
        var noSignals = sigset_t()
        sigemptyset(&noSignals)
        var allSignals = sigset_t()
        sigfillset(&allSignals)
        posix_spawnattr_setsigmask(&attr, &noSignals)
        posix_spawnattr_setsigdefault(&attr, &allSignals)
        posix_spawnattr_setpgroup(&attr, 0)
        posix_spawnattr_setflags(&attr, Int16(POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK))

        var pid: pid_t = 0
        let rc = withCStrings(argv) { cArgv in
            withCStrings(envp) { cEnvp in
                program.contains("/")
                    ? posix_spawn(&pid, program, &actions, &attr, cArgv, cEnvp)
                    : posix_spawnp(&pid, program, &actions, &attr, cArgv, cEnvp)
            }
        }
        close(stdinPipe[0])
        close(stdoutPipe[1])
        close(stderrPipe[1])
        guard rc == 0 else {
            close(stdinPipe[1])
            close(stdoutPipe[0])
            close(stderrPipe[0])
            throw SpawnError(program: program, reason: errnoDescription(rc))
        }
        return ChildProcess(pid: pid, stdinFD: stdinPipe[1], stdoutFD: stdoutPipe[0], stderrFD: stderrPipe[0])
    }

    /// How the process ended, once it has been reaped.
    var exitStatus: Termination? { lock.withLock { termination } }

    /// Waits up to `timeout` nanoseconds for the process to exit and reaps it.
    /// Returns `nil` when it is still running.
    @discardableResult
    func waitForExit(timeout: UInt64) -> Termination? {
        let deadline = monotonicNanos() + timeout
        var pause: UInt64 = 1_000_000
        while true {
            if let t = reap() { return t }
            let now = monotonicNanos()
            if now >= deadline { return nil }
            sleepNanos(min(pause, deadline - now))
            pause = min(pause * 2, 20_000_000)
        }
    }

    /// Reaps the process if it has exited (never blocks).
    private func reap() -> Termination? {
        lock.withLock {
            if let t = termination { return t }
            var status: Int32 = 0
            let r = waitpid(pid, &status, WNOHANG)
            if r == pid {
                termination = Termination(waitStatus: status)
            } else if r == -1 && errno == ECHILD {
                // Reaped elsewhere (should not happen): report it as gone.
                termination = .exited(-1)
            }
            return termination
        }
    }

    /// Sends `signal` to the child's whole process group.
    func signalGroup(_ signal: Int32) {
        _ = kill(-pid, signal)
    }

    /// Stops the process: waits `grace` for it to exit by itself, then SIGTERM to its group, another
    /// `grace`, then SIGKILL. Returns how it ended.
    @discardableResult
    func terminate(grace: UInt64) -> Termination {
        if let t = waitForExit(timeout: grace) { return t }
        signalGroup(SIGTERM)
        if let t = waitForExit(timeout: grace) { return t }
        signalGroup(SIGKILL)
        return waitForExit(timeout: 5_000_000_000) ?? .signaled(SIGKILL)
    }
}

/// A program that could not be started.
public struct SpawnError: Error, Sendable, CustomStringConvertible {
    public var program: String
    public var reason: String
    public var description: String { "cannot start \(program): \(reason)" }
}

/// The host writes to pipes and sockets whose reader may be gone: it wants `EPIPE`, not a signal.
let ignoreSIGPIPE: Void = {
    signal(SIGPIPE, SIG_IGN)
}()

private func withCStrings<R>(_ strings: [String], _ body: (UnsafePointer<UnsafeMutablePointer<CChar>?>) -> R) -> R {
    var pointers: [UnsafeMutablePointer<CChar>?] = strings.map { strdup($0) }
    pointers.append(nil)
    defer { for p in pointers { free(p) } }
    return pointers.withUnsafeBufferPointer { body($0.baseAddress!) }
}
