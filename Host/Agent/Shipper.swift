import Collectors
import CompressNIO
import Dispatch
import Foundation
import LineProtocol
import Logging
import NIOCore
import PluginSupervisor
import Synchronization
import TockModel

/// Turns the points the collectors hand over into batches, keeps every sealed batch in the ``DiskBuffer`` and sends
/// the buffer's batches, oldest first, to the server. Batches are synced to the disk once they have to wait (the
/// server does not take them, or the agent stops), not while the server takes them as they come.
///
/// A batch is sealed per database and retention policy when it holds `batch-size` points, at every flush interval,
/// and when the agent stops. Until then its points are also appended to an ``OpenBatchJournal``, so that an agent
/// killed between two flushes loses none of them. While no server takes writes, the sender waits with an exponential backoff (1 s doubling
/// to `retry-max-interval`) and the batches wait on disk, within the buffer's bound.
public final class Shipper: Sendable {
    /// The agent's shipping counters, reported in its heartbeats.
    public struct Stats: Sendable, Hashable {
        public var sentPoints = 0
        public var sentBatches = 0
        /// Points a server refused (400); they are not sent again.
        public var rejectedPoints = 0
        /// Points lost because they could not be written to the buffer (disk full, directory gone).
        public var lostPoints = 0
        /// Write attempts that failed and will be retried.
        public var failedWrites = 0
        public var lastError: String?
    }

    /// Sends one batch and returns the server's answer, blocking the sender's thread meanwhile; the interruption
    /// cuts it short when the agent stops.
    public typealias Send = @Sendable (DiskBuffer.Batch, WriteInterruption) -> WriteClient.Outcome

    let configuration: AgentConfiguration
    let buffer: DiskBuffer
    private let send: Send
    private let logger: Logger
    private let pending = Mutex<[Target: Pending]>([:])
    private let counters = Mutex(Stats())
    /// Wakes the sender's thread when a batch is sealed, and stops it.
    private let signal = SenderSignal()
    private let journal: OpenBatchJournal
    /// Whether the last journal append failed (logged once until one succeeds again).
    private let journalFailing = Mutex(false)
    /// Whether the server is not taking writes: new batches are then synced to the disk as they are written.
    private let outage = Atomic<Bool>(false)

    struct Target: Hashable {
        var database: String
        var retentionPolicy: String
    }

    struct Pending {
        var bytes: [UInt8] = []
        var points = 0
    }

    /// Makes a shipper over `buffer`. Points an earlier run had journaled but not sealed (it was killed between two
    /// flushes) are sealed into the buffer first.
    public init(configuration: AgentConfiguration, buffer: DiskBuffer, logger: Logger = .discarding, send: @escaping Send) {
        self.configuration = configuration
        self.buffer = buffer
        self.send = send
        self.logger = logger
        journal = OpenBatchJournal(directory: buffer.directory)
        let (records, torn) = OpenBatchJournal.recover(directory: buffer.directory)
        for record in records {
            store(Target(database: record.database, retentionPolicy: record.retentionPolicy),
                  Pending(bytes: record.body, points: record.points))
        }
        OpenBatchJournal.discardRecovered(directory: buffer.directory)
        if !records.isEmpty {
            logger.info("\(records.reduce(0) { $0 + $1.points }) points collected but not sealed by the last run were recovered from its journal")
        }
        if torn { logger.warning("the last run's journal ended in a record cut short (the agent was killed while writing it); that record is lost") }
    }

    public var stats: Stats { counters.withLock { $0 } }

    // MARK: Batching

