import Synchronization
import TockModel

/// The newest values of one series, oldest first, in a ring of at most `capacity` values.
struct SampleRing: Sendable {
    private(set) var times: [Int64] = []
    private(set) var values: [Double] = []
    /// The index of the oldest value once the ring is full.
    private var head = 0
    /// The time of the newest value the store has (it may have been replaced since): saving starts there.
    var savedThrough: Int64 = .min

    var count: Int { times.count }

    /// The time of the newest value.
    var lastTime: Int64? {
        guard !times.isEmpty else { return nil }
        return times[(head + times.count - 1) % times.count]
    }

    /// Adds `value` at `time` (a bucket start). The newest bucket is replaced; an older one is ignored.
    /// Returns the change in the number of values kept (1 or 0), or nil when the value was older than the newest.
    mutating func add(_ value: Double, at time: Int64, capacity: Int) -> Int? {
        if let last = lastTime {
            if time == last {
                values[(head + times.count - 1) % times.count] = value
                return 0
            }
            if time < last { return nil }
        }
        if times.count > capacity { return trim(toCapacity: capacity, before: .min) + add(value, at: time, capacity: capacity)! }
        if times.count < capacity {
            // Not full: the ring is still in order from index 0 (head is 0 until it first fills).
            if head != 0 { normalize() }
            times.append(time)
            values.append(value)
            return 1
        }
        times[head] = time
        values[head] = value
        head = (head + 1) % times.count
        return 0
    }

    /// The values with `start <= time <= stop`, oldest first.
    func samples(from start: Int64, to stop: Int64) -> [(time: Int64, value: Double)] {
        var out: [(time: Int64, value: Double)] = []
        for i in 0..<times.count {
            let j = (head + i) % times.count
            if times[j] >= start && times[j] <= stop { out.append((times[j], values[j])) }
        }
        return out
    }

    /// Drops the values older than `before` and the oldest beyond `capacity`; returns the change in count (<= 0).
    mutating func trim(toCapacity capacity: Int, before cutoff: Int64) -> Int {
        let old = times.count
        normalize()
        var keep = times.firstIndex { $0 >= cutoff } ?? times.count
        keep = max(keep, times.count - capacity)
        if keep > 0 {
            times.removeFirst(keep)
            values.removeFirst(keep)
        }
        return times.count - old
    }

    /// Puts the oldest value at index 0.
    private mutating func normalize() {
        guard head != 0 else { return }
        times = Array(times[head...] + times[..<head])
        values = Array(values[head...] + values[..<head])
        head = 0
    }
}

/// One series as the recent-metrics store answers it: a field of a measurement of a host, with its other tags.
struct MetricSeries: Sendable {
    var host: String
    var measurement: String
    /// The point's tags, `host` included.
    var tags: Tags
    var field: String
    var samples: [(time: Int64, value: Double)]
}

/// The recent numeric values of every host's series, bounded: at most `max-series` series (a new series beyond is
/// not kept, and counted in ``refusedSeries``), at most `max-values` values over all of them (each series keeps at
/// most `max-values / series` of its newest, and at most `retention / resolution`), one value per series per
/// `resolution` (the last one written wins). Values older than `retention` and series left empty go at ``prune(now:)``.
///
/// In memory, under one lock taken once per batch of points; ``HostInventory`` saves the values kept to the store
/// and loads them back at start, so a restarted daemon keeps its hosts' recent metrics.
final class RecentMetrics: Sendable {
    struct SeriesKey: Hashable, Sendable {
        var measurement: String
        /// The point's tags, `host` included (so that the write path hashes them as they come).
        var tags: Tags
    }

    struct State: Sendable {
        /// Measurement and tags → field → values.
        var series: [SeriesKey: [String: SampleRing]] = [:]
        /// Host → its keys in ``series``.
        var byHost: [String: Set<SeriesKey>] = [:]
        /// Series written since the store last took their values.
        var unsaved: Set<SeriesKey> = []
        var counts = Counts()
        var seriesCount: Int {
            get { counts.series }
            set { counts.series = newValue }
        }
        var valueCount: Int {
            get { counts.values }
            set { counts.values = newValue }
        }
    }

    struct Counts: Sendable {
        var series = 0
        var values = 0
        /// New series not kept because `max-series` was reached.
        var refused = 0
    }

    let settings: HostsSettings
    private let state = Mutex(State())

    init(settings: HostsSettings) {
        self.settings = settings
    }

    /// The values a series may keep now.
    static func capacity(_ settings: HostsSettings, series: Int) -> Int {
        max(1, min(settings.valuesPerSeries, settings.maxValues / max(series, 1)))
    }

    /// A value to save to the store.
    struct Sample: Sendable {
        var key: SeriesKey
        var field: String
        var time: Int64
        var value: Double
    }

    /// Keeps the numeric fields of the points that carry a `host` tag: one hash of the measurement and tags per
    /// point, one small lookup per field, under one lock per batch. The series written are marked unsaved.
    func record(_ points: [Point]) {
        let resolution = max(settings.resolution, 1)
        state.withLock { s in
            for p in points {
                guard let host = p.tags["host"], !host.isEmpty else { continue }
                let key = SeriesKey(measurement: p.name, tags: p.tags)
                let (quotient, rest) = p.time.quotientAndRemainder(dividingBy: resolution)
                let bucket = rest < 0 ? quotient - 1 : quotient
                let created = Self.add(p.fields, at: bucket * resolution, to: &s.series[key, default: [:]], state: &s.counts,
                                       settings: settings)
                if created {
                    if s.series[key]!.isEmpty {
                        s.series[key] = nil
                    } else {
                        s.byHost[host, default: []].insert(key)
                    }
                }
                if s.series[key] != nil { s.unsaved.insert(key) }
            }
            // New series shrink every series' share: the older ones give back what is now beyond theirs.
            if s.valueCount > settings.maxValues { Self.trim(&s, settings, before: .min) }
        }
    }

