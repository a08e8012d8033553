import Foundation
import Glibc
import Synchronization

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

/// A program started with pipes on its stdin, stdout and stderr, in a process group of its own.
///
/// Stopping it stops what it started too. When the program has exited (by itself or by a signal), and
/// before its exit status is collected, the supervisor looks for what it left behind: the members of its
/// process group, and processes carrying its marker variable (``markerVariable``) in their environment,
/// which finds descendants that moved to a session of their own with `setsid`. Those get SIGTERM, then
/// SIGKILL after the grace period. The program's pid, which is also its group's id, stays reserved until
/// its status is collected, so the group signals cannot reach an unrelated process.
package final class ChildProcess: @unchecked Sendable {
    /// The environment variable every child (and, by inheritance, its descendants) carries, set to a value
    /// unique to the child: `TOCK_SUPERVISED=<host pid>-<n>`.
    package static let markerVariable = "TOCK_SUPERVISED"

    package let pid: pid_t
    /// The write end of the child's stdin.
    package let stdinFD: Int32
    /// The read end of the child's stdout.
    package let stdoutFD: Int32
    /// The read end of the child's stderr.
    package let stderrFD: Int32
    /// `TOCK_SUPERVISED=…` as found in the child's environment.
    package let marker: String
    /// How long leftover descendants get between SIGTERM and SIGKILL.
    package let grace: UInt64

    private enum State {
        case running
        /// The program exited; one thread is stopping its leftovers before collecting its status.
        case settling
        case ended(Termination)
    }

    private let lock = ConditionLock()
    private var state = State.running

    private init(pid: pid_t, stdinFD: Int32, stdoutFD: Int32, stderrFD: Int32, marker: String, grace: UInt64) {
        self.pid = pid
        self.stdinFD = stdinFD
        self.stdoutFD = stdoutFD
        self.stderrFD = stderrFD
        self.marker = marker
        self.grace = grace
    }

    private static let counter = Atomic<Int>(0)

    /// Starts `program` (looked up in `PATH` when it has no `/`) with `arguments`, this process's
    /// environment plus `environment`, in a new process group.
    /// - Parameter grace: how long what the program leaves behind gets between SIGTERM and SIGKILL.
    package static func spawn(program: String, arguments: [String], environment: [String: String],
                      grace: UInt64 = 1_000_000_000) throws(SpawnError) -> ChildProcess {
        ignoreSIGPIPE
        var env = ProcessInfo.processInfo.environment
        for (k, v) in environment { env[k] = v }
        let markerValue = "\(getpid())-\(counter.add(1, ordering: .relaxed).newValue)"
        env[markerVariable] = markerValue
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
        return ChildProcess(pid: pid, stdinFD: stdinPipe[1], stdoutFD: stdoutPipe[0], stderrFD: stderrPipe[0],
                            marker: markerVariable + "=" + markerValue, grace: grace)
    }

    /// How the process ended, once it has been reaped.
    package var exitStatus: Termination? {
        lock.withLock {
            if case .ended(let t) = state { return t }
            return nil
        }
    }

    /// Waits up to `timeout` nanoseconds for the process to exit, stops what it left behind, and reaps it.
    /// Returns `nil` when it is still running.
    @discardableResult
    package func waitForExit(timeout: UInt64) -> Termination? {
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

    /// Reaps the process if it has exited, after stopping its leftovers. Blocks only while that is being
    /// done (by this thread or another).
    private func reap() -> Termination? {
        lock.lock()
        while true {
            switch state {
            case .ended(let t):
                lock.unlock()
                return t
            case .settling:
                // Bounded: the leftovers get the grace period, then SIGKILL.
                lock.wait()
            case .running:
                guard hasExited() else {
                    lock.unlock()
                    return nil
                }
                state = .settling
                lock.unlock()
                stopLeftovers()
                var status: Int32 = 0
                var r: pid_t
                repeat { r = waitpid(pid, &status, 0) } while r == -1 && errno == EINTR
                // ECHILD: reaped elsewhere (should not happen): report it as gone.
                let t = r == pid ? Termination(waitStatus: status) : .exited(-1)
                lock.withLock {
                    state = .ended(t)
                    lock.broadcast()
                }
                return t
            }
        }
    }

    /// Whether the process has exited, without collecting its status (so its pid stays reserved).
    private func hasExited() -> Bool {
        var info = siginfo_t()
        let r = waitid(P_PID, id_t(pid), &info, WEXITED | WNOHANG | WNOWAIT)
        if r == -1 { return errno == ECHILD }
        return info._sifields._kill.si_pid == pid
    }

    /// The live processes the exited program left behind: its group's members and its marked descendants.
    private func leftovers() -> Set<pid_t> {
        var pids = Set(ProcessTable.read().members(ofGroup: pid).filter { !$0.isZombie && $0.pid != pid }.map(\.pid))
        for p in ProcessTable.carrying(marker: marker) where p != pid {
            if let entry = ProcessTable.entry(pid: p), !entry.isZombie { pids.insert(p) }
        }
        return pids
    }

    /// SIGTERM to what the program left behind, then SIGKILL after the grace period to what is still there.
    private func stopLeftovers() {
        var left = leftovers()
        guard !left.isEmpty else { return }
        _ = kill(-pid, SIGTERM)
        for p in left { _ = kill(p, SIGTERM) }
        let deadline = monotonicNanos() + grace
        while !left.isEmpty && monotonicNanos() < deadline {
            sleepNanos(20_000_000)
            left = leftovers()
        }
        guard !left.isEmpty else { return }
        _ = kill(-pid, SIGKILL)
        for p in left { _ = kill(p, SIGKILL) }
        let killDeadline = monotonicNanos() + 1_000_000_000
        while !left.isEmpty && monotonicNanos() < killDeadline {
            sleepNanos(10_000_000)
            left = leftovers()
        }
    }

    /// Sends `signal` to the child's whole process group, while its status has not been collected (the
    /// group's id may afterwards name an unrelated group; while the leftovers are being stopped, they get
    /// their signals from that).
    package func signalGroup(_ signal: Int32) {
        lock.withLock {
            if case .running = state { _ = kill(-pid, signal) }
        }
    }

    /// Stops the process: waits `grace` for it to exit by itself, then SIGTERM to its group, another
    /// `grace`, then SIGKILL. Returns how it ended.
    @discardableResult
    package func terminate(grace: UInt64) -> Termination {
        if let t = waitForExit(timeout: grace) { return t }
        signalGroup(SIGTERM)
        if let t = waitForExit(timeout: grace) { return t }
        signalGroup(SIGKILL)
        return waitForExit(timeout: 5_000_000_000 + 2 * self.grace) ?? .signaled(SIGKILL)
    }
}

/// A program that could not be started.
public struct SpawnError: Error, Sendable, CustomStringConvertible {
    public var program: String
    public var reason: String
    public var description: String { "cannot start \(program): \(reason)" }
}

/// The host writes to pipes and sockets whose reader may be gone: it wants `EPIPE`, not a signal.
package let ignoreSIGPIPE: Void = {
    signal(SIGPIPE, SIG_IGN)
}()

private func withCStrings<R>(_ strings: [String], _ body: (UnsafePointer<UnsafeMutablePointer<CChar>?>) -> R) -> R {
    var pointers: [UnsafeMutablePointer<CChar>?] = strings.map { strdup($0) }
    pointers.append(nil)
    defer { for p in pointers { free(p) } }
    return pointers.withUnsafeBufferPointer { body($0.baseAddress!) }
}
