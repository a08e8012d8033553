import Dispatch
import Synchronization
import TICKScript
import TockModel

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Where a batch task's `query()` nodes get their batches.
public enum BatchSourceMode: Sendable, Hashable {
    /// Each node queries InfluxDB on its schedule (`every`/`cron`).
    case schedule
    /// The nodes emit only what the runner feeds them (``TaskRunner/feed(_:toQuery:)``): a replayed recording.
    case recorded
}

/// The `batch|query()` node (Kapacitor's `QueryNode`, `batch.go`).
enum BatchNodes {
    static let specs: [NodeSpec] = [
        NodeSpec(
            name: "query", arguments: Signature([.string]),
            properties: [
                PropertySpec("period", Signature([.duration])),
                PropertySpec("every", Signature([.duration])),
                PropertySpec("offset", Signature([.duration])),
                PropertySpec("cron", Signature([.string])),
                PropertySpec("align"),
                PropertySpec("alignGroup"),
                PropertySpec("groupBy", Signature(variadic: .oneOf([.string, .star, .lambda, .list(.oneOf([.string, .star]))]))),
                PropertySpec("groupByMeasurement"),
                PropertySpec("fill", Signature([.oneOf([.string, .int, .float])])),
                PropertySpec("cluster", Signature([.string])),
            ],
            wants: .batch, provides: .batch, make: { try QueryNode($0) }),
    ]
}

/// Queries InfluxDB on a schedule and emits each result's series as batches; in ``BatchSourceMode/recorded`` it
/// only passes on what the runner feeds it.
///
/// Runs are driven by a Dispatch timer; the query runs in a Swift task on the engine's ``IOExecutor`` and its batches
/// are posted to the task's executor,
/// so the executor never waits for InfluxDB. A run still in flight when the next one is due makes that run be
/// skipped; a query that fails is counted as an error of the node (InfluxDB's message logged) and the next run
/// happens as planned.
final class QueryNode: CountingNode {
    let plan: BatchQueryPlan
    let mode: BatchSourceMode
    let influxDB: (any InfluxDBService)?
    private var timer: (any DispatchSourceTimer)?
    private let inFlight = InFlightQuery()

    /// The shortest `every` accepted: a shorter one would keep a timer firing without pause.
    static let minimumEvery: Int64 = 1_000_000

    init(_ config: NodeConfiguration) throws {
        guard case .string(let text)? = config.arguments.first else { throw NodeConfigurationError("query() needs the query text") }
        let statement = try QueryStatement(text)
        let alignGroup = config.has("alignGroup")
        var dimensions: [QueryDimension] = []
        var hasTime = false
        for v in config.property("groupBy") ?? [] {
            for d in try Self.dimensions(v, alignGroup: alignGroup) {
                if case .time = d {
                    if hasTime { throw NodeConfigurationError("groupBy cannot have more than one time dimension") }
                    hasTime = true
                }
                dimensions.append(d)
            }
        }
        var fill: QueryFill?
        switch config.property("fill")?.first {
        case .string(let s)?:
            switch s {
            case "null": fill = .null
            case "none": fill = QueryFill.none
            case "previous": fill = .previous
            case "linear": fill = .linear
            default: throw NodeConfigurationError("unexpected fill option \(s)")
            }
        case .int(let i)?: fill = .int(i)
        case .float(let f)?: fill = .float(f)
        default: fill = nil
        }
        let every = config.duration("every")
        let cronText = config.string("cron")
        if let every, every != 0, cronText != nil {
            throw NodeConfigurationError("must not set both 'every' and 'cron' properties")
        }
        var cron: CronExpression?
        if let every, every > 0 {
            if every < Self.minimumEvery {
                throw NodeConfigurationError("'every' must be at least 1ms, got \(GoDuration.format(every))")
            }
        } else if let cronText {
            do { cron = try CronExpression(cronText) } catch { throw NodeConfigurationError("\(error)") }
        } else if let every, every < 0 {
            throw NodeConfigurationError("'every' duration must must non-negative")
        } else {
            throw NodeConfigurationError("must define one of 'every' or 'cron'")
        }
        let cluster = config.string("cluster").flatMap { $0.isEmpty ? nil : $0 }
        // A replay never reaches the cluster: only a scheduled query needs it to exist.
        if config.batchSourceMode == .schedule, let cluster, let influxDB = config.influxDB, !influxDB.hasCluster(cluster) {
            throw NodeConfigurationError("no InfluxDB cluster named \"\(cluster)\" is configured (.cluster('\(cluster)'))")
        }
        plan = BatchQueryPlan(
            cluster: cluster, period: config.duration("period") ?? 0, every: cron == nil ? every : nil, cron: cron,
            offset: config.duration("offset") ?? 0, align: config.has("align"),
            groupByMeasurement: config.has("groupByMeasurement"),
            statement: statement, dimensions: dimensions, fill: fill)
        mode = config.batchSourceMode
        influxDB = config.influxDB
    }

