import Logging
import Engine
import Foundation
import Synchronization
import PluginSupervisor
import TockModel
import UDFProtocol

/// The runtime node of one `@name()` in one task: a UDF process (or socket connection) of its own.
///
/// - Data: stream edges send one `point` per point; batch edges send `begin`, the points, `end`. The requests
///   of the messages the executor hands over in one go are written to the UDF together: the first one schedules a
///   flush on the executor, behind the rest of the burst (one write and one wake-up of the writer per burst).
///   What the UDF answers is handed to the task from the connection's reader thread, one executor job per burst
///   of the UDF's output.
/// - Back-pressure: ``receive(_:port:output:)`` blocks while the UDF is not keeping up (a bounded
///   buffer in front of the pipe is full), and while the UDF is restarting. Run the task's executor on
///   a thread that may block, as Kapacitor's goroutines do.
/// - Failure: a crash, a missed keepalive, an `ErrorResponse`, a malformed or oversized frame or an
///   unexpected response ends the process. With ``RestartPolicy/stop`` the node reports it once with
///   ``NodeOutput/fail(_:)``, after handing over everything the UDF emitted before failing; messages
///   that arrive meanwhile are dropped without an error each (the task is ending with that one). With ``RestartPolicy/restart`` it starts the UDF again after an
///   exponential backoff (100ms doubling up to `restart-max-backoff`), sends Init again, restores
///   the last snapshot and resumes. Data in flight at the crash (sent but not yet answered, or
///   processed since the last snapshot) is lost; a message whose send failed is sent again to the
///   restarted process.
/// - Snapshots: every `snapshotInterval` of wall-clock time (Kapacitor's `[task] snapshot-interval`), never
///   when the task stops (Kapacitor's task snapshotter takes none then either: task.go `runSnapshotter`).
///   A UDF that answers a snapshot request with an error (Kapacitor's own Python examples set the bytes
///   field to a `str`, which fails under Python 3, and their agent then exits) is a warning naming the UDF
///   with its last stderr lines, never a failed task: the UDF keeps running; when it exits after such an
///   answer it is started again without state, whatever the restart policy (the request was the host's, not
///   the data's). A node whose UDF failed a snapshot is not snapshotted on the interval again.
/// - Stop: closes the UDF's input, returns ``StopResult/pending`` and
///   later calls exactly one of ``NodeOutput/finish()`` (drained) or ``NodeOutput/fail(_:)``.
public final class UDFNode: Node, @unchecked Sendable {
    public let function: UDFFunctionConfiguration
    public let info: UDFInfo
    public let taskID: String
    public let nodeID: String

    private let options: [UDFOption]
    private let snapshots: UDFSnapshotStore
    private let snapshotInterval: Int64

    private enum State {
        case idle
        case running(UDFSession)
        case restarting
        case stopping(UDFSession)
        case failed(UDFError)
        case stopped
    }

    private let lock = ConditionLock()
    // Guarded by `lock`.
    private var state: State = .idle
    private var output: (any NodeOutput)?
    private var restarts = 0
    private var backoff: Int64 = UDFNode.initialBackoff
    private var nextSnapshot: UInt64 = 0
    /// Set once the UDF failed a snapshot: it is not asked again on the interval (each failure may end it, and
    /// what it was sent but had not answered then is lost).
    private var snapshotsFailing = false
    private var pointsBefore = 0
    /// Executor state: a flush of the session's pending requests is scheduled on the executor.
    private var flushScheduled = false

    static let initialBackoff: Int64 = 100 * GoDuration.millisecond

