import Dispatch
import Foundation
import Logging
import Synchronization
import TockModel

/// Runs collectors on their intervals and hands their points to a sink: the daemon's ingest (points enter the engine
/// exactly as `/write` points do) or an agent's shipper.
///
/// Collectors started together with the same interval and no jitter gather in rounds: one timer a round, the
/// gathers one after another on one thread (``GatherRound``), and one call of the sink with every point of the round.
/// A collector with a jitter gathers on its own, at its interval plus a random delay. Every gather is bounded by its
/// section's timeout: a gather that hangs past it is reported failed and the collector is skipped until it returns,
/// and a slow gather hands the rest of its round to another thread, so one slow collector never holds up another nor
/// runs twice at once. After every gather a self-metric point `internal_gather,input=NAME` (Telegraf's internal
/// plugin's names) reports `gather_time_ns`, `metrics_gathered`, `errors` (since start) and `up` (1 when the gather
/// succeeded, 0 otherwise), so a task can alert on a collector that stopped working.
public final class CollectorScheduler: Sendable {
    /// Receives the points of each round (each collector's, then its self-metric).
    public typealias Sink = @Sendable ([Point]) -> Void

    private let initial: [CollectorConfig]
    private let host: HostFS
    private let hostTags: [String: String]
    private let sink: Sink
    private let logger: Logger
    private let clock: @Sendable () -> Timestamp
    private let running = Mutex<[String: Running]>([:])
    private let counters = Mutex<[String: Stats]>([:])
    private let factory: Factory