    /// The dimensions one `groupBy` argument stands for: tag names, `*`, `time(…)` (kept as a call by the builder).
    static func dimensions(_ v: Value, alignGroup: Bool) throws -> [QueryDimension] {
        switch v {
        case .string(let s): return [.tag(s)]
        case .star: return [.star]
        case .list(let items): return try items.flatMap { try dimensions($0, alignGroup: alignGroup) }
        case .lambda(let e):
            if let (length, offset) = TimeDimension.parts(e) {
                guard length > 0 else { throw NodeConfigurationError("time() dimension must be positive, got \(GoDuration.format(length))") }
                return [.time(length: length, offset: offset, alignGroup: alignGroup)]
            }
            throw NodeConfigurationError("invalid dimension type: lambda, must be string, * or time()")
        default:
            throw NodeConfigurationError("invalid dimension type, must be string, * or time()")
        }
    }

    func start(output: any NodeOutput) throws {
        guard mode == .schedule else { return }
        guard let influxDB else {
            throw NodeConfigurationError(
                "\(output.nodeID): InfluxDB not configured, cannot query InfluxDB for batch query (no [[influxdb]] section is enabled)")
        }
        let plan = self.plan, inFlight = self.inFlight
        let timer = DispatchSource.makeTimerSource(queue: DispatchQueue(label: "tock.query.\(output.nodeID)"))
        guard var nextRun = plan.firstRun(startingAt: Self.wallClock()) else { return }
        func arm(_ at: Timestamp) {
            let delay = max(0, at - Self.wallClock())
            timer.schedule(deadline: .now() + .nanoseconds(Int(delay)), leeway: .milliseconds(1))
        }
        timer.setEventHandler {
            let run = nextRun
            Self.run(plan: plan, at: run, influxDB: influxDB, inFlight: inFlight, output: output)
            guard let following = plan.run(after: run, now: Self.wallClock()) else {
                timer.cancel()
                return
            }
            nextRun = following
            arm(following)
        }
        self.timer = timer
        arm(nextRun)
        timer.resume()
    }

    /// One run: the query over the run's window, unless the previous one is still in flight.
    static func run(plan: BatchQueryPlan, at run: Timestamp, influxDB: any InfluxDBService,
                    inFlight: InFlightQuery, output: any NodeOutput) {
        inFlight.task.withLock { current in
            if current != nil {
                output.logger.debug("skipping the query due at \(RFC3339Nano.format(run)): the previous one is still running")
                return
            }
            let (start, stop) = plan.window(forRun: run)
            let query = plan.query(start: start, stop: stop)
            output.logger.debug("starting next batch query: \(query.text)")
            current = Task(executorPreference: IOExecutor.shared) {
                defer { inFlight.task.withLock { $0 = nil } }
                do {
                    let series = try await influxDB.query(query)
                    for batch in plan.batches(series, start: start, stop: stop) {
                        inFlight.counted(batch)
                        output.post(.batch(batch))
                    }
                } catch {
                    inFlight.counts.withLock { $0.errors += 1 }
                    output.countError(BatchQueryError(query: query.text, underlying: error))
                }
            }
        }
    }

    func receive(_ message: Message, port: Int, output: any NodeOutput) throws {
        // A recording's batches stand in for the query's results.
        if case .batch(let b) = message { inFlight.counted(b) }
        output.emit(message)
    }

    /// Kapacitor's batch statistics: failed queries, and the batches and points the queries returned.
    var counters: [String: Int64] {
        let c = inFlight.counts.withLock { $0 }
        return ["query_errors": c.errors, "batches_queried": c.batches, "points_queried": c.points]
    }

    func stop(output: any NodeOutput) -> StopResult {
        timer?.cancel()
        timer = nil
        inFlight.task.withLock { $0?.cancel() }
        return .done
    }

    static func wallClock() -> Timestamp {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return Int64(ts.tv_sec) * 1_000_000_000 + Int64(ts.tv_nsec)
    }
}

/// The query task of a run still waiting for InfluxDB, if one is.
final class InFlightQuery: Sendable {
    let task = Mutex<Task<Void, Never>?>(nil)
    /// The node's counters, updated by the query tasks.
    let counts = Mutex<(errors: Int64, batches: Int64, points: Int64)>((0, 0, 0))

    func counted(_ batch: Batch) {
        counts.withLock {
            $0.batches += 1
            $0.points += Int64(batch.points.count)
        }
    }
}

/// A batch query that failed: the query and what InfluxDB (or the connection to it) said.
public struct BatchQueryError: Error, CustomStringConvertible, @unchecked Sendable {
    public var query: String
    public var underlying: any Error
    public var description: String { "error executing query: \(underlying) (query: \(query))" }
}

/// `time(length[, offset])` in a `groupBy`: the builder keeps it as a call expression (``Value/lambda(_:)``), which no
/// lambda can be (lambdas have no `time()` function).
enum TimeDimension {
    static func parts(_ e: Expression) -> (length: Int64, offset: Int64)? {
        guard case .call(let name, let args) = e.kind, name == "time", (1...2).contains(args.count) else { return nil }
        var values: [Int64] = []
        for a in args {
            guard case .duration(let ns, _) = a.kind else { return nil }
            values.append(ns)
        }
        return (values[0], values.count == 2 ? values[1] : 0)
    }
}
