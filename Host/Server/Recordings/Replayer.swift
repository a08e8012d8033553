import Logging
import Engine
import Foundation
import Recording
import Synchronization
import TICKScript
import TockModel

/// What a replay feeds its task copy: a stored recording or data fetched for a live replay.
enum ReplaySource: Sendable {
    /// A `.srpl` file: points in file order.
    case streamFile(String)
    /// A `.brpl` file: entry i to the task's i-th batch query.
    case batchFile(String)
    /// Points already in hand (`replay-live query` of a stream task).
    case points([Point])
    /// Batches already in hand, by query index (`replay-live`).
    case batches([[Batch]])
}

struct ReplayCancelled: Error, CustomStringConvertible {
    var description: String { "replay cancelled" }
}

/// One replay: a separate copy of the task (its own ``TaskRunner``, never the live one) fed from a source, fast or
/// paced by the data's own time gaps, with what the copy publishes (httpOut results, alert events) kept.
final class ReplayRun: @unchecked Sendable {
    let id: String
    let clockReal: Bool
    let recordingTime: Bool
    /// Alert events kept for the replay (the last ones; ``alertCount`` counts all).
    static let keptAlerts = 1000

    private let cancelled = Atomic<Bool>(false)
    private let lock = NSLock()
    private var fed = 0
    private var total = 0
    private var httpOut: [String: HTTPOutResult] = [:]
    private var alerts: [String] = []
    private var alertCount = 0

    init(id: String, clockReal: Bool, recordingTime: Bool) {
        self.id = id
        self.clockReal = clockReal
        self.recordingTime = recordingTime
    }

    func cancel() { cancelled.store(true, ordering: .relaxed) }
    var isCancelled: Bool { cancelled.load(ordering: .relaxed) }

    /// (points fed, points in all).
    var counts: (fed: Int, total: Int) {
        lock.lock()
        defer { lock.unlock() }
        return (fed, total)
    }

    var progress: Double {
        let c = counts
        return c.total == 0 ? 0 : Double(c.fed) / Double(c.total)
    }

    /// The handlers of the task copy: its events are kept here, its logs go to `logger`.
    func handlers(logger: Logger) -> TaskRunner.Handlers {
        TaskRunner.Handlers(event: { [weak self] _, event in
            guard let self else { return }
            self.lock.lock()
            defer { self.lock.unlock() }
            switch event {
            case .httpOut(let endpoint, _, let result):
                self.httpOut[endpoint] = result
            case .alert(let json):
                self.alertCount += 1
                self.alerts.append(json)
                if self.alerts.count > Self.keptAlerts { self.alerts.removeFirst(self.alerts.count - Self.keptAlerts) }
            }
        }, logger: logger)
    }

    /// `{"http-out":{"endpoint":{"series":[…]}},"alerts":[…],"alert-count":N}`.
    func resultsJSON() -> String {
        lock.lock()
        let outs = httpOut.sorted { $0.key < $1.key }
        let alerts = self.alerts
        let alertCount = self.alertCount
        lock.unlock()
        var out = "{\"http-out\":{"
        for (i, (endpoint, result)) in outs.enumerated() {
            if i > 0 { out += "," }
            JSON.quote(endpoint, into: &out)
            out += ":" + result.json
        }
        out += "},\"alerts\":[" + alerts.joined(separator: ",") + "],\"alert-count\":\(alertCount)}"
        return out
    }

    // MARK: Running

    /// Feeds `source` to `runner` (started), then stops it; throws what went wrong (the source, the task).
    func run(_ source: ReplaySource, into runner: TaskRunner) throws {
        do {
            try feed(source, runner)
        } catch {
            try? runner.stop()
            throw error
        }
        do { try runner.stop() } catch { throw ReplayFailure("task run: \(error)") }
    }

