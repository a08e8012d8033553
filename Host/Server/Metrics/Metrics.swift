import CoreMetrics
import Prometheus
import Synchronization
import TockModel

/// The daemon's counters and gauges. Each is a swift-metrics metric made by ``factory``, which keeps it in this
/// daemon's own ``registry`` (never the global `MetricsSystem`, so that several daemons can share a process).
/// `/metrics` is the registry's Prometheus text, and `/kapacitor/v1/debug/vars` reads its values back from that text
/// (``values()``), so the two always agree.
///
/// Some counts are kept where they happen (``received(_:database:retentionPolicy:)``, ``writeRequested()``);
/// the counts that tasks and alert handlers keep themselves are copied in by ``sample(_:)`` before each reading.
public final class Metrics: Sendable {
    /// Where `/metrics` and debug/vars read every metric of this daemon.
    public let registry: PrometheusCollectorRegistry
    /// Makes metrics in ``registry``, with the `# HELP` text of ``MetricNames``.
    public let factory: any MetricsFactory

    private let writeRequests: CoreMetrics.Counter
    private let writeErrors: CoreMetrics.Counter
    private let loadErrors: CoreMetrics.Counter
    /// `tock_points_received_total` by database, retention policy and measurement.
    private let ingress = Mutex<[Ingress: CoreMetrics.Counter]>([:])
    /// The metrics copied in by ``sample(_:)``, with the value each was last given.
    let sampled = Mutex<[Series: SampledMetric]>([:])

    struct Ingress: Hashable {
        var database: String
        var retentionPolicy: String
        var measurement: String
    }

    /// - Parameter registry: where the metrics are kept; a new one by default, so that each daemon counts alone.
    public init(registry: PrometheusCollectorRegistry = PrometheusCollectorRegistry()) {
        self.registry = registry
        let factory = HelpfulPrometheusFactory(registry: registry)
        self.factory = factory
        writeRequests = CoreMetrics.Counter(label: MetricNames.writeRequests, factory: factory)
        writeErrors = CoreMetrics.Counter(label: MetricNames.writeErrors, factory: factory)
        loadErrors = CoreMetrics.Counter(label: MetricNames.loadErrors, factory: factory)
    }

    /// Counts accepted points by measurement. Runs of one measurement (the usual shape of a write) cost one
    /// string comparison per point.
    func received(_ points: [Point], database: String, retentionPolicy: String) {
        guard !points.isEmpty else { return }
        var counts: [(String, Int)] = []
        // Through the buffer, so that reading a name does not copy (retain) the whole point.
        points.withUnsafeBufferPointer { points in
            for i in points.indices {
                if let last = counts.indices.last, counts[last].0 == points[i].name {
                    counts[last].1 += 1
                } else {
                    counts.append((points[i].name, 1))
                }
            }
        }
        for (name, n) in counts {
            counter(Ingress(database: database, retentionPolicy: retentionPolicy, measurement: name)).increment(by: n)
        }
    }

    private func counter(_ key: Ingress) -> CoreMetrics.Counter {
        ingress.withLock { counters in
            if let counter = counters[key] { return counter }
            let counter = CoreMetrics.Counter(label: MetricNames.pointsReceived, dimensions: [
                ("database", key.database), ("retention_policy", key.retentionPolicy), ("measurement", key.measurement),
            ], factory: factory)
            counters[key] = counter
            return counter
        }
    }

    /// Counts one `/write` request.
    func writeRequested() {
        writeRequests.increment()
    }

    /// Counts the lines a write rejected.
    func writeFailed(badLines: Int) {
        writeErrors.increment(by: badLines)
    }

    /// Counts a file the `[load]` service could not load (Kapacitor's `load` statistic `errors`).
    func loadFailed() {
        loadErrors.increment()
    }

    /// The current value of every metric, as `/metrics` shows it.
    func values() -> MetricValues {
        MetricValues(exposition: registry.emitToString())
    }
}