    /// The values written since the last call (of every series marked unsaved: its values from the newest one saved
    /// before, which may have been replaced since, on), for the store; the series are then marked saved.
    func takeUnsaved() -> [Sample] {
        state.withLock { s in
            var out: [Sample] = []
            for key in s.unsaved {
                guard var fields = s.series[key] else { continue }
                for (field, ring) in fields {
                    let from = ring.savedThrough
                    for sample in ring.samples(from: from, to: .max) {
                        out.append(Sample(key: key, field: field, time: sample.time, value: sample.value))
                    }
                    fields[field]!.savedThrough = ring.lastTime ?? from
                }
                s.series[key] = fields
            }
            s.unsaved = []
            return out
        }
    }

    /// Marks the series of `samples` unsaved again from their times on (the store refused them).
    func markUnsaved(_ samples: [Sample]) {
        state.withLock { s in
            for sample in samples {
                guard s.series[sample.key]?[sample.field] != nil else { continue }
                s.series[sample.key]![sample.field]!.savedThrough = min(s.series[sample.key]![sample.field]!.savedThrough, sample.time)
                s.unsaved.insert(sample.key)
            }
        }
    }

    /// Marks every series saved (what was just loaded from the store).
    func markAllSaved() {
        state.withLock { s in
            for key in s.unsaved {
                guard var fields = s.series[key] else { continue }
                for field in Array(fields.keys) { fields[field]!.savedThrough = fields[field]!.lastTime ?? .min }
                s.series[key] = fields
            }
            s.unsaved = []
        }
    }

    /// Adds the numeric `fields` to the rings of one key; answers whether the key was new (`rings` empty).
    private static func add(_ fields: Fields, at time: Int64, to rings: inout [String: SampleRing], state counts: inout Counts,
                            settings: HostsSettings) -> Bool {
        let created = rings.isEmpty
        for (field, value) in fields {
            guard let number = value.numeric else { continue }
            if rings[field] == nil {
                guard counts.series < settings.maxSeries else {
                    counts.refused += 1
                    continue
                }
                counts.series += 1
            }
            let limit = Self.capacity(settings, series: counts.series)
            counts.values += rings[field, default: SampleRing()].add(number, at: time, capacity: limit) ?? 0
        }
        return created
    }

    /// Drops values older than the retention, trims every series to its share of `max-values`, and forgets
    /// empty series.
    func prune(now: Int64) {
        let cutoff = now - settings.retention
        state.withLock { Self.trim(&$0, settings, before: cutoff) }
    }

    /// Trims every series of `s` to the values a series may keep now and to those at or after `cutoff`.
    private static func trim(_ s: inout State, _ settings: HostsSettings, before cutoff: Int64) {
        let capacity = Self.capacity(settings, series: s.seriesCount)
        for key in Array(s.series.keys) {
            var fields = s.series.removeValue(forKey: key)!
            for field in Array(fields.keys) {
                s.valueCount += fields[field]!.trim(toCapacity: capacity, before: cutoff)
                if fields[field]!.count == 0 {
                    fields[field] = nil
                    s.seriesCount -= 1
                }
            }
            if fields.isEmpty {
                let host = key.tags["host"] ?? ""
                s.byHost[host]?.remove(key)
                if s.byHost[host]?.isEmpty == true { s.byHost[host] = nil }
            } else {
                s.series[key] = fields
            }
        }
    }

    /// Forgets every series of `host`.
    func forget(host: String) {
        state.withLock { s in
            for key in s.byHost.removeValue(forKey: host) ?? [] {
                guard let fields = s.series.removeValue(forKey: key) else { continue }
                s.seriesCount -= fields.count
                s.valueCount -= fields.values.reduce(0) { $0 + $1.count }
            }
        }
    }

    /// The series of `host` for `measurement` (and `field`, every field when nil) with their values in
    /// `start...stop`, ordered by tags and field; series without values in the range are left out.
    func query(host: String, measurement: String, field: String?, start: Int64, stop: Int64) -> [MetricSeries] {
        let found = state.withLock { s -> [(SeriesKey, String, [(time: Int64, value: Double)])] in
            var out: [(SeriesKey, String, [(time: Int64, value: Double)])] = []
            for key in s.byHost[host] ?? [] where key.measurement == measurement {
                for (name, ring) in s.series[key] ?? [:] where field == nil || field == name {
                    let samples = ring.samples(from: start, to: stop)
                    if !samples.isEmpty { out.append((key, name, samples)) }
                }
            }
            return out
        }
        return found.map { key, name, samples in
            MetricSeries(host: host, measurement: measurement, tags: key.tags, field: name, samples: samples)
        }.sorted { a, b in
            let ka = a.tags.map { "\($0.key)=\($0.value)" }.joined(separator: ","), kb = b.tags.map { "\($0.key)=\($0.value)" }.joined(separator: ",")
            return ka != kb ? ka < kb : a.field < b.field
        }
    }

    /// The series and values kept now, and the new series refused since the start.
    var counts: (series: Int, values: Int, refusedSeries: Int) {
        state.withLock { ($0.counts.series, $0.counts.values, $0.counts.refused) }
    }
}
