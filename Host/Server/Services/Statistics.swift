import Alerting
import Engine
import Foundation
import Storage
import TockModel

/// One statistic of the daemon as Kapacitor publishes it (`vars.StatsData`): a measurement name, tags and values.
struct Statistic: Sendable {
    enum Number: Sendable {
        case int(Int64)
        case double(Double)
    }

    /// The key under `kapacitor` in `/kapacitor/v1/debug/vars`.
    var key: String
    var name: String
    var tags: [(String, String)]
    var values: [(String, Number)]

    var json: JSON {
        .object([
            ("name", .string(name)),
            ("tags", .object(tags.map { ($0.0, .string($0.1)) })),
            ("values", .object(values.map { key, value in
                switch value {
                case .int(let i): (key, .int(i))
                case .double(let d): (key, .double(d))
                }
            })),
        ])
    }

    /// The statistic as a point of `database`.`retentionPolicy` at `time`, as Kapacitor's stats service writes it.
    func point(database: String, retentionPolicy: String, time: Timestamp) -> Point {
        Point(name: name, tags: Tags(tags), fields: Fields(values.map { key, value in
            switch value {
            case .int(let i): (key, FieldValue.int(i))
            case .double(let d): (key, FieldValue.double(d))
            }
        }), time: time, database: database, retentionPolicy: retentionPolicy)
    }
}

/// The daemon's statistics: the one source of `/kapacitor/v1/debug/vars` and of the `[stats]` service's points.
struct DaemonStatistics: Sendable {
    let master: TaskMaster
    /// The host inventory, when `[hosts]` is enabled.
    let hosts: HostInventory?
    /// The collectors' counts come from here.
    let ingest: Ingest
    let hostname: String
    /// When the daemon started (ns since the epoch), for `uptime`.
    let started: Int64

    /// The global counters, Kapacitor's top-level expvars.
    struct Global {
        var numTasks: Int
        var numEnabledTasks: Int
        var numSubscriptions: Int
        /// Seconds since the daemon started.
        var uptime: Double
    }

    func global() throws(StoreError) -> Global {
        let counts = try master.counts()
        return Global(numTasks: counts.tasks, numEnabledTasks: counts.enabled, numSubscriptions: 0,
                      uptime: Double(nowNanoseconds() - started) / 1e9)
    }

