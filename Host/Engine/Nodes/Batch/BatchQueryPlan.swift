import TockModel

/// What a `batch|query()` node runs: its query, its schedule and how a result becomes batches.
///
/// ``Pipeline/queryPlans`` has one per ``Pipeline/batchQueries`` entry: `tock record batch` asks it which queries
/// cover a time range, `tock run` and replays turn recorded results into the batches the node would emit.
public struct BatchQueryPlan: Sendable {
    /// The `[[influxdb]]` cluster `.cluster()` names; `nil` for the default one.
    public var cluster: String?
    /// `.period()`: how much time each query covers.
    public var period: Int64
    /// `.every()`, or `nil` when the node runs on a `.cron()` schedule.
    public var every: Int64?
    /// `.cron()`, or `nil`.
    public var cron: CronExpression?
    /// `.offset()`: how far before the run time each query ends.
    public var offset: Int64
    /// `.align()`: runs on multiples of `every`.
    public var align: Bool
    /// `.groupByMeasurement()`: batches are grouped by measurement as well as by their tags.
    public var groupByMeasurement: Bool
    /// The databases and retention policies the query reads (its `FROM`), empty strings where it names none.
    public var sources: [DBRP] { statement.sources.map { DBRP($0.database, $0.retentionPolicy) } }

    let statement: QueryStatement
    let dimensions: [QueryDimension]
    let fill: QueryFill?

    /// Whether `GROUP BY` has a `time()` dimension: each batch then ends at the query's stop.
    public var isGroupedByTime: Bool {
        dimensions.contains { if case .time = $0 { true } else { false } }
    }

    /// The query over `[start, stop)`, as the node sends it.
    public func query(start: Timestamp, stop: Timestamp) -> InfluxQuery {
        InfluxQuery(cluster: cluster, text: statement.text(start: start, stop: stop, dimensions: dimensions, fill: fill))
    }

    /// The first run time after `t`: `t + every` (rounded to `every` with `align`, as Kapacitor's ticker `Next`), or the
    /// cron schedule's next time; `nil` when a cron schedule never fires again.
    public func next(after t: Timestamp) -> Timestamp? {
        if let every {
            let next = t &+ every
            return align ? GoDuration.round(next, every) : next
        }
        return cron?.next(after: t)
    }

    /// The queries the node would run over `[start, stop]`: one per run time after `start` up to `stop`, each covering
    /// `[run - offset - period, run - offset)`, as Kapacitor's `QueryNode.Queries` lists them for `record batch`. With
    /// `now`, runs whose query would end after it are left out (Kapacitor stops there).
    public func queries(from start: Timestamp, to stop: Timestamp, now: Timestamp? = nil)
        -> [(query: InfluxQuery, start: Timestamp, stop: Timestamp)] {
        var result: [(query: InfluxQuery, start: Timestamp, stop: Timestamp)] = []
        var current = start
        // A bound on the count keeps a tiny `every` over a long range from building an unbounded list.
        while result.count < Self.maximumQueries, let next = next(after: current), next <= stop, next > current {
            current = next
            let qstop = next &- offset
            if let now, qstop > now { break }
            let qstart = qstop &- period
            result.append((query(start: qstart, stop: qstop), qstart, qstop))
        }
        return result
    }

    /// The first run after the node starts at `now`: `now + every`, the next multiple of `every` with `align`
    /// (Kapacitor's ticker `Start`), or the cron schedule's next time.
    func firstRun(startingAt now: Timestamp) -> Timestamp? {
        if let every { return align ? GoDuration.truncate(now, every) &+ every : now &+ every }
        return cron?.next(after: now)
    }

    /// The run after `run` when it is now `now`: runs that would already be past are skipped, as Go's ticker drops
    /// the ticks a busy receiver misses.
    func run(after run: Timestamp, now: Timestamp) -> Timestamp? {
        if let every {
            var next = run &+ every
            if next <= now { next = next &+ (now - next) / every * every &+ every }
            return next
        }
        return cron?.next(after: max(run, now))
    }

    /// The time range the run at `run` queries: `[run - offset - period, run - offset)`.
    func window(forRun run: Timestamp) -> (start: Timestamp, stop: Timestamp) {
        let stop = run &- offset
        return (stop &- period, stop)
    }

    /// The most queries ``queries(from:to:now:)`` lists.
    public static let maximumQueries = 100_000

    /// A query result as the node emits it (Kapacitor's `ResultToBufferedBatches`): one batch per series, named
    /// after it, with its tags as the group (sorted tag names; the measurement too with `groupByMeasurement`); each
    /// row a point with the series' tags, its `time` column as time and its other non-null columns as fields (rows
    /// without any are left out). A batch's `tmax` is its latest point's time, or `stop` when it has none or the
    /// query groups by `time()`.
    public func batches(_ series: [QuerySeries], start: Timestamp, stop: Timestamp) -> [Batch] {
        series.map { s in
            let tags = Tags(s.tags)
            let dimensions = Dimensions(byName: groupByMeasurement, tagNames: tags.sortedKeys)
            let timeColumn = s.columns.firstIndex(of: "time")
            var points: [BatchPoint] = []
            points.reserveCapacity(s.values.count)
            var tmax: Timestamp? = nil
            for row in s.values {
                var time: Timestamp = 0
                var fields: [(String, FieldValue)] = []
                for (i, column) in s.columns.enumerated() where i < row.count {
                    if i == timeColumn {
                        time = Self.time(row[i])
                    } else if let v = row[i] {
                        fields.append((column, v))
                    }
                }
                guard !fields.isEmpty else { continue }
                if time > (tmax ?? Int64.min) { tmax = time }
                points.append(BatchPoint(time: time, fields: Fields(fields), tags: tags))
            }
            let end = (tmax == nil || isGroupedByTime) ? stop : tmax!
            return Batch(name: s.name, group: GroupID(name: s.name, tags: tags, dimensions: dimensions), tags: tags,
                         dimensions: dimensions, tmax: end, points: points)
        }
    }

    /// A `time` cell: nanoseconds (the client asks `epoch=ns`), or an RFC 3339 string from a result that has them.
    static func time(_ v: FieldValue?) -> Timestamp {
        switch v {
        case .int(let i)?: i
        case .double(let d)?: d.isFinite && abs(d) < 9.2e18 ? Int64(d) : 0
        case .uint(let u)?: u <= UInt64(Int64.max) ? Int64(u) : 0
        case .string(let s)?: RFC3339Nano.parse(s) ?? 0
        default: 0
        }
    }
}