    private func feed(_ source: ReplaySource, _ runner: TaskRunner) throws {
        switch source {
        case .streamFile(let path):
            // A first pass checks the whole file and counts it, so a damaged recording feeds nothing.
            let reader = StreamRecordingReader(path: path)
            var count = 0
            var first: Int64?
            try reader.read(runLength: 4096) { run in
                if first == nil { first = run.first?.time }
                count += run.count
                if isCancelled { throw ReplayCancelled() }
            }
            setTotal(count)
            let rebase = recordingTime ? nil : RebaseTime(target: nowNanoseconds())
            var pacer = Pacer(real: clockReal)
            try reader.read(runLength: 1024, rebase: rebase) { run in try feedPoints(run, runner, &pacer) }
        case .points(let points):
            setTotal(points.count)
            var points = points
            if !recordingTime, let first = points.first?.time {
                let shift = nowNanoseconds() - first
                for i in points.indices { points[i].time &+= shift }
            }
            var pacer = Pacer(real: clockReal)
            var start = 0
            while start < points.count {
                let end = min(points.count, start + 1024)
                try feedPoints(Array(points[start..<end]), runner, &pacer)
                start = end
            }
        case .batchFile(let path):
            let recording = try BatchRecording.read(path: path,
                                                    rebase: recordingTime ? nil : RebaseTime(target: nowNanoseconds()))
            try feedBatches(recording.entries.map(\.batches), runner)
        case .batches(var entries):
            if !recordingTime {
                let now = nowNanoseconds()
                for e in entries.indices {
                    guard let first = entries[e].first?.points.first?.time else { continue }
                    let shift = now - first
                    for b in entries[e].indices {
                        for p in entries[e][b].points.indices { entries[e][b].points[p].time &+= shift }
                        entries[e][b].tmax &+= shift
                    }
                }
            }
            try feedBatches(entries, runner)
        }
    }

    /// Feeds entry i to the task's i-th query node, the batches of all entries in time order (as Kapacitor's
    /// replay sends every source against one clock); with the real clock, each when its time has come.
    private func feedBatches(_ entries: [[Batch]], _ runner: TaskRunner) throws {
        let queries = runner.pipeline.batchQueries.count
        guard entries.count == queries else {
            throw ReplayFailure("the recording has \(entries.count) batch source\(entries.count == 1 ? "" : "s") but task \(runner.taskID) has \(queries) query node\(queries == 1 ? "" : "s"): they must match")
        }
        var order: [(time: Int64, entry: Int, index: Int)] = []
        for (e, batches) in entries.enumerated() {
            for (i, b) in batches.enumerated() { order.append((b.points.first?.time ?? b.tmax, e, i)) }
        }
        order.sort { ($0.time, $0.entry, $0.index) < ($1.time, $1.entry, $1.index) }
        setTotal(entries.reduce(0) { $0 + $1.reduce(0) { $0 + $1.points.count } })
        var pacer = Pacer(real: clockReal)
        for item in order {
            if isCancelled { throw ReplayCancelled() }
            let batch = entries[item.entry][item.index]
            if pacer.real {
                let wait = pacer.delay(until: batch.tmax)
                if wait > 0 { try sleep(wait) }
            }
            runner.feed([batch], toQuery: item.entry)
            advance(batch.points.count)
        }
    }

    private func setTotal(_ n: Int) {
        lock.lock()
        total = n
        lock.unlock()
    }

    private func advance(_ n: Int) {
        lock.lock()
        fed += n
        lock.unlock()
    }

    /// Writes `run` to the task; with the real clock, waits before each point until its time has come.
    private func feedPoints(_ run: [Point], _ runner: TaskRunner, _ pacer: inout Pacer) throws {
        if isCancelled { throw ReplayCancelled() }
        guard pacer.real else {
            runner.write(run)
            advance(run.count)
            return
        }
        var segment: [Point] = []
        for p in run {
            let wait = pacer.delay(until: p.time)
            if wait > 0 {
                if !segment.isEmpty {
                    runner.write(segment)
                    advance(segment.count)
                    segment.removeAll()
                }
                try sleep(wait)
            }
            segment.append(p)
        }
        runner.write(segment)
        advance(segment.count)
    }

    private func sleep(_ nanoseconds: Int64) throws {
        var left = nanoseconds
        while left > 0 {
            if isCancelled { throw ReplayCancelled() }
            let step = min(left, 100_000_000)
            Thread.sleep(forTimeInterval: Double(step) / 1e9)
            left -= step
        }
    }
}

/// The real clock of a replay: data time `t` is due `t - first` after the replay started.
struct Pacer {
    let real: Bool
    private var wallStart: Int64 = 0
    private var dataStart: Int64?

    init(real: Bool) { self.real = real }

    /// Nanoseconds to wait before data time `t` is due (0 when it is).
    mutating func delay(until t: Int64) -> Int64 {
        guard let dataStart else {
            dataStart = t
            wallStart = nowNanoseconds()
            return 0
        }
        let (gap, overflow) = t.subtractingReportingOverflow(dataStart)
        if overflow { return gap < 0 ? Int64.max : 0 }
        let (due, late) = wallStart.addingReportingOverflow(gap)
        return late ? Int64.max : max(0, due - nowNanoseconds())
    }
}

struct ReplayFailure: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
