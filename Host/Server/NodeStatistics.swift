import Engine

extension NodeStats {
    /// The node's statistics as Kapacitor names and reports them (`node-stats` of a task, the `nodes` points of
    /// `[stats]`, debug/vars), sorted by name: the common ones and the node's own counters.
    var kapacitorStatistics: [(name: String, value: Int64)] {
        var all: [(name: String, value: Int64)] = [
            ("avg_exec_time_ns", averageExecutionNanoseconds), ("collected", Int64(received)),
            ("emitted", Int64(emitted)), ("errors", Int64(errors)), ("working_cardinality", 0),
        ]
        all += counters.map { ($0.key, $0.value) }
        return all.sorted { $0.name < $1.name }
    }
}

/// A task's `stats` as Kapacitor's task API shows them.
func taskStatisticsJSON(_ nodes: [NodeStats]) -> JSON {
    .object([
        ("task-stats", .object([("throughput", .double(0))])),
        ("node-stats", .object(nodes.map { s -> (String, JSON) in
            (s.node, .object(s.kapacitorStatistics.map { ($0.name, .int($0.value)) }))
        })),
    ])
}