    /// Every statistic but the global ones, in the order debug/vars lists them. The counts that `/metrics` also
    /// shows are read from the metrics registry after ``sampleMetrics()``.
    func all() -> [Statistic] {
        let running = sampleMetrics()
        let values = master.metrics.values()
        var stats: [Statistic] = []
        let common = [("task_master", "main"), ("host", hostname)]
        let ingress = values.series(MetricNames.pointsReceived).map { p in
            (labels: p.series.labels.map { ($0.name, $0.value) }, count: p.value)
        }
        for p in ingress.sorted(by: { $0.labels.map(\.1).lexicographicallyPrecedes($1.labels.map(\.1)) }) {
            let name = p.labels.map(\.1).joined(separator: ":")
            stats.append(Statistic(key: "ingress:\(name)", name: "ingress", tags: p.labels + common,
                                   values: [("points_received", .int(p.count))]))
        }
        var restarts: Int64 = 0
        for (task, runner) in running {
            let udfRestarts = master.udfRestarts(task: task).keys.reduce(Int64(0)) { sum, node in
                sum + values[MetricNames.udfRestarts, ("task", task), ("node", node)]
            }
            restarts += udfRestarts
            stats.append(Statistic(
                key: "task:\(task)", name: "task", tags: [("task", task)] + common,
                values: [("queued_points", .int(values[MetricNames.queuedPoints, ("task", task)])),
                         ("udf_restarts", .int(udfRestarts))]))
            let nodeStats = runner.stats()
            var emitted: [String: Int64] = [:]
            for s in nodeStats {
                let labels = [("task", task), ("node", s.node)]
                let counted = [("collected", values.value(MetricNames.nodeIn, labels)),
                               ("emitted", values.value(MetricNames.nodeOut, labels)),
                               ("errors", values.value(MetricNames.nodeErrors, labels))]
                emitted[s.node] = counted[1].1
                stats.append(Statistic(
                    key: "nodes:\(task):\(s.node)", name: "nodes", tags: labels + common,
                    values: s.kapacitorStatistics.map { stat in
                        (stat.name, .int(counted.first { $0.0 == stat.name }?.1 ?? stat.value))
                    }))
            }
            // Kapacitor counts each edge; here every edge of a node carries all that the node emits.
            let nodes = runner.pipeline.nodes
            for parent in nodes {
                for child in parent.children {
                    let count = emitted[parent.id] ?? 0
                    let child = nodes[child.node].id
                    stats.append(Statistic(
                        key: "edges:\(task):\(parent.id):\(child)", name: "edges",
                        tags: [("task", task), ("parent", parent.id), ("child", child),
                               ("type", parent.outputType?.rawValue ?? "stream")] + common,
                        values: [("collected", .int(count)), ("emitted", .int(count))]))
                }
            }
        }
        for h in (master.alertService as? AlertingService)?.deliveryStats ?? [] {
            let labels = [("task", h.task), ("node", h.node), ("handler", h.handler)]
            stats.append(Statistic(
                key: "alert_handler:\(h.task):\(h.node):\(h.handler)", name: "alert_handler", tags: labels + common,
                values: [("sent", .int(values.value(MetricNames.alertsSent, labels))),
                         ("retried", .int(values.value(MetricNames.alertsRetried, labels))),
                         ("failed", .int(values.value(MetricNames.alertsFailed, labels))),
                         ("dropped", .int(values.value(MetricNames.alertsDropped, labels))),
                         ("queued", .int(values.value(MetricNames.alertsQueued, labels)))]))
        }
        stats.append(Statistic(key: "write", name: "write", tags: [("host", hostname)],
                               values: [("requests", .int(values[MetricNames.writeRequests])),
                                        ("write_errors", .int(values[MetricNames.writeErrors]))]))
        stats.append(Statistic(key: "udf", name: "udf", tags: [("host", hostname)],
                               values: [("restarts", .int(restarts))]))
        stats.append(Statistic(key: "load", name: "load", tags: [("host", hostname)],
                               values: [("errors", .int(values[MetricNames.loadErrors]))]))
        for name in ingest.collectorStats.keys.sorted() {
            let labels = [("collector", name)]
            stats.append(Statistic(key: "collector:\(name)", name: "collector", tags: labels + common, values: [
                ("gathers", .int(values.value(MetricNames.collectorGathers, labels))),
                ("errors", .int(values.value(MetricNames.collectorErrors, labels))),
                ("timeouts", .int(values.value(MetricNames.collectorTimeouts, labels))),
            ]))
        }
        if hosts != nil {
            stats.append(Statistic(key: "hosts", name: "hosts", tags: [("host", hostname)], values: [
                ("hosts", .int(values[MetricNames.hosts])),
                ("recent_series", .int(values[MetricNames.hostSeries])),
                ("recent_values", .int(values[MetricNames.hostValues])),
                ("refused_series", .int(values[MetricNames.hostRefusedSeries])),
                ("stored_series", .int(values[MetricNames.hostStoredSeries])),
                ("stored_values", .int(values[MetricNames.hostStoredValues])),
            ]))
        }
        return stats
    }