    /// A node for `function` whose Info is `info`; `options` as set in the script.
    public init(function: UDFFunctionConfiguration, info: UDFInfo, taskID: String, nodeID: String,
                options: [UDFOption], snapshots: UDFSnapshotStore, snapshotInterval: Int64 = GoDuration.minute) throws(UDFError) {
        self.function = function
        self.info = info
        self.taskID = taskID
        self.nodeID = nodeID
        self.snapshots = snapshots
        self.snapshotInterval = snapshotInterval
        for option in options where info.options[option.name] == nil {
            throw UDFError(udf: function.name, nodeID: nodeID,
                           reason: .badOption("\(option.name) is not declared in its Info"))
        }
        do throws(WireError) {
            _ = try UDFWire.initRequest(taskID: taskID, nodeID: nodeID, options: options)
        } catch {
            throw UDFError(udf: function.name, nodeID: nodeID, reason: error.reason)
        }
        self.options = options
    }

    /// How many times the UDF was started again after a failure.
    public var restartCount: Int { lock.withLock { restarts } }

    /// Points sent to the UDF so far, over all its processes.
    public var pointsSent: Int {
        lock.withLock {
            switch state {
            case .running(let s), .stopping(let s): return pointsBefore + s.pointsSent
            default: return pointsBefore
            }
        }
    }

    /// The UDF's process ID while it runs as a child process.
    public var processID: Int32? {
        lock.withLock {
            if case .running(let s) = state { return s.pid }
            return nil
        }
    }

    // MARK: Node

    public func start(output: any NodeOutput) throws {
        lock.withLock { self.output = output }
        let session = try openSession(output: output)
        lock.withLock {
            state = .running(session)
            nextSnapshot = monotonicNanos() + UInt64(max(snapshotInterval, 0))
            lock.broadcast()
        }
    }

    public func receive(_ message: Message, port: Int, output: any NodeOutput) throws {
        while true {
            // Failed: the failure is on its way to the task, which ends with it; don't repeat it per message.
            guard let session = try currentSession(unlessFailed: true) else { return }
            if session.send(message, wake: false) {
                scheduleFlush(output: output)
                return
            }
            // The process failed under us: wait until the failure has been dealt with, then retry.
            lock.withLock {
                while case .running(let s) = state, s === session { lock.wait() }
            }
        }
    }

    /// Has the executor flush the running session once it has handed over what is queued before (executor only).
    /// The flush goes to the session running then, so requests sent to a restarted UDF are not left behind.
    private func scheduleFlush(output: any NodeOutput) {
        if flushScheduled { return }
        flushScheduled = true
        output.perform { [self] in
            flushScheduled = false
            let session: UDFSession? = lock.withLock {
                switch state {
                case .running(let s), .stopping(let s): return s
                default: return nil
                }
            }
            session?.flush()
        }
    }

    public func stop(output: any NodeOutput) -> StopResult {
        lock.lock()
        switch state {
        case .running(let session):
            state = .stopping(session)
            lock.unlock()
            session.closeInput()
            return .pending
        case .restarting, .idle:
            state = .stopped
            lock.broadcast()
            lock.unlock()
            return .done
        case .stopping:
            lock.unlock()
            return .pending
        case .failed:
            // The failure was reported with `fail`, after what the UDF emitted before it: the task ends
            // with it once those have been handled.
            lock.unlock()
            return .pending
        case .stopped:
            lock.unlock()
            return .done
        }
    }

    // MARK: Control

    /// Asks the UDF for a snapshot now, waits for it and stores it; returns its bytes.
    @discardableResult
    public func snapshot() throws -> [UInt8] {
        let session = try currentSession()!
        let bytes = try session.snapshot()
        return bytes
    }

    /// Stops the UDF at once (SIGTERM, then SIGKILL), without a last snapshot and without reporting
    /// to the task. For shutting down a host whose tasks are gone.
    public func terminate() {
        let session: UDFSession? = lock.withLock {
            defer {
                state = .stopped
                lock.broadcast()
            }
            switch state {
            case .running(let s), .stopping(let s): return s
            default: return nil
            }
        }
        session?.abort("the host is shutting down")
    }

    // MARK: Sessions

