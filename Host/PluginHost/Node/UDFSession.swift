import Engine
import Foundation
import Synchronization
import PluginSupervisor
import TockModel
import UDFProtocol

/// One connection to a UDF speaking Kapacitor's protocol: the Info/Init/Restore/Snapshot exchanges,
/// data both ways, and how the connection ended, told as a ``UDFError``.
///
/// Management responses are matched to the one request waiting for them; an unrequested one fails
/// the connection. Data responses are turned into points and batches on the reader thread and handed
/// to ``Handlers/data`` a burst at a time: everything one read of the UDF's output carried, in order.
final class UDFSession: @unchecked Sendable {
    struct Handlers: Sendable {
        /// The points and completed batches the UDF emitted in one burst (one read of its output), in order;
        /// never empty (reader thread).
        var data: @Sendable ([TockModel.Message]) -> Void = { _ in }
        /// A snapshot the UDF sent (reader thread).
        var snapshot: @Sendable ([UInt8]) -> Void = { _ in }
        /// The UDF answered a snapshot request with an error (reader thread): its message.
        var snapshotFailed: @Sendable (String) -> Void = { _ in }
        /// A line the UDF wrote to stderr.
        var log: @Sendable (String) -> Void = { _ in }
        /// Called on the watchdog thread at least every half timeout.
        var tick: @Sendable () -> Void = {}
        /// The end of the connection: `nil` after a clean close, else the failure.
        var ended: @Sendable (UDFSession, UDFError?) -> Void = { _, _ in }
    }

    private enum Awaited: String {
        case info = "Info", initialize = "Init", restore = "Restore"
    }

    let function: UDFFunctionConfiguration
    let nodeID: String?
    let startedAt = monotonicNanos()
    private let handlers: Handlers
    /// What the UDF says it emits; `nil` while unknown (the Info call itself).
    private let provides: EdgeType?
    private var connection: PluginConnection!
    private let points = Atomic<Int>(0)
    /// The data requests' encoder; used under the connection's send lock (in `send`'s closure).
    private var encoder = UDFRequestEncoder()

    private let lock = ConditionLock()
    // Guarded by `lock`.
    private var awaited: Awaited?
    private var answer: Agent_Response?
    private var snapshotsRequested = 0
    private var snapshotsReceived = 0
    private var lastSnapshot: [UInt8]?
    /// The error the UDF answered its last failed snapshot request with.
    private var lastSnapshotFailure: String?
    /// Tickets (counts of snapshots received) whose request the UDF answered with an error.
    private var failedSnapshotTickets: Set<Int> = []
    private var end: UDFError??
    /// Set once Init succeeded: failures from then on count the points sent.
    private var running = false

    // Reader-thread state: the batch being received, what the current burst carried so far, the decoder.
    private var begin: UDFBeginBatch?
    private var batchPoints: [BatchPoint] = []
    private var outbox: [TockModel.Message] = []
    /// The reader's decoder: it keeps the series of the points the UDF returns, decoded once each.
    private var decoder = UDFResponseDecoder()

    /// Starts the UDF's process (or dials its socket) and the connection's threads.
    /// - Parameter tickInterval: how often `handlers.tick` runs at least, in nanoseconds (0: with keepalives).
    init(function: UDFFunctionConfiguration, nodeID: String?, provides: EdgeType?, tickInterval: Int64 = 0,
         handlers: Handlers) throws(UDFError) {
        self.function = function
        self.nodeID = nodeID
        self.provides = provides
        self.handlers = handlers
        var options = PluginConnection.Options(label: function.name)
        options.tickInterval = UInt64(max(tickInterval, 0))
        options.maxFrameSize = function.maxFrameSize
        options.keepaliveTimeout = UInt64(function.timeout)
        // No longer allowance for the first answer than the configured timeout.
        options.startupTimeout = UInt64(function.timeout)
        options.grace = UInt64(min(max(function.timeout, 200 * GoDuration.millisecond), 5 * GoDuration.second))
        options.connectTimeout = UInt64(max(function.connectTimeout, 0))
        do {
            connection = try PluginConnection(
                endpoint: function.endpoint, options: options,
                handlers: .init(
                    frame: { [unowned(unsafe) self] bytes in try self.handleFrame(bytes) },
                    burst: { [unowned(unsafe) self] in self.handOverBurst() },
                    stderrLine: { line in handlers.log(line) },
                    keepalive: { UDFWire.frame(UDFCodec.keepaliveRequest(time: wallClockNanos())) },
                    tick: { handlers.tick() },
                    ended: { [self] end in connectionEnded(end) }))
        } catch {
            throw UDFError(udf: function.name, nodeID: nodeID, reason: .unreachable(String(describing: error)))
        }
    }

    /// The child's process ID (`nil` for sockets).
    var pid: Int32? { connection.pid }

    /// The error the UDF answered a snapshot request with, when one failed on this connection.
    var snapshotFailure: String? { lock.withLock { lastSnapshotFailure } }

    /// The last lines the UDF wrote to stderr, oldest first.
    var recentStderr: [String] { connection.recentStderr }