    /// Adds points to the open batches of their databases; a batch that reaches `batch-size` is sealed.
    public func submit(_ points: [Point]) {
        guard !points.isEmpty else { return }
        let serializer = LineProtocolSerializer()
        var groups: [Target: [Point]] = [:]
        for point in points {
            groups[Target(database: point.database.isEmpty ? configuration.database : point.database,
                          retentionPolicy: point.retentionPolicy.isEmpty ? configuration.retentionPolicy : point.retentionPolicy),
                   default: []].append(point)
        }
        var full: [(Target, Pending)] = []
        var failure: (any Error)?
        // A batch holds at most batch-size points: fill the open one, seal it when full, go on. One lock hold, so
        // that collectors submitting at once never overfill a batch.
        pending.withLock { pending in
            for (target, group) in groups {
                var rest = group[...]
                while !rest.isEmpty {
                    let chunk = rest.prefix(max(1, configuration.batchSize - (pending[target]?.points ?? 0)))
                    rest = rest.dropFirst(chunk.count)
                    let bytes: [UInt8]
                    do { bytes = try serializer.serialize(chunk) } catch {
                        failure = error
                        continue
                    }
                    pending[target, default: Pending()].bytes += bytes
                    pending[target]!.points += chunk.count
                    journaled(journal.append(database: target.database, retentionPolicy: target.retentionPolicy,
                                             points: chunk.count, body: bytes))
                    if pending[target]!.points >= configuration.batchSize {
                        full.append((target, pending.removeValue(forKey: target)!))
                    }
                }
            }
        }
        if let failure { logger.error("points from the collectors cannot be written as line protocol: \(failure)") }
        guard !full.isEmpty else { return }
        for (target, batch) in full { store(target, batch) }
        // The journal keeps only what is still open.
        pending.withLock { pending in
            journal.replace(with: pending.map { target, open in
                OpenBatchJournal.Record(database: target.database, retentionPolicy: target.retentionPolicy,
                                        points: open.points, body: open.bytes)
            })
        }
    }

    /// Logs a journal failure once, and its recovery.
    private func journaled(_ error: String?) {
        let changed = journalFailing.withLock { failing -> Bool in
            defer { failing = error != nil }
            return failing != (error != nil)
        }
        guard changed else { return }
        if let error {
            logger.warning("\(error); the open batch is kept in memory only until it is sealed")
        } else {
            logger.info("the open batch journal is written again")
        }
    }

    /// Seals every open batch into the buffer (at the flush interval, and when the agent stops).
    public func seal() {
        let all = pending.withLock { pending in
            defer { pending = [:] }
            journal.beginSeal()
            return pending
        }
        for (target, batch) in all.sorted(by: { $0.key.database < $1.key.database }) { store(target, batch) }
        journal.endSeal()
    }

    private func store(_ target: Target, _ pending: Pending) {
        var body = pending.bytes
        var gzip = false
        if configuration.gzip {
            do {
                body = try Self.gzip(pending.bytes)
                gzip = true
            } catch {
                logger.error("cannot compress a batch: \(error); it is kept and sent uncompressed")
            }
        }
        let batch = DiskBuffer.Batch(database: target.database, retentionPolicy: target.retentionPolicy,
                                     points: pending.points, gzip: gzip, body: body)
        do {
            let dropped = try buffer.append(batch, synced: outage.load(ordering: .relaxed))
            if dropped > 0 {
                let totals = buffer.totals
                logger.warning("buffer full (\(buffer.maxBytes) bytes): dropped the oldest \(dropped) points (\(totals.droppedPoints) since start)")
            }
        } catch {
            counters.withLock {
                $0.lostPoints += pending.points
                $0.lastError = error.description
            }
            logger.error("\(pending.points) points lost: \(error)")
        }
        signal.wake()
    }

    static func gzip(_ bytes: [UInt8]) throws -> [UInt8] {
        var input = ByteBuffer(bytes: bytes)
        var output = try input.compress(with: .gzip())
        return output.readBytes(length: output.readableBytes) ?? []
    }

    static func gunzip(_ bytes: [UInt8]) throws -> [UInt8] {
        var input = ByteBuffer(bytes: bytes)
        var output = try input.decompress(with: .gzip())
        return output.readBytes(length: output.readableBytes) ?? []
    }

    // MARK: Sending

    /// What runs between ``start()`` and ``stop()``.
    private struct Running: Sendable {
        var flush: RepeatingTimer
        var interruption: WriteInterruption
        var ended: DispatchSemaphore
    }

    private let running = Mutex<Running?>(nil)