    /// The running session, waiting while the UDF restarts; throws when there is none (`nil` instead when
    /// the node failed and `unlessFailed` is set).
    private func currentSession(unlessFailed: Bool = false) throws(UDFError) -> UDFSession? {
        try lock.withLock { () throws(UDFError) -> UDFSession? in
            while true {
                switch state {
                case .running(let s): return s
                case .restarting: lock.wait()
                case .failed(let error):
                    if unlessFailed { return nil }
                    throw error
                case .idle: throw notRunning("it has not been started")
                case .stopping, .stopped: throw notRunning("it is stopping")
                }
            }
        }
    }

    private func notRunning(_ why: String) -> UDFError {
        UDFError(udf: function.name, nodeID: nodeID, reason: .notRunning(why))
    }

    /// Starts a process, initializes it with the script's options and restores the last snapshot (unless
    /// `restoring` is off: a restart without state).
    private func openSession(output: any NodeOutput, restoring: Bool = true) throws(UDFError) -> UDFSession {
        let name = function.name
        let store = snapshots
        let (taskID, nodeID) = (self.taskID, self.nodeID)
        let session = try UDFSession(
            function: function, nodeID: nodeID, provides: info.provides, tickInterval: snapshotInterval,
            handlers: .init(
                data: { burst in
                    if burst.count == 1 {
                        output.post(burst[0])
                    } else {
                        output.perform { for message in burst { output.emit(message) } }
                    }
                },
                snapshot: { store.save($0, taskID: taskID, nodeID: nodeID) },
                snapshotFailed: { [weak self] message in self?.snapshotFailed(message, output: output) },
                log: { output.logger.info("UDF \(name): \($0)", metadata: ["udf": .string(name)]) },
                tick: { [weak self] in self?.tick() },
                ended: { [weak self] session, error in self?.sessionEnded(session, error) }))
        do throws(UDFError) {
            try session.initialize(taskID: taskID, nodeID: nodeID, options: options)
            if restoring, let snapshot = snapshots.snapshot(taskID: taskID, nodeID: nodeID), !snapshot.isEmpty {
                try session.restore(snapshot)
            }
        } catch {
            session.abort(error.reasonText)
            throw error
        }
        return session
    }

    private func tick() {
        guard snapshotInterval > 0 else { return }
        let session: UDFSession? = lock.withLock {
            guard !snapshotsFailing, case .running(let s) = state, monotonicNanos() >= nextSnapshot else { return nil }
            nextSnapshot = monotonicNanos() + UInt64(snapshotInterval)
            return s
        }
        session?.requestSnapshot()
    }

    /// The UDF answered a snapshot request with an error: a warning with its last stderr lines.
    private func snapshotFailed(_ message: String, output: any NodeOutput) {
        let session: UDFSession? = lock.withLock {
            snapshotsFailing = true
            if case .running(let s) = state { return s }
            if case .stopping(let s) = state { return s }
            return nil
        }
        let warning = UDFError(udf: function.name, nodeID: nodeID, reason: .snapshotFailed(message),
                               stderrTail: session?.recentStderr ?? [])
        output.logger.warning("\(warning); the task goes on without its snapshot, and it is not asked for one again",
                              metadata: Self.metadata(udf: function.name, stderr: warning.stderrTail))
    }

