import Foundation
import Synchronization
import TockModel

/// Runs collectors on their intervals and hands their points to a sink: the daemon's ingest (points enter the engine
/// exactly as `/write` points do) or an agent's shipper.
///
/// Each collector gathers on its own task, at its interval plus a random jitter, bounded by its timeout. A gather
/// that hangs past its timeout is reported failed and the collector is skipped until it returns, so one slow
/// collector never delays another nor runs twice at once. After every gather a self-metric point
/// `internal_gather,input=NAME` (Telegraf's internal plugin's names) reports `gather_time_ns`, `metrics_gathered`,
/// `errors` (since start) and `up` (1 when the gather succeeded, 0 otherwise), so a task can alert on a collector
/// that stopped working.
public final class CollectorScheduler: Sendable {
    /// Receives each gather's points (the collector's, then its self-metric).
    public typealias Sink = @Sendable ([Point]) -> Void

    private let initial: [CollectorConfig]
    private let host: HostFS
    private let hostTags: [String: String]
    private let sink: Sink
    private let log: @Sendable (CollectorLogLevel, String) -> Void
    private let clock: @Sendable () -> Timestamp
    private let running = Mutex<[String: (config: CollectorConfig, task: Task<Void, Never>)]>([:])
    private let counters = Mutex<[String: Stats]>([:])
    private let factory: Factory

    /// Builds a section's collector: the built-ins by default; a test gives its own.
    public typealias Factory = @Sendable (CollectorConfig) throws(CollectorError) -> CollectorInstance

    /// One collector's counters.
    public struct Stats: Sendable, Hashable {
        public var gathers = 0
        public var errors = 0
        public var timeouts = 0
        public var lastError: String?
    }

    public init(_ configs: [CollectorConfig], host: HostFS = .live, hostTags: [String: String] = [:],
                clock: @escaping @Sendable () -> Timestamp,
                log: @escaping @Sendable (CollectorLogLevel, String) -> Void,
                factory: @escaping Factory = { config throws(CollectorError) in
                    try CollectorRegistry.instance(for: config)
                },
                sink: @escaping Sink) {
        self.factory = factory
        self.initial = configs
        self.host = host
        self.hostTags = hostTags
        self.clock = clock
        self.log = log
        self.sink = sink
    }

    /// The counters of every collector, by name (`cpu`, or `cpu#2` for a second section).
    public var stats: [String: Stats] { counters.withLock { $0 } }

    /// Builds every collector (refusing bad options before anything runs) and starts them.
    public func start() throws(CollectorError) {
        _ = try update(initial)
    }

    /// What ``update(_:)`` did.
    public struct Changes: Sendable, Hashable {
        public var kept: [String] = []
        public var started: [String] = []
        public var stopped: [String] = []
    }

    /// Runs `configs` from now on (a configuration reloaded on SIGHUP): a section whose settings did not change keeps
    /// running on its schedule; changed or new ones start, removed ones stop. Every new section is built first: when
    /// one is refused, nothing changes.
    @discardableResult
    public func update(_ configs: [CollectorConfig]) throws(CollectorError) -> Changes {
        var wanted: [(key: String, config: CollectorConfig)] = []
        var seen: [String: Int] = [:]
        for config in configs {
            seen[config.name, default: 0] += 1
            wanted.append((seen[config.name]! == 1 ? config.name : "\(config.name)#\(seen[config.name]!)", config))
        }
        let current = running.withLock { $0 }
        var built: [(String, CollectorConfig, CollectorInstance)] = []
        for (key, config) in wanted where current[key]?.config != config {
            built.append((key, config, try factory(config)))
        }
        var changes = Changes()
        let wantedKeys = Set(wanted.map(\.key))
        running.withLock { running in
            for (key, entry) in running where !wantedKeys.contains(key) || built.contains(where: { $0.0 == key }) {
                entry.task.cancel()
                running[key] = nil
                if !wantedKeys.contains(key) { changes.stopped.append(key) }
            }
            for (key, config, instance) in built {
                let task: Task<Void, Never>
                switch instance {
                case .polled(let collector):
                    task = Task { [self] in await self.run(key: key, config: config, collector: collector) }
                case .streaming(let collector):
                    task = Task { [self] in await self.run(key: key, config: config, streaming: collector) }
                }
                running[key] = (config, task)
                changes.started.append(key)
            }
            changes.kept = wanted.map(\.key).filter { key in !built.contains { $0.0 == key } }
        }
        return changes
    }

