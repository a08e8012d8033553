import Foundation
import TockModel

/// The write path of one `influxDBOut` node: points wait per database and retention policy until `buffer` of them
/// are there or the flush interval passes, then go to InfluxDB one request at a time, in order, from a bounded queue.
///
/// - A write that fails for a reason that may pass (``InfluxDBError/isTransient``: InfluxDB down, slow, 5xx) stays at
///   the head of the queue and is tried again after 1 s, 2 s, 4 s … up to 30 s; the first failure of a run of them is
///   counted and logged, and so is the recovery.
/// - A write InfluxDB refuses (4xx: a field type conflict, a database that does not exist) is dropped, counted and
///   logged with InfluxDB's own message.
/// - The queue holds at most ``capacity(buffer:)`` points; beyond that the oldest waiting writes are dropped, counted
///   and logged, so memory stays bounded however long InfluxDB is away.
/// - Once the task's input has ended, what is buffered is sent once more; if that fails the rest is dropped (counted),
///   so the end of a task waits at most one request timeout for a dead InfluxDB.
final class InfluxDBWriter: @unchecked Sendable {
    struct Destination: Hashable {
        var database: String
        var retentionPolicy: String
    }

    /// Points the retry queue may hold: 100 flushes of `buffer` points, and at least 10,000.
    static func capacity(buffer: Int) -> Int { max(10_000, buffer.multipliedReportingOverflow(by: 100).partialValue) }
    static let maximumBackoff: Int64 = 30 * GoDuration.second

    private let settings: InfluxDBOutNode.Settings
    private let influxDB: any InfluxDBService
    private let output: any NodeOutput
    let capacity: Int

    private let lock = NSLock()
    private var pending: [Destination: [Point]] = [:]
    private var pendingOrder: [Destination] = []
    private var queue: [InfluxWrite] = []
    private var queuedPoints = 0
    private var sending = false
    private var stopping = false
    private var needsCreate: Bool
    private var timer: (any DispatchSourceTimer)?
    /// Points InfluxDB took, and write requests that failed (each attempt): Kapacitor's `points_written` and
    /// `write_errors`.
    private var pointsWritten: Int64 = 0
    private var writeErrors: Int64 = 0

    /// ``pointsWritten`` and ``writeErrors`` under Kapacitor's names.
    var counters: [String: Int64] {
        lock.withLock { ["points_written": pointsWritten, "write_errors": writeErrors] }
    }

    init(settings: InfluxDBOutNode.Settings, influxDB: any InfluxDBService, output: any NodeOutput) {
        self.settings = settings
        self.influxDB = influxDB
        self.output = output
        self.capacity = Self.capacity(buffer: settings.buffer)
        self.needsCreate = settings.create && !settings.database.isEmpty
    }

    /// Starts the flush timer (and creates the database first, with `.create()`).
    func start() {
        let t = DispatchSource.makeTimerSource(queue: .global())
        let interval = DispatchTimeInterval.nanoseconds(Int(clamping: settings.flushInterval))
        t.schedule(deadline: .now() + interval, repeating: interval)
        t.setEventHandler { [weak self] in self?.flush() }
        timer = t
        t.resume()
        if needsCreate { kick() }
    }

    /// Adds points for `destination`; a full buffer goes to the queue at once.
    func add(_ points: [Point], to destination: Destination) {
        guard !points.isEmpty else { return }
        lock.lock()
        if pending[destination] == nil { pendingOrder.append(destination) }
        pending[destination, default: []].append(contentsOf: points)
        if pending[destination]!.count >= settings.buffer { enqueue(destination) }
        lock.unlock()
        kick()
    }

    /// Moves every buffered point to the queue (the flush interval passed).
    func flush() {
        lock.lock()
        for d in pendingOrder { enqueue(d) }
        lock.unlock()
        kick()
    }

    /// The input has ended: flush and send what is left. `true` when nothing is left to do, else the writer calls
    /// ``NodeOutput/finish()`` once the queue has drained.
    func stop() -> Bool {
        timer?.cancel()
        lock.lock()
        stopping = true
        for d in pendingOrder { enqueue(d) }
        let idle = !sending && queue.isEmpty && !needsCreate
        lock.unlock()
        if !idle { kick() }
        return idle
    }

    // MARK: Under the lock

