import Glibc
import Synchronization

/// The processes below this one: made to come back to it when their parents die, collected when they
/// end, and stopped when the host exits.
///
/// `tock serve` and `tock run` call ``becomeSubreaper()`` at start and ``terminateAll(grace:)`` before
/// they exit. A plugin's grandchild whose parent died is then reparented to the host instead of `init`,
/// so it can be found through the parent chain even after it left the plugin's process group and session.
///
/// The reaper never collects a process someone else waits for: the supervisor waits for each plugin by
/// pid, and Foundation's `Process` (alert `.exec()` handlers) does the same. Both start their children as
/// leaders of a new process group in this process's session, so the reaper only collects ended children
/// that are *not* such leaders: orphans reparented here.
public enum Descendants {
    private static let started = Atomic<Bool>(false)

    /// How often the reaper looks for ended orphans.
    static let reapInterval: UInt64 = 1_000_000_000

    /// Makes this process a Linux child subreaper (`PR_SET_CHILD_SUBREAPER`) and starts the thread that
    /// collects orphans reparented to it. Returns `false` when the kernel refused (the reaper is not started).
    @discardableResult
    public static func becomeSubreaper() -> Bool {
        guard setChildSubreaper() else { return false }
        if !started.exchange(true, ordering: .relaxed) {
            startThread(name: "tock-reaper") {
                while true {
                    sleepNanos(reapInterval)
                    reapOrphans()
                }
            }
        }
        return true
    }

    /// Stops every descendant of this process: SIGTERM, then SIGKILL after `grace` to those still running.
    /// Collects the orphans among them. Returns the pids that were signalled.
    @discardableResult
    public static func terminateAll(grace: Duration = .seconds(1)) -> [Int32] {
        let me = getpid()
        var live = liveDescendants(of: me)
        let signalled = live
        guard !live.isEmpty else { return [] }
        for pid in live { _ = kill(pid, SIGTERM) }
        let graceNanos = UInt64(max(grace.components.seconds, 0)) * 1_000_000_000
            + UInt64(max(grace.components.attoseconds / 1_000_000_000, 0))
        let deadline = monotonicNanos() + graceNanos
        while !live.isEmpty && monotonicNanos() < deadline {
            sleepNanos(20_000_000)
            reapOrphans()
            live = liveDescendants(of: me)
        }
        for pid in live { _ = kill(pid, SIGKILL) }
        let killDeadline = monotonicNanos() + 1_000_000_000
        while !live.isEmpty && monotonicNanos() < killDeadline {
            sleepNanos(10_000_000)
            live = liveDescendants(of: me)
        }
        reapOrphans()
        return signalled
    }

    /// The descendants of `pid` that have not ended.
    static func liveDescendants(of pid: pid_t) -> [pid_t] {
        ProcessTable.read().descendants(of: pid).filter { !$0.isZombie }.map(\.pid)
    }

    /// Collects the ended children of this process that are orphans reparented to it (see the type's
    /// discussion). Returns their pids.
    @discardableResult
    static func reapOrphans() -> [pid_t] {
        let me = getpid()
        let session = getsid(0)
        var reaped: [pid_t] = []
        for entry in ProcessTable.read().entries where entry.ppid == me && entry.isZombie {
            // A group leader in our session is one of ours: its starter collects it.
            if entry.processGroup == entry.pid && entry.session == session { continue }
            var status: Int32 = 0
            if waitpid(entry.pid, &status, WNOHANG) == entry.pid { reaped.append(entry.pid) }
        }
        return reaped
    }

    /// `prctl(PR_SET_CHILD_SUBREAPER, 1)`. `prctl` is variadic, which Swift does not import; on Linux's
    /// calling conventions a fixed-argument call through its address passes the same registers.
    private static func setChildSubreaper() -> Bool {
        typealias Prctl = @convention(c) (Int32, UInt, UInt, UInt, UInt) -> Int32
        guard let symbol = dlsym(nil /* RTLD_DEFAULT */, "prctl") else {
            return false
        }
        let prctl = unsafeBitCast(symbol, to: Prctl.self)
        return prctl(36 /* PR_SET_CHILD_SUBREAPER */, 1, 0, 0, 0) == 0
    }
}