    /// A running section: a member of a round, or a streaming collector's own task.
    private struct Running: Sendable {
        var config: CollectorConfig
        var round: Round?
        var task: Task<Void, Never>?
    }

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
                logger: Logger = .discarding,
                factory: @escaping Factory = { config throws(CollectorError) in
                    try CollectorRegistry.instance(for: config)
                },
                sink: @escaping Sink) {
        self.factory = factory
        self.initial = configs
        self.host = host
        self.hostTags = hostTags
        self.clock = clock
        self.logger = logger
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
    /// running on its schedule; changed or new ones start (in rounds of their own), removed ones stop. Every new
    /// section is built first: when one is refused, nothing changes.
    @discardableResult
    public func update(_ configs: [CollectorConfig]) throws(CollectorError) -> Changes {
        var wanted: [(key: String, config: CollectorConfig)] = []
        var seen: [String: Int] = [:]
        for config in configs {
            seen[config.name, default: 0] += 1
            wanted.append((seen[config.name]! == 1 ? config.name : "\(config.name)#\(seen[config.name]!)", config))
        }
        let current = running.withLock { $0 }
        var built: [(key: String, config: CollectorConfig, instance: CollectorInstance)] = []
        for (key, config) in wanted where current[key]?.config != config {
            built.append((key, config, try factory(config)))
        }
        var changes = Changes()
        let wantedKeys = Set(wanted.map(\.key))
        let rebuilt = Set(built.map(\.key))
        var emptied: [Round] = []
        running.withLock { running in
            for (key, entry) in running where !wantedKeys.contains(key) || rebuilt.contains(key) {
                entry.task?.cancel()
                if let round = entry.round, round.remove(key) { emptied.append(round) }
                running[key] = nil
                if !wantedKeys.contains(key) { changes.stopped.append(key) }
            }
            // The polled sections started now form one round per interval; a jittered one gathers on its own.
            var byInterval: [Duration: Round] = [:]
            var rounds: [Round] = []
            for (key, config, instance) in built {
                switch instance {
                case .polled(let collector):
                    let member = Round.Member(key: key, config: config, box: CollectorBox(collector))
                    if config.jitter == .zero, let round = byInterval[config.interval] {
                        round.add(member)
                        running[key] = Running(config: config, round: round)
                    } else {
                        let round = Round(interval: config.interval, jitter: config.jitter, first: member)
                        if config.jitter == .zero { byInterval[config.interval] = round }
                        rounds.append(round)
                        running[key] = Running(config: config, round: round)
                    }
                case .streaming(let collector):
                    let task = Task { [self] in await self.run(key: key, config: config, streaming: collector) }
                    running[key] = Running(config: config, task: task)
                }
                changes.started.append(key)
            }
            for round in rounds { schedule(round, at: TimerThread.now) }
            changes.kept = wanted.map(\.key).filter { !rebuilt.contains($0) }
        }
        for round in emptied { round.cancel() }
        return changes
    }

    /// Stops every collector; a round in progress still hands over its points.
    public func stop() {
        let (rounds, tasks) = takeAll()
        for round in rounds { round.cancel() }
        for task in tasks { task.cancel() }
    }

    /// Stops every collector and waits until the gathers in progress have handed over their points (each within
    /// its section's timeout): an agent that stops loses no gather that was under way.
    public func drain() async {
        let (rounds, tasks) = takeAll()
        for round in rounds { round.cancel() }
        for task in tasks { task.cancel() }
        for round in rounds { await withCheckedContinuation { done in round.whenIdle { done.resume() } } }
        for task in tasks { await task.value }
    }

    /// ``drain()`` for a caller on a thread of its own (it blocks the thread): the agent's executable, which runs
    /// without Swift's concurrency pools.
    public func drainBlocking() {
        let (rounds, tasks) = takeAll()
        for round in rounds { round.cancel() }
        for task in tasks { task.cancel() }
        let idle = DispatchSemaphore(value: 0)
        for round in rounds {
            round.whenIdle { idle.signal() }
            idle.wait()
        }
        for task in tasks {
            Task {
                await task.value
                idle.signal()
            }
            idle.wait()
        }
    }

    /// Every round and every streaming collector's task, forgotten.
    private func takeAll() -> (rounds: [Round], tasks: [Task<Void, Never>]) {
        running.withLock { running in
            defer { running = [:] }
            var rounds: [ObjectIdentifier: Round] = [:]
            var tasks: [Task<Void, Never>] = []
            for entry in running.values {
                if let task = entry.task { tasks.append(task) }
                if let round = entry.round { rounds[ObjectIdentifier(round)] = round }
            }
            return (Array(rounds.values), tasks)
        }
    }

    /// How late a round may start so that timers due together fire together: 1 % of the interval, at most 100 ms.
    public static func tolerance(of interval: Duration) -> Duration {
        min(interval / 100, .milliseconds(100))
    }

    /// Arms `round` to gather at `start` (plus a jitter) on the timer thread. Rounds of the same interval due about
    /// together (within the tolerance) start in one wake-up.
    private func schedule(_ round: Round, at start: UInt64) {
        let jitter = round.jitter == .zero ? Duration.zero
            : .nanoseconds(Int64.random(in: 0...max(0, round.jitter.nanosecondsValue)))
        round.arm(at: start &+ jitter.nanoseconds, slack: round.jitter == .zero ? Self.tolerance(of: round.interval) : .zero) { [self] in
            gather(round, due: start)
        }
    }

    /// Gathers every member of `round` (on gather threads), hands the points to the sink, and arms the next round one
    /// interval after this one was due (or the first such time still ahead, when the round took longer than that).
    private func gather(_ round: Round, due: UInt64) {
        guard let members = round.begin() else { return }
        GatherRound(members: members.map { member in
            let logger = logger.with("collector", member.config.name)
            return GatherRound.Member(box: member.box, context: { [clock, host] in
                GatherContext(time: clock(), host: host, timeout: member.config.timeout, logger: logger)
            }, timeout: member.config.timeout)
        }).run { [self] results in
            // A round that completed while the collectors were stopping still hands over its points.
            var batch: [Point] = []
            for (member, result) in zip(members, results) { batch += report(member, result) }
            sink(batch)
            if round.end() { schedule(round, at: TimerThread.next(after: due, every: round.interval)) }
        }
    }

    /// Logs a failed gather, counts it, and returns the member's points with its self-metric, finished.
    private func report(_ member: Round.Member, _ result: GatherRound.Result) -> [Point] {
        let config = member.config
        var points: [Point] = []
        var up = true
        let logger = logger.with("collector", config.name)
        switch result.outcome {
        case .points(let gathered): points = gathered
        case .failed(let error):
            up = false
            logger.error("\(error.message)")
        case .timedOut:
            up = false
            logger.error("gather took longer than its timeout (\(config.timeout)); skipped until it returns")
        case .busy:
            up = false
            logger.warning("the previous gather has not returned yet; this one is skipped")
        }
        let stats = counters.withLock { all -> Stats in
            var s = all[member.key] ?? Stats()
            s.gathers += 1
            if !up { s.errors += 1 }
            if case .timedOut = result.outcome { s.timeouts += 1 }
            if case .failed(let error) = result.outcome { s.lastError = error.message }
            all[member.key] = s
            return s
        }
        let selfMetric = Point(name: "internal_gather", tags: Tags(["input": config.name]), fields: Fields([
            ("gather_time_ns", .int(result.elapsed.nanosecondsValue)), ("metrics_gathered", .int(Int64(points.count))),
            ("errors", .int(Int64(stats.errors))), ("up", .int(up ? 1 : 0)),
        ]), time: result.time)
        points.append(selfMetric)
        return config.finish(points, hostTags: hostTags)
    }
}