    private func enqueue(_ destination: Destination) {
        guard let points = pending.removeValue(forKey: destination) else { return }
        pendingOrder.removeAll { $0 == destination }
        queue.append(InfluxWrite(cluster: settings.cluster, database: destination.database,
                                 retentionPolicy: destination.retentionPolicy, precision: settings.precision,
                                 writeConsistency: settings.writeConsistency, points: points))
        queuedPoints += points.count
        var dropped = 0
        // The head may be in flight: the oldest writes behind it go first.
        while queuedPoints > capacity && queue.count > 1 {
            let old = queue.remove(at: 1)
            queuedPoints -= old.points.count
            dropped += old.points.count
        }
        if dropped > 0 {
            let message = "dropped \(dropped) points for InfluxDB \(clusterName): the retry buffer is full (\(capacity) points) while InfluxDB does not take writes"
            DispatchQueue.global().async { [output] in output.countError(InfluxDBOutError(message)) }
        }
    }

    private var clusterName: String { settings.cluster ?? influxDB.defaultCluster ?? "default" }

    // MARK: The sender

    /// Starts the sender unless it runs already.
    private func kick() {
        lock.lock()
        guard !sending, !queue.isEmpty || needsCreate else {
            lock.unlock()
            return
        }
        sending = true
        lock.unlock()
        Task(executorPreference: IOExecutor.shared) { [self] in await send() }
    }

    private func send() async {
        var failures = 0
        while true {
            let (create, head, isStopping, idle) = lock.withLock { () -> (Bool, InfluxWrite?, Bool, Bool) in
                let idle = !needsCreate && queue.isEmpty
                if idle { sending = false }
                return (needsCreate, queue.first, stopping, idle)
            }
            if idle {
                if isStopping { output.finish() }
                return
            }

            let failure: InfluxDBError?
            do {
                if create {
                    try await influxDB.createDatabase(cluster: settings.cluster, database: settings.database,
                                                      retentionPolicy: settings.retentionPolicy.isEmpty ? nil : settings.retentionPolicy)
                    lock.withLock { needsCreate = false }
                } else if let head {
                    try await influxDB.write(head)
                    lock.withLock {
                        queue.removeFirst()
                        queuedPoints -= head.points.count
                        pointsWritten += Int64(head.points.count)
                    }
                }
                failure = nil
            } catch let e as InfluxDBError {
                failure = e
            } catch {
                failure = InfluxDBError(.unreachable, "InfluxDB \(clusterName): \(error)")
            }

            guard let error = failure else {
                if failures > 0 {
                    output.logger.info("InfluxDB \(clusterName) takes writes again after \(failures) failed attempts")
                }
                failures = 0
                continue
            }
            if !create { lock.withLock { writeErrors += 1 } }
            let what = create ? "failed to create database \"\(settings.database)\"" : "failed to write \(head?.points.count ?? 0) points"
            if !error.isTransient {
                // InfluxDB refused it: retrying would fail the same way.
                lock.withLock {
                    if create {
                        needsCreate = false
                    } else if let head {
                        queue.removeFirst()
                        queuedPoints -= head.points.count
                    }
                }
                output.countError(InfluxDBOutError("\(what) to database \"\(head?.database ?? settings.database)\": \(error.message)"))
                continue
            }
            if lock.withLock({ stopping }) {
                // The task has ended and InfluxDB does not answer: give up on what is left instead of retrying.
                let dropped = lock.withLock { () -> Int in
                    let n = queuedPoints
                    queue.removeAll()
                    queuedPoints = 0
                    needsCreate = false
                    return n
                }
                output.countError(InfluxDBOutError("\(what) at the end of the task, dropping \(dropped) points: \(error.message)"))
                continue
            }
            failures += 1
            let backoff = min(Self.maximumBackoff, GoDuration.second << min(failures - 1, 5))
            if failures == 1 {
                let waiting = lock.withLock { queuedPoints }
                output.countError(InfluxDBOutError(
                    "\(what): \(error.message); retrying every \(GoDuration.format(backoff)) up to \(GoDuration.format(Self.maximumBackoff)), \(waiting) points waiting (at most \(capacity))"))
            }
            await sleep(nanoseconds: backoff)
        }
    }

    /// Sleeps, waking early when the task's input ends (so the last attempt is made at once).
    private func sleep(nanoseconds: Int64) async {
        let step: Int64 = 50_000_000
        var slept: Int64 = 0
        while slept < nanoseconds {
            if lock.withLock({ stopping }) { return }
            try? await Task.sleep(nanoseconds: UInt64(min(step, nanoseconds - slept)))
            slept += step
        }
    }
}

/// A write to InfluxDB that failed, as counted in the node's errors.
struct InfluxDBOutError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