    /// Stops every collector; a gather in progress finishes on its own thread and is discarded.
    public func stop() {
        let all = running.withLock { running in
            defer { running = [:] }
            return running.values.map(\.task)
        }
        for task in all { task.cancel() }
    }

    /// Stops every collector and waits until the gathers in progress have handed over their points (each within
    /// its section's timeout): an agent that stops loses no gather that was under way.
    public func drain() async {
        let all = running.withLock { running in
            defer { running = [:] }
            return running.values.map(\.task)
        }
        for task in all { task.cancel() }
        for task in all { await task.value }
    }

    /// How late a round may start so that timers due together fire together: 1 % of the interval, at most 100 ms.
    public static func tolerance(of interval: Duration) -> Duration {
        min(interval / 100, .milliseconds(100))
    }

    private func run(key: String, config: CollectorConfig, collector: any Collector) async {
        let box = CollectorBox(collector)
        while !Task.isCancelled {
            let jitter = config.jitter == .zero ? Duration.zero
                : .nanoseconds(Int64.random(in: 0...max(0, config.jitter.nanosecondsValue)))
            if jitter > .zero, (try? await Task.sleep(for: jitter)) == nil { return }
            let started = ContinuousClock.now
            let time = clock()
            let outcome = await box.gather(GatherContext(time: time, host: host, timeout: config.timeout, log: { [log] level, line in
                log(level, "[collectors.\(config.name)] \(line)")
            }), timeout: config.timeout)
            // A gather that completed while the collectors were stopping still hands over its points.
            let elapsed = ContinuousClock.now - started
            var points: [Point] = []
            var up = true
            switch outcome {
            case .points(let gathered): points = gathered
            case .failed(let error):
                up = false
                log(.error, "[collectors.\(config.name)] \(error.message)")
            case .timedOut:
                up = false
                log(.error, "[collectors.\(config.name)] gather took longer than its timeout (\(config.timeout)); skipped until it returns")
            case .busy:
                up = false
                log(.warning, "[collectors.\(config.name)] the previous gather has not returned yet; this one is skipped")
            }
            let stats = counters.withLock { all -> Stats in
                var s = all[key] ?? Stats()
                s.gathers += 1
                if !up { s.errors += 1 }
                if case .timedOut = outcome { s.timeouts += 1 }
                if case .failed(let error) = outcome { s.lastError = error.message }
                all[key] = s
                return s
            }
            let selfMetric = Point(name: "internal_gather", tags: Tags(["input": config.name]), fields: Fields([
                ("gather_time_ns", .int(elapsed.nanosecondsValue)), ("metrics_gathered", .int(Int64(points.count))),
                ("errors", .int(Int64(stats.errors))), ("up", .int(up ? 1 : 0)),
            ]), time: time)
            sink(config.finish(points + [selfMetric], hostTags: hostTags))
            // The tolerance lets the timers of collectors due at about the same time fire together (one wake-up).
            if (try? await Task.sleep(for: max(.zero, config.interval - jitter - elapsed),
                                      tolerance: Self.tolerance(of: config.interval))) == nil { return }
        }
    }
}