    /// Points sent so far.
    var pointsSent: Int { points.load(ordering: .relaxed) }

    // MARK: Management requests

    /// Asks for the UDF's Info.
    func info() throws(UDFError) -> UDFInfo {
        let response = try exchange(UDFCodec.infoRequest(), awaiting: .info)
        do throws(WireError) {
            return try UDFWire.info(response.info)
        } catch {
            let e = UDFError(udf: function.name, nodeID: nodeID, reason: error.reason)
            connection.abort(.protocolError(e.reasonText))
            throw e
        }
    }

    /// Sends Init with the task's IDs and the script's options; throws if the UDF rejects them.
    func initialize(taskID: String, nodeID: String, options: [UDFOption]) throws(UDFError) {
        let request: Agent_Request
        do throws(WireError) {
            request = try UDFWire.initRequest(taskID: taskID, nodeID: nodeID, options: options)
        } catch {
            throw UDFError(udf: function.name, nodeID: self.nodeID, reason: error.reason)
        }
        let response = try exchange(request, awaiting: .initialize)
        guard response.init_p.success else {
            var e = UDFError(udf: function.name, nodeID: self.nodeID, reason: .initFailed(response.init_p.error))
            e.stderrTail = connection.abortAndSettle(.protocolError(e.reasonText))
            throw e
        }
        lock.withLock { running = true }
    }

    /// Sends a saved snapshot back; throws if the UDF rejects it.
    func restore(_ snapshot: [UInt8]) throws(UDFError) {
        let response = try exchange(UDFCodec.restoreRequest(snapshot: snapshot), awaiting: .restore)
        guard response.restore.success else {
            var e = UDFError(udf: function.name, nodeID: nodeID, reason: .restoreFailed(response.restore.error))
            e.stderrTail = connection.abortAndSettle(.protocolError(e.reasonText))
            throw e
        }
    }

    /// Asks for a snapshot without waiting; the answer goes to ``Handlers/snapshot``.
    func requestSnapshot() {
        let request = UDFCodec.snapshotRequest()
        lock.withLock { snapshotsRequested += 1 }
        let sent = connection.send(control: true) { try? UDFWire.appendFrame(request, to: &$0) }
        if !sent { lock.withLock { snapshotsRequested -= 1 } }
    }

    /// Asks for a snapshot and waits for it (up to the timeout).
    func snapshot() throws(UDFError) -> [UInt8] {
        let ticket: Int = lock.withLock { snapshotsRequested + 1 }
        requestSnapshot()
        let deadline = monotonicNanos() + UInt64(function.timeout)
        return try lock.withLock { () throws(UDFError) -> [UInt8] in
            while snapshotsReceived < ticket {
                if let end { throw end ?? closedError() }
                if !lock.wait(until: deadline) && snapshotsReceived < ticket {
                    throw UDFError(udf: function.name, nodeID: nodeID,
                                   reason: .noAnswer(request: "Snapshot", timeout: function.timeout))
                }
            }
            if failedSnapshotTickets.contains(ticket) {
                throw UDFError(udf: function.name, nodeID: nodeID, reason: .snapshotFailed(lastSnapshotFailure ?? ""),
                               stderrTail: connection.recentStderr)
            }
            return lastSnapshot ?? []
        }
    }

    private func exchange(_ request: Agent_Request, awaiting kind: Awaited) throws(UDFError) -> Agent_Response {
        lock.withLock {
            awaited = kind
            answer = nil
        }
        connection.send(control: true) { try? UDFWire.appendFrame(request, to: &$0) }
        // Every request, the first one to a program still loading its libraries included, gets the UDF's
        // `timeout`, as in Kapacitor.
        let wait = UInt64(function.timeout)
        let deadline = monotonicNanos() + wait
        let result: Result<Agent_Response, UDFError> = lock.withLock {
            while true {
                if let answer {
                    self.answer = nil
                    return .success(answer)
                }
                if let end { return .failure(end ?? closedError()) }
                if !lock.wait(until: deadline) && answer == nil && end == nil {
                    awaited = nil
                    return .failure(UDFError(udf: function.name, nodeID: nodeID,
                                             reason: .noAnswer(request: kind.rawValue, timeout: Int64(wait)),
                                             stderrTail: connection.recentStderr))
                }
            }
        }
        switch result {
        case .success(let response): return response
        case .failure(let error):
            if case .noAnswer = error.reason { connection.abort(.protocolError(error.reasonText)) }
            throw error
        }
    }

    private func closedError() -> UDFError {
        UDFError(udf: function.name, nodeID: nodeID, reason: .notRunning("its connection was closed"))
    }

    // MARK: Data

    /// Sends one point or batch; blocks while the UDF is not keeping up. Returns `false` when the
    /// connection has failed or is closing (the message is dropped).
    ///
    /// With `wake` false the bytes wait for ``flush()`` (or for a pipe's worth of data), so that a burst of
    /// messages reaches the UDF in one write.
    func send(_ message: TockModel.Message, wake: Bool = true) -> Bool {
        var count = 0
        let sent = connection.send(wake: wake) { buffer in
            count = UDFWire.appendData(message, to: &buffer, encoder: &encoder)
        }
        if sent { points.add(count, ordering: .relaxed) }
        return sent
    }