    /// Starts sealing open batches every flush interval (on the ``TimerThread``) and sending the buffer's batches (on
    /// a thread of its own): an agent at rest wakes no thread of Swift's or Dispatch's pools.
    public func start() {
        running.withLock { running in
            guard running == nil else { return }
            let interruption = WriteInterruption()
            let ended = DispatchSemaphore(value: 0)
            let flush = RepeatingTimer(every: configuration.flushInterval,
                                       slack: CollectorScheduler.tolerance(of: configuration.flushInterval)) { [self] in seal() }
            startThread(name: "tock-sender") { [self] in
                sendLoop(interruption)
                ended.signal()
            }
            running = Running(flush: flush, interruption: interruption, ended: ended)
        }
    }

    /// Stops the flushes and the sender, cutting a write in progress short; returns once the sender's thread has
    /// ended (it blocks the calling thread until then).
    public func stop() {
        guard let stopped = running.withLock({ $0 }) else { return }
        stopped.flush.cancel()
        signal.stop()
        stopped.interruption.interrupt()
        stopped.ended.wait()
    }

    /// ``start()``, then ``stop()`` when the calling task is cancelled.
    public func run() async {
        start()
        await untilCancelled()
        await Self.onThread("tock-stop") { [self] in stop() }
    }

    /// Runs `body` on a new thread of its own; returns when it has.
    static func onThread(_ name: String, _ body: @escaping @Sendable () -> Void) async {
        await withCheckedContinuation { (done: CheckedContinuation<Void, Never>) in
            startThread(name: name) {
                body()
                done.resume()
            }
        }
    }

    private func sendLoop(_ interruption: WriteInterruption) {
        var backoff = Duration.seconds(1)
        var downSince: ContinuousClock.Instant?
        var lastReport = ContinuousClock.now
        while !signal.stopped {
            guard let entry = buffer.oldest() else {
                signal.waitForWork()
                continue
            }
            switch deliver(entry, interruption) {
            case .written, .rejected, .tooLarge:
                outage.store(false, ordering: .relaxed)
                if let since = downSince {
                    let totals = buffer.totals
                    logger.info("the server takes writes again after \(Self.format(ContinuousClock.now - since)); sending \(totals.batches) buffered batches (\(totals.points) points)")
                    downSince = nil
                }
                backoff = .seconds(1)
            case .retry(let reason):
                // A write cut short because the agent is stopping is not an outage: the batch waits for the drain.
                if signal.stopped { return }
                counters.withLock {
                    $0.failedWrites += 1
                    $0.lastError = reason
                }
                // The batches now wait: on the disk, not only in the page cache.
                outage.store(true, ordering: .relaxed)
                if let failure = buffer.sync() { logger.error("\(failure)") }
                let totals = buffer.totals
                if downSince == nil {
                    downSince = .now
                    lastReport = .now
                    logger.error("cannot write: \(reason); buffering on disk (\(totals.points) points waiting)")
                } else if ContinuousClock.now - lastReport > .seconds(60) {
                    lastReport = .now
                    logger.warning("still cannot write: \(reason); \(totals.batches) batches (\(totals.bytes) bytes, \(totals.points) points) buffered, \(totals.droppedPoints) dropped")
                } else {
                    logger.debug("write failed: \(reason); next attempt in \(Self.format(backoff))")
                }
                let jitter = Duration.milliseconds(Int.random(in: 0...max(1, Int(backoff.components.seconds) * 100)))
                signal.sleep(for: backoff + jitter)
                backoff = min(backoff * 2, configuration.retryMaxInterval)
            }
        }
    }

    /// Sends one buffered batch; it leaves the buffer unless the server should be tried again later.
    private func deliver(_ entry: DiskBuffer.Entry, _ interruption: WriteInterruption) -> WriteClient.Outcome {
        let batch: DiskBuffer.Batch
        do {
            guard let read = try buffer.read(entry) else { return .written }
            batch = read
        } catch {
            logger.error("\(error); the batch is dropped")
            counters.withLock { $0.lostPoints += entry.points }
            buffer.remove(entry)
            return .rejected(error.description)
        }
        let outcome = deliver(batch, interruption)
        switch outcome {
        case .written:
            buffer.remove(entry)
            counters.withLock {
                $0.sentPoints += batch.points
                $0.sentBatches += 1
            }
        case .rejected(let reason), .tooLarge(let reason):
            buffer.remove(entry)
            counters.withLock {
                $0.rejectedPoints += batch.points
                $0.lastError = reason
            }
            logger.error("\(batch.points) points dropped: \(reason)")
        case .retry:
            break
        }
        return outcome
    }