extension CollectorScheduler {
    /// A streaming collector: started once (restarting itself as it must), signalled at every interval, and
    /// reported at every interval: `up` while it runs, `metrics_gathered` since the last report.
    fileprivate func run(key: String, config: CollectorConfig, streaming collector: any StreamingCollector) async {
        let received = Atomic<Int>(0)
        let prefixed: @Sendable (CollectorLogLevel, String) -> Void = { [log] level, line in
            log(level, "[collectors.\(config.name)] \(line)")
        }
        let context = StreamContext(clock: clock, log: prefixed) { [sink, hostTags] points in
            received.add(points.count, ordering: .relaxed)
            sink(config.finish(points, hostTags: hostTags))
        }
        do { try collector.start(context) } catch {
            prefixed(.error, error.message)
            return
        }
        defer { collector.stop() }
        while !Task.isCancelled {
            let interval = config.intervalSet ? config.interval : collector.preferredInterval ?? config.interval
            if (try? await Task.sleep(for: interval, tolerance: Self.tolerance(of: interval))) == nil { return }
            collector.tick()
            let up = collector.isRunning
            let stats = counters.withLock { all -> Stats in
                var s = all[key] ?? Stats()
                s.gathers += 1
                if !up { s.errors += 1 }
                all[key] = s
                return s
            }
            let selfMetric = Point(name: "internal_gather", tags: Tags(["input": config.name]), fields: Fields([
                ("gather_time_ns", .int(0)), ("metrics_gathered", .int(Int64(received.exchange(0, ordering: .relaxed)))),
                ("errors", .int(Int64(stats.errors))), ("up", .int(up ? 1 : 0)),
            ]), time: clock())
            sink(config.finish([selfMetric], hostTags: hostTags))
        }
    }
}

/// A collector value and whether a gather of it is in progress; gathers run on a thread of their own so that a
/// collector stuck in a read (a hung NFS mount under `statfs`) never blocks Swift's cooperative pool.
final class CollectorBox: @unchecked Sendable {
    enum Outcome: Sendable {
        case points([Point])
        case failed(CollectorError)
        case timedOut
        case busy
    }

    private let lock = Mutex<(collector: (any Collector)?, busy: Bool)>((nil, false))

    init(_ collector: any Collector) {
        lock.withLock { $0 = (collector, false) }
    }

    func gather(_ context: GatherContext, timeout: Duration) async -> Outcome {
        guard let collector = lock.withLock({ state -> (any Collector)? in
            guard !state.busy else { return nil }
            state.busy = true
            return state.collector
        }) else { return .busy }
        let resumed = Mutex(false)
        return await withCheckedContinuation { (continuation: CheckedContinuation<Outcome, Never>) in
            let resume: @Sendable (Outcome) -> Void = { outcome in
                let first = resumed.withLock { done -> Bool in
                    defer { done = true }
                    return !done
                }
                if first { continuation.resume(returning: outcome) }
            }
            let watch = GatherWatchdog.shared.add(after: timeout) { resume(.timedOut) }
            GatherThread.run { [self] in
                var c = collector
                let outcome: Outcome
                do throws(CollectorError) { outcome = .points(try c.gather(context)) } catch { outcome = .failed(error) }
                let finished = c
                lock.withLock { $0 = (finished, false) }
                resume(outcome)
                GatherWatchdog.shared.remove(watch)
            }
        }
    }
}

/// The threads gathers run on: one per gather in progress, so that a stuck one (a hung mount) holds only its own
/// thread, never one of Swift's pooled ones. A thread that finishes waits for the next gather and ends after a minute
/// without one, so collectors gathering every few seconds reuse the same few threads instead of starting one per
/// gather.
enum GatherThread {
    private static let pool = GatherThreadPool()

    static func run(_ body: @escaping @Sendable () -> Void) { pool.run(body) }
}

final class GatherThreadPool: @unchecked Sendable {
    /// Guards `jobs` and `idle`.
    private let condition = NSCondition()
    private var jobs: [@Sendable () -> Void] = []
    /// Threads waiting for a job (each will take one).
    private var idle = 0
    private let idleLifetime: TimeInterval

    init(idleLifetime: TimeInterval = 60) { self.idleLifetime = idleLifetime }

    func run(_ body: @escaping @Sendable () -> Void) {
        condition.lock()
        jobs.append(body)
        let spawn = jobs.count > idle
        condition.signal()
        condition.unlock()
        if spawn { Thread { [self] in work() }.start() }
    }

    private func work() {
        condition.lock()
        while true {
            while jobs.isEmpty {
                idle += 1
                let woken = condition.wait(until: Date(timeIntervalSinceNow: idleLifetime))
                idle -= 1
                if !woken && jobs.isEmpty {
                    condition.unlock()
                    return
                }
            }
            let job = jobs.removeFirst()
            condition.unlock()
            job()
            condition.lock()
        }
    }
}

extension Duration {
    var nanosecondsValue: Int64 {
        let (seconds, attoseconds) = components
        return seconds * 1_000_000_000 + attoseconds / 1_000_000_000
    }
}