    /// Copies into the metrics registry what the running tasks and the alert handlers count themselves
    /// (``Metrics/sample(_:)``), and returns the running tasks it read.
    @discardableResult
    func sampleMetrics() -> [(id: String, runner: TaskRunner)] {
        let running = master.runningSnapshot()
        var samples: [Sample] = []
        for (task, runner) in running {
            samples.append(Sample(series: Series(MetricNames.queuedPoints, [("task", task)]),
                                  value: Int64(runner.queuedPointCount), kind: .gauge))
            for (node, count) in master.udfRestarts(task: task) {
                samples.append(Sample(series: Series(MetricNames.udfRestarts, [("task", task), ("node", node)]),
                                      value: Int64(count), kind: .counter))
            }
            for s in runner.stats() {
                let labels = [("task", task), ("node", s.node)]
                samples += [(MetricNames.nodeIn, s.received), (MetricNames.nodeOut, s.emitted),
                            (MetricNames.nodeErrors, s.errors)].map { name, value in
                    Sample(series: Series(name, labels), value: Int64(value), kind: .counter)
                }
            }
        }
        for h in (master.alertService as? AlertingService)?.deliveryStats ?? [] {
            let labels = [("task", h.task), ("node", h.node), ("handler", h.handler)]
            samples += [(MetricNames.alertsSent, h.stats.sent), (MetricNames.alertsRetried, h.stats.retried),
                        (MetricNames.alertsFailed, h.stats.failed), (MetricNames.alertsDropped, h.stats.dropped)].map {
                Sample(series: Series($0.0, labels), value: Int64($0.1), kind: .counter)
            }
            samples.append(Sample(series: Series(MetricNames.alertsQueued, labels), value: Int64(h.stats.queued), kind: .gauge))
        }
        for (name, s) in ingest.collectorStats {
            samples += [(MetricNames.collectorGathers, s.gathers), (MetricNames.collectorErrors, s.errors),
                        (MetricNames.collectorTimeouts, s.timeouts)].map {
                Sample(series: Series($0.0, [("collector", name)]), value: Int64($0.1), kind: .counter)
            }
        }
        if let inventory = hosts?.statistics {
            samples += [(MetricNames.hosts, inventory.hosts), (MetricNames.hostSeries, inventory.series),
                        (MetricNames.hostValues, inventory.values)].map {
                Sample(series: Series($0.0), value: Int64($0.1), kind: .gauge)
            }
            samples.append(Sample(series: Series(MetricNames.hostRefusedSeries), value: Int64(inventory.refusedSeries), kind: .counter))
            if let values = inventory.storedValues, let series = inventory.storedSeries {
                samples.append(Sample(series: Series(MetricNames.hostStoredSeries), value: Int64(series), kind: .gauge))
                samples.append(Sample(series: Series(MetricNames.hostStoredValues), value: Int64(values), kind: .gauge))
            }
        }
        master.metrics.sample(samples)
        return running
    }

    /// What the `[stats]` service writes each interval: Kapacitor's `kapacitor` point (the global counters, no
    /// tags), every statistic of ``all()``, and `runtime` (the process's memory, in place of Go's memstats).
    func points(database: String, retentionPolicy: String, time: Timestamp) throws(StoreError) -> [Point] {
        let g = try global()
        var stats = [Statistic(key: "kapacitor", name: "kapacitor", tags: [],
                               values: [("num_enabled_tasks", .int(Int64(g.numEnabledTasks))),
                                        ("num_subscriptions", .int(Int64(g.numSubscriptions))),
                                        ("num_tasks", .int(Int64(g.numTasks))), ("uptime", .double(g.uptime))])]
        stats += all()
        if let memory = Self.residentMemory() {
            stats.append(Statistic(key: "runtime", name: "runtime", tags: [], values: [("Sys", .int(memory))]))
        }
        return stats.map { $0.point(database: database, retentionPolicy: retentionPolicy, time: time) }
    }

    /// The process's resident memory in bytes (from /proc/self/statm), nil where that is not readable.
    static func residentMemory() -> Int64? {
        guard let text = try? String(contentsOfFile: "/proc/self/statm", encoding: .utf8) else { return nil }
        let parts = text.split(separator: " ")
        guard parts.count > 1, let pages = Int64(parts[1]) else { return nil }
        return pages * Int64(sysconf(Int32(_SC_PAGESIZE)))
    }
}