    /// Sends `batch`, in halves when the server says it is too large.
    private func deliver(_ batch: DiskBuffer.Batch, _ interruption: WriteInterruption) -> WriteClient.Outcome {
        let outcome = send(batch, interruption)
        guard case .tooLarge = outcome, batch.points > 1 else { return outcome }
        guard let halves = try? Self.split(batch) else { return outcome }
        for half in halves {
            let result = deliver(half, interruption)
            guard result == .written else { return result }
        }
        return .written
    }

    /// `batch` cut in two at a line boundary.
    static func split(_ batch: DiskBuffer.Batch) throws -> [DiskBuffer.Batch] {
        let text = batch.gzip ? try gunzip(batch.body) : batch.body
        let lines = text.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: true)
        guard lines.count > 1 else { return [batch] }
        let middle = lines.count / 2
        return try [lines[..<middle], lines[middle...]].map { part in
            var bytes: [UInt8] = []
            for line in part { bytes += line; bytes.append(UInt8(ascii: "\n")) }
            var half = batch
            half.points = part.count
            half.body = batch.gzip ? try gzip(bytes) : bytes
            return half
        }
    }

    /// At shutdown: seals the open batches and sends what the server takes before `limit` has passed (a write still
    /// in progress then is cut short); the rest stays on disk for the next run.
    public func drain(within limit: Duration) async {
        await Self.onThread("tock-drain") { [self] in drainBlocking(within: limit) }
    }

    /// ``drain(within:)`` on the calling thread, which it blocks.
    public func drainBlocking(within limit: Duration) {
        seal()
        let interruption = WriteInterruption()
        let deadline = ContinuousClock.now + limit
        let cutoff = TimerThread.shared.add(after: limit) { interruption.interrupt() }
        while ContinuousClock.now < deadline, !interruption.isInterrupted, let entry = buffer.oldest() {
            if case .retry = deliver(entry, interruption) { break }
        }
        TimerThread.shared.remove(cutoff)
        // What is left waits for the next run.
        if let failure = buffer.sync() { logger.error("\(failure)") }
    }

    static func format(_ duration: Duration) -> String {
        let seconds = Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
        return seconds < 10 ? String(format: "%.1fs", seconds) : "\(Int(seconds))s"
    }
}

/// The sender thread's wake-ups: a batch sealed, the backoff over, or the agent stopping.
private final class SenderSignal: @unchecked Sendable {
    /// Guards `work` and `isStopped`.
    private let condition = ConditionLock()
    private var work = false
    private var isStopped = false

    var stopped: Bool { condition.withLock { isStopped } }

    func wake() {
        condition.withLock {
            work = true
            condition.signal()
        }
    }

    func stop() {
        condition.withLock {
            isStopped = true
            condition.signal()
        }
    }

    /// Waits until a batch was sealed since the last call, or the sender is stopped.
    func waitForWork() {
        condition.withLock {
            while !work && !isStopped { condition.wait() }
            work = false
        }
    }

    /// Sleeps for `duration`, or less when the sender is stopped.
    func sleep(for duration: Duration) {
        let deadline = TimerThread.now &+ duration.nanoseconds
        condition.withLock {
            while !isStopped, TimerThread.now < deadline { condition.wait(until: deadline) }
        }
    }
}

/// Returns once the calling task is cancelled.
func untilCancelled() async {
    final class Waiter: Sendable {
        let state = Mutex<(cancelled: Bool, continuation: CheckedContinuation<Void, Never>?)>((false, nil))
    }
    let waiter = Waiter()
    await withTaskCancellationHandler {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let cancelled = waiter.state.withLock { state -> Bool in
                if !state.cancelled { state.continuation = continuation }
                return state.cancelled
            }
            if cancelled { continuation.resume() }
        }
    } onCancel: {
        let continuation = waiter.state.withLock { state -> CheckedContinuation<Void, Never>? in
            state.cancelled = true
            defer { state.continuation = nil }
            return state.continuation
        }
        continuation?.resume()
    }
}
