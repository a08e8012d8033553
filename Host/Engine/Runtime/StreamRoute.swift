import TockModel

extension Pipeline {
    /// The measurements the task's stream reads, or `nil` when it reads every measurement: the `.measurement()` of
    /// each `from()` under a `stream` source, as Kapacitor's task master subscribes a task's fork to
    /// (database, retention policy, measurement) keys. One `from()` without a measurement, or a source feeding anything
    /// but `from()`, makes it every measurement.
    public var streamMeasurements: Set<String>? {
        var names: Set<String> = []
        for source in streamSources {
            for child in nodes[source].children {
                guard let from = nodes[child.node].node as? FromNode, let name = from.measurement else { return nil }
                names.insert(name)
            }
        }
        return names
    }
}

/// The running stream tasks of one database and retention policy, and how a write reaches them: whole to the tasks
/// that read every measurement, and to each other task only the points of the measurements its `from()` nodes
/// select, in their order (Kapacitor's task master forks a point to the tasks subscribed to its database, retention
/// policy and measurement, or to the empty measurement). A point of 100 tasks' measurements is then handed to one
/// task, not filtered out by the other 99; each task's `stream` node counts the points it was handed, as in Kapacitor.
public struct StreamRoute: Sendable {
    /// Every task of the route, in the order given.
    public let runners: [TaskRunner]
    /// The tasks that read every measurement: they share the written array.
    private let everything: [TaskRunner]
    /// The other tasks, grouped by the set of measurements they read (one filtered array per group).
    private let selective: [[TaskRunner]]
    /// For each measurement, the groups of ``selective`` that read it.
    private let groupsByMeasurement: [String: [Int]]

    public static let empty = StreamRoute([])

    public init(_ runners: [TaskRunner]) {
        self.runners = runners
        var everything: [TaskRunner] = []
        var groups: [Set<String>: Int] = [:]
        var selective: [[TaskRunner]] = []
        var byMeasurement: [String: [Int]] = [:]
        for runner in runners {
            guard let names = runner.streamMeasurements else {
                everything.append(runner)
                continue
            }
            if let g = groups[names] {
                selective[g].append(runner)
                continue
            }
            let g = selective.count
            groups[names] = g
            selective.append([runner])
            for name in names { byMeasurement[name, default: []].append(g) }
        }
        self.everything = everything
        self.selective = selective
        groupsByMeasurement = byMeasurement
    }

    public var isEmpty: Bool { runners.isEmpty }

    /// Writes `points` into the route's tasks (see ``TaskRunner/write(_:to:)`` for the waiting rules).
    public func write(_ points: [Point]) {
        guard !points.isEmpty, !runners.isEmpty else { return }
        TaskRunner.write(points, to: everything)
        guard !selective.isEmpty else { return }
        if selective.count == 1, let only = groupsByMeasurement.first, groupsByMeasurement.count == 1,
           points.allSatisfy({ $0.name == only.key }) {
            // One measurement read, and the write is all of it: no copy.
            TaskRunner.write(points, to: selective[0])
            return
        }
        var buckets = [[Point]](repeating: [], count: selective.count)
        var lastName: String?
        var lastGroups: [Int] = []
        for p in points {
            if p.name != lastName {
                lastName = p.name
                lastGroups = groupsByMeasurement[p.name] ?? []
            }
            for g in lastGroups { buckets[g].append(p) }
        }
        for g in buckets.indices where !buckets[g].isEmpty {
            TaskRunner.write(buckets[g], to: selective[g])
        }
    }
}