/// Collectors that gather together: started by the same ``CollectorScheduler/update(_:)`` with the same interval (or
/// one collector with a jitter). Members leave when their section is stopped or changed; a round left empty stops.
private final class Round: Sendable {
    struct Member: Sendable {
        var key: String
        var config: CollectorConfig
        var box: CollectorBox
    }

    private struct State {
        var members: [Member]
        /// The timer of the next gather, while one is armed.
        var timer: TimerThread.ID?
        var gathering = false
        var stopped = false
        /// Called once the gather in progress is over (``whenIdle(_:)``).
        var waiters: [@Sendable () -> Void] = []
    }

    let interval: Duration
    let jitter: Duration
    private let state: Mutex<State>

    init(interval: Duration, jitter: Duration, first: Member) {
        self.interval = interval
        self.jitter = jitter
        state = Mutex(State(members: [first]))
    }

    func add(_ member: Member) { state.withLock { $0.members.append(member) } }

    /// Removes a member; true when none is left.
    func remove(_ key: String) -> Bool {
        state.withLock { state in
            state.members.removeAll { $0.key == key }
            return state.members.isEmpty
        }
    }

    /// Arms the next gather, unless the round was stopped.
    func arm(at deadline: UInt64, slack: Duration, _ fire: @escaping @Sendable () -> Void) {
        state.withLock { state in
            guard !state.stopped else { return }
            state.timer = TimerThread.shared.add(at: deadline, slack: slack, fire: fire)
        }
    }

    /// The members to gather now; nil once the round was stopped.
    func begin() -> [Member]? {
        state.withLock { state in
            guard !state.stopped else { return nil }
            state.timer = nil
            state.gathering = true
            return state.members
        }
    }

    /// The gather is over; true when the round goes on (it was not stopped meanwhile).
    func end() -> Bool {
        let (goOn, waiters) = state.withLock { state in
            state.gathering = false
            defer { state.waiters = [] }
            return (!state.stopped, state.waiters)
        }
        for waiter in waiters { waiter() }
        return goOn
    }

    /// Stops the round: no gather starts from now on (one in progress finishes and hands over its points).
    func cancel() {
        state.withLock { state in
            state.stopped = true
            if let timer = state.timer { TimerThread.shared.remove(timer) }
            state.timer = nil
        }
    }

    /// Calls `idle` once no gather of the round is in progress (at once when none is).
    func whenIdle(_ idle: @escaping @Sendable () -> Void) {
        let now = state.withLock { state -> Bool in
            guard state.gathering else { return true }
            state.waiters.append(idle)
            return false
        }
        if now { idle() }
    }
}

extension CollectorScheduler {
    /// A streaming collector: started once (restarting itself as it must), signalled at every interval, and
    /// reported at every interval: `up` while it runs, `metrics_gathered` since the last report.
    fileprivate func run(key: String, config: CollectorConfig, streaming collector: any StreamingCollector) async {
        let received = Atomic<Int>(0)
        let logger = logger.with("collector", config.name)
        let context = StreamContext(clock: clock, logger: logger) { [sink, hostTags] points in
            received.add(points.count, ordering: .relaxed)
            sink(config.finish(points, hostTags: hostTags))
        }
        do { try collector.start(context) } catch {
            logger.error("\(error.message)")
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

extension Duration {
    var nanosecondsValue: Int64 {
        let (seconds, attoseconds) = components
        return seconds * 1_000_000_000 + attoseconds / 1_000_000_000
    }
}