    private func sessionEnded(_ session: UDFSession, _ error: UDFError?) {
        lock.lock()
        switch state {
        case .running(let current) where current === session:
            pointsBefore += session.pointsSent
            let error = error ?? UDFError(udf: function.name, nodeID: nodeID,
                                          reason: .connection(.protocolError("ended its output while running")))
            if let failure = session.snapshotFailure {
                // It exited after failing a snapshot (Kapacitor's agent does): start it again, without state.
                restarts += 1
                let attempt = restarts
                state = .restarting
                lock.broadcast()
                let output = self.output
                lock.unlock()
                output?.logger.warning("UDF \"\(function.name)\" (node \(nodeID)) could not snapshot (\(failure)) and then ended: \(error.reasonText)\(Self.stderrSuffix(error.stderrTail)); restarting it without state (restart \(attempt))",
                                       metadata: Self.metadata(udf: function.name, stderr: error.stderrTail))
                startThread(name: "restart:" + nodeID) { [self] in restartLoop(after: 0, restoring: false) }
                return
            }
            guard function.restart == .restart else {
                state = .failed(error)
                lock.broadcast()
                lock.unlock()
                output?.fail(error)
                return
            }
            if Int64(monotonicNanos() - session.startedAt) > function.restartMaxBackoff {
                backoff = UDFNode.initialBackoff
            }
            let delay = backoff
            backoff = min(backoff * 2, function.restartMaxBackoff)
            restarts += 1
            let attempt = restarts
            state = .restarting
            lock.broadcast()
            let output = self.output
            lock.unlock()
            output?.logger.error("\(error); restarting in \(GoDuration.format(delay)) (restart \(attempt))",
                                 metadata: Self.metadata(udf: function.name, stderr: error.stderrTail))
            startThread(name: "restart:" + nodeID) { [self] in restartLoop(after: delay) }
        case .stopping(let current) where current === session:
            pointsBefore += session.pointsSent
            if let error, let failure = session.snapshotFailure {
                // Ended after a failed snapshot, while stopping: drained as far as it could; not a failed task.
                state = .stopped
                lock.broadcast()
                lock.unlock()
                output?.logger.warning("UDF \"\(function.name)\" (node \(nodeID)) could not snapshot (\(failure)) and ended while stopping: \(error.reasonText)",
                                       metadata: Self.metadata(udf: function.name, stderr: error.stderrTail))
                output?.finish()
            } else if let error {
                state = .failed(error)
                lock.broadcast()
                lock.unlock()
                output?.fail(error)
            } else {
                state = .stopped
                lock.broadcast()
                lock.unlock()
                output?.finish()
            }
        default:
            lock.unlock()
        }
    }

    /// A UDF line's metadata: the UDF's name as `udf` and, when it wrote any, its last stderr lines (at most 10, one
    /// per line) as `stderr`.
    private static func metadata(udf: String, stderr tail: [String] = []) -> Logger.Metadata {
        var metadata: Logger.Metadata = ["udf": .string(udf)]
        if !tail.isEmpty { metadata["stderr"] = .string(tail.suffix(10).joined(separator: "\n")) }
        return metadata
    }

    private static func stderrSuffix(_ tail: [String]) -> String {
        tail.isEmpty ? "" : "; last stderr: " + tail.suffix(10).map { $0.trimmingCharacters(in: .whitespaces) }
            .joined(separator: " | ")
    }

    private func restartLoop(after initialDelay: Int64, restoring: Bool = true) {
        var delay = initialDelay
        while true {
            let deadline = monotonicNanos() + UInt64(delay)
            let proceed: Bool = lock.withLock {
                while case .restarting = state, monotonicNanos() < deadline { lock.wait(until: deadline) }
                if case .restarting = state { return true }
                return false
            }
            guard proceed, let output = lock.withLock({ self.output }) else { return }
            do throws(UDFError) {
                let session = try openSession(output: output, restoring: restoring)
                let kept: Bool = lock.withLock {
                    guard case .restarting = state else { return false }
                    state = .running(session)
                    nextSnapshot = monotonicNanos() + UInt64(max(snapshotInterval, 0))
                    lock.broadcast()
                    return true
                }
                if kept {
                    output.logger.info("UDF \(function.name) restarted", metadata: Self.metadata(udf: function.name))
                } else {
                    session.closeInput()
                }
                return
            } catch {
                if error.isPermanent {
                    let report: Bool = lock.withLock {
                        guard case .restarting = state else { return false }
                        state = .failed(error)
                        lock.broadcast()
                        return true
                    }
                    if report { output.fail(error) }
                    return
                }
                let next: Int64 = lock.withLock {
                    let d = backoff
                    backoff = min(backoff * 2, function.restartMaxBackoff)
                    restarts += 1
                    return d
                }
                output.logger.error("\(error); restarting in \(GoDuration.format(next))",
                                    metadata: Self.metadata(udf: function.name, stderr: error.stderrTail))
                delay = next
            }
        }
    }
}
