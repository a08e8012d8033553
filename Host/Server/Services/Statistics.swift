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

    /// Every statistic but the global ones, in the order debug/vars lists them.
    func all() -> [Statistic] {
        let snapshot = master.metrics.snapshot()
        var stats: [Statistic] = []
        let common = [("task_master", "main"), ("host", hostname)]
        for p in snapshot.pointsReceived {
            let i = p.ingress
            stats.append(Statistic(
                key: "ingress:\(i.database):\(i.retentionPolicy):\(i.measurement)", name: "ingress",
                tags: [("database", i.database), ("retention_policy", i.retentionPolicy), ("measurement", i.measurement)] + common,
                values: [("points_received", .int(Int64(p.count)))]))
        }
        var restarts = 0
        for (task, runner) in master.runningSnapshot() {
            let udfRestarts = master.udfRestarts(task: task).values.reduce(0, +)
            restarts += udfRestarts
            stats.append(Statistic(
                key: "task:\(task)", name: "task", tags: [("task", task)] + common,
                values: [("queued_points", .int(Int64(runner.queuedPointCount))), ("udf_restarts", .int(Int64(udfRestarts)))]))
            let nodeStats = runner.stats()
            for s in nodeStats {
                stats.append(Statistic(
                    key: "nodes:\(task):\(s.node)", name: "nodes", tags: [("task", task), ("node", s.node)] + common,
                    values: s.kapacitorStatistics.map { ($0.name, .int($0.value)) }))
            }
            // Kapacitor counts each edge; here every edge of a node carries all that the node emits.
            let emitted = Dictionary(nodeStats.map { ($0.node, $0.emitted) }, uniquingKeysWith: { a, _ in a })
            let nodes = runner.pipeline.nodes
            for parent in nodes {
                for child in parent.children {
                    let count = Int64(emitted[parent.id] ?? 0)
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
            stats.append(Statistic(
                key: "alert_handler:\(h.task):\(h.node):\(h.handler)", name: "alert_handler",
                tags: [("task", h.task), ("node", h.node), ("handler", h.handler)] + common,
                values: [("sent", .int(Int64(h.stats.sent))), ("retried", .int(Int64(h.stats.retried))),
                         ("failed", .int(Int64(h.stats.failed))), ("dropped", .int(Int64(h.stats.dropped))),
                         ("queued", .int(Int64(h.stats.queued)))]))
        }
        stats.append(Statistic(key: "write", name: "write", tags: [("host", hostname)],
                               values: [("requests", .int(Int64(snapshot.writeRequests))),
                                        ("write_errors", .int(Int64(snapshot.writeErrors)))]))
        stats.append(Statistic(key: "udf", name: "udf", tags: [("host", hostname)],
                               values: [("restarts", .int(Int64(restarts)))]))
        stats.append(Statistic(key: "load", name: "load", tags: [("host", hostname)],
                               values: [("errors", .int(Int64(master.metrics.loadErrorCount)))]))
        return stats
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
