import Glibc
import Synchronization

/// A program run to completion with a deadline, its output collected: Telegraf's `exec` inputs run one per gather.
///
/// It runs in a process group of its own; at the deadline the group gets SIGTERM, then SIGKILL after the grace
/// period, and everything it started is stopped and reaped (see ``ChildProcess``).
public enum OneShotProcess {
    /// What the program wrote and how it ended.
    public struct Result: Sendable {
        /// Its stdout, cut at ``maxOutput`` bytes.
        public var stdout: [UInt8]
        /// Its last stderr lines.
        public var stderrTail: [String]
        public var termination: Termination
        /// Whether the deadline stopped it.
        public var timedOut: Bool
        /// Whether stdout went over the limit (what followed was discarded).
        public var truncated: Bool
    }

    /// Runs `program` with `arguments` (and `environment` added to this process's), stdin empty, for at most
    /// `timeout` nanoseconds.
    public static func run(program: String, arguments: [String], environment: [String: String] = [:],
                           timeout: UInt64, grace: UInt64 = 1_000_000_000, maxOutput: Int = 16 << 20,
                           stderrLinesKept: Int = 20) throws(SpawnError) -> Result {
        let child = try ChildProcess.spawn(program: program, arguments: arguments, environment: environment, grace: grace)
        close(child.stdinFD)
        let out = Mutex<(bytes: [UInt8], truncated: Bool)>(([], false))
        let err = Mutex<[UInt8]>([])
        let done = DispatchGroupLite(count: 2)
        startThread(name: "o:\(program)") {
            drain(child.stdoutFD) { chunk in
                out.withLock { o in
                    let room = maxOutput - o.bytes.count
                    if chunk.count > room { o.truncated = true }
                    o.bytes.append(contentsOf: chunk.prefix(max(0, room)))
                }
            }
            done.leave()
        }
        startThread(name: "e:\(program)") {
            drain(child.stderrFD) { chunk in
                err.withLock { e in
                    e.append(contentsOf: chunk)
                    // Only the tail matters.
                    if e.count > 64 << 10 { e.removeFirst(e.count - (32 << 10)) }
                }
            }
            done.leave()
        }
        var timedOut = false
        var termination = child.waitForExit(timeout: timeout)
        if termination == nil {
            timedOut = true
            child.signalGroup(SIGTERM)
            termination = child.waitForExit(timeout: grace)
            if termination == nil {
                child.signalGroup(SIGKILL)
                termination = child.waitForExit(timeout: 5_000_000_000) ?? .signaled(SIGKILL)
            }
        }
        done.wait(timeout: grace + 1_000_000_000)
        let stderrText = String(decoding: err.withLock { $0 }, as: UTF8.self)
        let lines = stderrText.split(separator: "\n").suffix(stderrLinesKept).map(String.init)
        let o = out.withLock { $0 }
        return Result(stdout: o.bytes, stderrTail: lines, termination: termination!, timedOut: timedOut, truncated: o.truncated)
    }

    private static func drain(_ fd: Int32, _ chunk: ([UInt8]) -> Void) {
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { break }
            chunk(Array(buffer[0..<n]))
        }
        close(fd)
    }
}

/// Waits for a number of threads to finish, with a deadline.
package final class DispatchGroupLite: Sendable {
    private let left: Mutex<Int>
    package init(count: Int) { left = Mutex(count) }
    package func leave() { left.withLock { $0 -= 1 } }
    package func wait(timeout: UInt64) {
        let deadline = monotonicNanos() + timeout
        while left.withLock({ $0 }) > 0 && monotonicNanos() < deadline { sleepNanos(2_000_000) }
    }
}
