import CoreMetrics

/// One time series of `/metrics`: a metric name and its labels, in the order they are written.
struct Series: Hashable, Sendable {
    struct Label: Hashable, Sendable {
        var name: String
        var value: String
    }

    var name: String
    var labels: [Label]

    init(_ name: String, _ labels: [(String, String)] = []) {
        self.name = name
        self.labels = labels.map { Label(name: $0.0, value: $0.1) }
    }

    var dimensions: [(String, String)] { labels.map { ($0.name, $0.value) } }
}

/// A value that something other than ``Metrics`` counts (a task's node, an alert handler), copied into the registry
/// by ``Metrics/sample(_:)``.
struct Sample: Sendable {
    enum Kind: Sendable {
        /// Only grows, except when whatever keeps it starts again from zero.
        case counter
        case gauge
    }

    var series: Series
    var value: Int64
    var kind: Kind
}

/// A metric made by ``Metrics/sample(_:)``.
enum SampledMetric: Sendable {
    /// A counter and the count it was last brought to.
    case counter(CoreMetrics.Counter, Int64)
    case gauge(Meter)

    func destroy() {
        switch self {
        case .counter(let counter, _): counter.destroy()
        case .gauge(let meter): meter.destroy()
        }
    }
}

extension Metrics {
    /// Brings the registry to `samples`: a counter grows by what its count grew since the last sample (one whose
    /// count went down, because its task started again, is made anew), a gauge takes the value, and the series
    /// of earlier samples that are not among these (a task stopped) leave the registry.
    func sample(_ samples: [Sample]) {
        sampled.withLock { metrics in
            var seen = Set<Series>()
            for sample in samples {
                seen.insert(sample.series)
                let old = metrics[sample.series]
                switch (sample.kind, old) {
                case (.gauge, .gauge(let meter)?):
                    meter.set(sample.value)
                case (.gauge, _):
                    old?.destroy()
                    let meter = Meter(label: sample.series.name, dimensions: sample.series.dimensions, factory: factory)
                    meter.set(sample.value)
                    metrics[sample.series] = .gauge(meter)
                case (.counter, .counter(let counter, let last)?) where sample.value >= last:
                    counter.increment(by: sample.value - last)
                    metrics[sample.series] = .counter(counter, sample.value)
                case (.counter, _):
                    old?.destroy()
                    let counter = CoreMetrics.Counter(label: sample.series.name, dimensions: sample.series.dimensions,
                                                      factory: factory)
                    counter.increment(by: sample.value)
                    metrics[sample.series] = .counter(counter, sample.value)
                }
            }
            for (series, metric) in metrics where !seen.contains(series) {
                metric.destroy()
                metrics[series] = nil
            }
        }
    }
}