    /// Writes what ``send(_:wake:)`` left pending.
    func flush() { connection.flush() }

    /// Closes the UDF's input; it answers what it has, then ends (reported to ``Handlers/ended``).
    func closeInput() { connection.closeInput() }

    /// Fails the connection and stops the process.
    func abort(_ reason: String) { connection.abort(.protocolError(reason)) }

    // MARK: Reader side

    private func handleFrame(_ bytes: UnsafeRawBufferPointer) throws {
        let response: UDFResponse
        do {
            response = try decoder.decode(bytes)
        } catch {
            throw ConnectionFailure.malformedFrame("a \(bytes.count)-byte response that does not decode (\(error))")
        }
        switch response {
        case .point(let p):
            if begin != nil {
                batchPoints.append(BatchPoint(p))
            } else {
                guard provides != .batch else {
                    throw ConnectionFailure.protocolError("sent a point outside a batch although its Info says it provides batches")
                }
                outbox.append(.point(p))
            }
        case .begin(let b):
            guard provides != .stream else {
                throw ConnectionFailure.protocolError("sent a batch although its Info says it provides a stream")
            }
            guard begin == nil else { throw ConnectionFailure.protocolError("began a batch inside another batch") }
            begin = b
            batchPoints = []
            if b.size > 0 { batchPoints.reserveCapacity(Int(min(b.size, 1 << 20))) }
        case .end(let e):
            guard let b = begin else { throw ConnectionFailure.protocolError("ended a batch it had not begun") }
            outbox.append(.batch(UDFWire.batch(begin: b, end: e, points: batchPoints)))
            begin = nil
            batchPoints = []
        case .other(let other):
            try handleManagement(other)
        }
    }

    /// Hands what the burst carried to ``Handlers/data`` (reader thread); the next burst starts with room for as many.
    private func handOverBurst() {
        if outbox.isEmpty { return }
        let burst = outbox
        outbox = []
        outbox.reserveCapacity(burst.count)
        handlers.data(burst)
    }

    private func handleManagement(_ response: Agent_Response) throws {
        switch response.message {
        case .keepalive:
            break
        case .error(let e):
            // An error while a snapshot is awaited answers the snapshot (Kapacitor's agent names the request it
            // failed: "error processing request of type snapshot: …"): a warning, the connection stays up.
            // An error that names another request is that request's failure.
            let namesOther = e.error.contains("request of type ") && !e.error.contains("request of type snapshot")
            let forSnapshot: Bool = namesOther ? false : lock.withLock {
                guard snapshotsReceived < snapshotsRequested else { return false }
                snapshotsReceived += 1
                failedSnapshotTickets.insert(snapshotsReceived)
                if failedSnapshotTickets.count > 64 { failedSnapshotTickets.remove(failedSnapshotTickets.min()!) }
                lastSnapshotFailure = e.error
                lock.broadcast()
                return true
            }
            guard forSnapshot else { throw ConnectionFailure.errorResponse(e.error) }
            handlers.snapshotFailed(e.error)
        case .snapshot(let s):
            let bytes = [UInt8](s.snapshot)
            // Only this reader counts answers, so the check holds until the count below.
            let expected: Bool = lock.withLock { snapshotsReceived < snapshotsRequested }
            guard expected else { throw ConnectionFailure.protocolError("sent a snapshot response without being asked") }
            // Stored before the waiter in snapshot() wakes, so a snapshot it returns is already saved.
            handlers.snapshot(bytes)
            lock.withLock {
                snapshotsReceived += 1
                lastSnapshot = bytes
                lock.broadcast()
            }
        case .info, .init_p, .restore:
            let kind: Awaited = if case .info = response.message { .info } else if case .init_p = response.message {
                .initialize
            } else { .restore }
            let expected: Bool = lock.withLock {
                guard awaited == kind else { return false }
                awaited = nil
                answer = response
                lock.broadcast()
                return true
            }
            guard expected else {
                throw ConnectionFailure.protocolError("sent an unrequested \(kind.rawValue) response")
            }
        case .point, .begin, .end:
            // Data the codec left to swift-protobuf (a message repeated within one frame).
            throw ConnectionFailure.malformedFrame("a data response the decoder could not read")
        case nil:
            throw ConnectionFailure.malformedFrame("an empty response (no message set)")
        }
    }

    private func connectionEnded(_ connectionEnd: ConnectionEnd) {
        let error: UDFError? = connectionEnd.failure.map { failure in
            UDFError(udf: function.name, nodeID: nodeID, reason: .connection(failure),
                     pointsSent: lock.withLock { running } ? pointsSent : nil, stderrTail: connectionEnd.stderrTail)
        }
        lock.withLock {
            end = .some(error)
            lock.broadcast()
        }
        handlers.ended(self, error)
    }
}
