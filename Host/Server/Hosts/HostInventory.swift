import Foundation
import Storage
import Synchronization
import TockModel

/// One host as the inventory knows it.
struct HostRecord: Sendable, Equatable {
    var name: String
    /// The assigned location; empty: none.
    var location = ""
    var labels: [String: String] = [:]
    /// The latest `host_facts` fields.
    var facts: [String: FieldValue] = [:]
    /// The `location` tag of the host's last point that had one (not authoritative).
    var reportedLocation = ""
    /// The `version` field of the last `tock_agent` heartbeat.
    var agentVersion = ""
    /// The heartbeat's other fields (`uptime`, `buffered`, `dropped`).
    var agent: [String: FieldValue] = [:]
    /// Wall-clock nanoseconds of the first and last point's arrival; 0: never reported.
    var firstSeen: Int64 = 0
    var lastSeen: Int64 = 0
    var points: Int64 = 0
    var lastDatabase = ""
    /// When the inventory first knew the host.
    var created: Int64

    var reported: Bool { firstSeen > 0 }
    var assigned: Bool { !location.isEmpty }

    /// Seconds since the last point, or since the host was created when it never reported.
    func silentSeconds(now: Int64) -> Double {
        Double(max(0, now - (reported ? lastSeen : created))) / 1e9
    }

    /// `reporting`, `silent` (nothing for `silentAfter` nanoseconds) or `never-reported`.
    func status(now: Int64, silentAfter: Int64) -> String {
        guard reported else { return "never-reported" }
        return now - lastSeen >= silentAfter ? "silent" : "reporting"
    }
}

/// What went wrong with a change to the inventory; the API answers it with its status.
struct HostError: Error, CustomStringConvertible, Sendable {
    enum Kind: Sendable { case notFound, exists, invalid, storage }
    var kind: Kind
    var description: String
}

/// The host inventory: every host that sent a point with a `host` tag, and every host created over the API.
///
/// The write path calls ``observe(_:database:arrival:)`` once per batch of points: it updates an in-memory table
/// under one lock. The changes reach the store at most once per ``flush()`` (the host service calls it every
/// second, and at shutdown); locations and labels set over the API are saved before the call returns.
final class HostInventory: Sendable {
    let store: Store
    let settings: HostsSettings
    let metrics: RecentMetrics
    private let state = Mutex(State())
    /// Held while writing to the store, so that saves reach it in the order of their changes.
    private let saving = Mutex(())

    struct State: Sendable {
        var hosts: [String: HostRecord] = [:]
        /// Hosts changed by points since the last flush.
        var dirty: Set<String> = []
        /// When the store's recent metrics were last pruned.
        var lastPrune: Int64 = 0
    }

    /// Loads the hosts and their recent metrics (those within `[hosts] retention`) from `store`.
    init(store: Store, settings: HostsSettings, now: Int64 = nowNanoseconds()) throws(StoreError) {
        self.store = store
        self.settings = settings
        self.metrics = RecentMetrics(settings: settings)
        let stored = try store.hosts()
        state.withLock { s in
            for h in stored { s.hosts[h.name] = Self.record(h) }
            s.lastPrune = now
        }
        metrics.record(Self.points(try store.hostSamples(since: now - settings.retention)))
        metrics.markAllSaved()
    }

    /// Stored values as points: one per series and time, its fields together.
    static func points(_ samples: [StoredSample]) -> [Point] {
        struct Key: Hashable {
            var measurement: String
            var tags: [String: String]
            var time: Int64
        }
        var points: [Point] = []
        var index: [Key: Int] = [:]
        for s in samples {
            let key = Key(measurement: s.measurement, tags: s.tags, time: s.time)
            if let i = index[key] {
                var fields = Array(points[i].fields.map { ($0.key, $0.value) })
                fields.append((s.field, .double(s.value)))
                points[i].fields = Fields(fields)
            } else {
                index[key] = points.count
                points.append(Point(name: s.measurement, tags: Tags(s.tags), fields: Fields([(s.field, .double(s.value))]), time: s.time))
            }
        }
        return points
    }

    /// What the inventory holds: its hosts, the recent-metric series and values kept in memory, the new series refused
    /// since the start (`max-series` reached), and the values and series in the store (nil when it cannot be read).
    struct Statistics: Sendable, Hashable {
        var hosts: Int
        var series: Int
        var values: Int
        var refusedSeries: Int
        var storedValues: Int?
        var storedSeries: Int?
    }

    var statistics: Statistics {
        let counts = metrics.counts
        let stored = try? store.hostSampleCounts()
        return Statistics(hosts: state.withLock { $0.hosts.count }, series: counts.series, values: counts.values,
                          refusedSeries: counts.refusedSeries, storedValues: stored?.values, storedSeries: stored?.series)
    }

    // MARK: The write path

    /// What one batch tells about one host.
    private struct Sighting {
        var count: Int64 = 0
        var reportedLocation: String?
        var agent: Fields?
        var facts: Fields?
    }

    /// Registers or updates the hosts of `points` (those with a non-empty `host` tag), arrived at `arrival`, and
    /// keeps their numeric values in the recent-metrics store.
    func observe(_ points: [Point], database: String, arrival: Int64) {
        var seen: [String: Sighting] = [:]
        var any = false
        for p in points {
            guard let host = p.tags["host"], !host.isEmpty else { continue }
            any = true
            seen[host, default: Sighting()].count += 1
            if let location = p.tags["location"] { seen[host]!.reportedLocation = location }
            if p.name == "tock_agent" {
                seen[host]!.agent = p.fields
            } else if p.name == "host_facts" {
                seen[host]!.facts = p.fields
            }
        }
        guard any else { return }
        state.withLock { s in
            for (host, sighting) in seen {
                var record = s.hosts[host] ?? HostRecord(name: host, created: arrival)
                if record.firstSeen == 0 { record.firstSeen = arrival }
                record.lastSeen = max(record.lastSeen, arrival)
                record.points += sighting.count
                record.lastDatabase = database
                if let location = sighting.reportedLocation { record.reportedLocation = location }
                if let agent = sighting.agent {
                    var rest: [String: FieldValue] = [:]
                    for (key, value) in agent {
                        if key == "version" {
                            if case .string(let v) = value { record.agentVersion = v }
                        } else {
                            rest[key] = value
                        }
                    }
                    record.agent = rest
                }
                if let facts = sighting.facts {
                    record.facts = Dictionary(facts.map { ($0.key, $0.value) }, uniquingKeysWith: { $1 })
                }
                s.hosts[host] = record
                s.dirty.insert(host)
            }
        }
        metrics.record(points)
    }

    // MARK: Persistence

    /// Saves the hosts changed by points since the last flush, and the recent-metric values kept since; every
    /// `check-interval`, prunes the stored values to `retention` and `max-values`. Returns how many hosts were saved.
    @discardableResult
    func flush(now: Int64 = nowNanoseconds()) throws(StoreError) -> Int {
        try saving.withLock { _ throws(StoreError) -> Int in
            let (changed, prune) = state.withLock { s -> ([StoredHost], Bool) in
                let out = s.dirty.compactMap { s.hosts[$0] }.map(Self.stored)
                s.dirty = []
                let prune = now - s.lastPrune >= settings.checkInterval
                if prune { s.lastPrune = now }
                return (out, prune)
            }
            do throws(StoreError) { try store.saveHosts(changed) } catch {
                state.withLock { s in for h in changed { s.dirty.insert(h.name) } }
                throw error
            }
            let samples = metrics.takeUnsaved()
            do throws(StoreError) {
                try store.saveHostSamples(samples.map { sample in
                    StoredSample(host: sample.key.tags["host"] ?? "", measurement: sample.key.measurement,
                                 tags: sample.key.tags.dictionary, field: sample.field, time: sample.time, value: sample.value)
                })
                if prune { try store.pruneHostSamples(before: now - settings.retention, maxValues: settings.maxValues) }
            } catch {
                metrics.markUnsaved(samples)
                throw error
            }
            return changed.count
        }
    }

    /// Applies `change` to the host `name` (a new record when `create` and it is unknown) and saves it before
    /// returning it.
    func update(_ name: String, create: Bool, now: Int64,
                _ change: @Sendable (inout HostRecord) -> Void) throws(HostError) -> HostRecord {
        try Self.check(name: name)
        return try saving.withLock { _ throws(HostError) -> HostRecord in
            let result = state.withLock { s -> Result<HostRecord, HostError> in
                if create && s.hosts[name] != nil {
                    return .failure(HostError(kind: .exists, description: "host \(name) already exists"))
                }
                guard var record = s.hosts[name] ?? (create ? HostRecord(name: name, created: now) : nil) else {
                    return .failure(HostError(kind: .notFound, description: "host \(name) does not exist"))
                }
                change(&record)
                s.hosts[name] = record
                s.dirty.remove(name)
                return .success(record)
            }
            let record = try result.get()
            do { try store.saveHosts([Self.stored(record)]) } catch {
                state.withLock { _ = $0.dirty.insert(name) }
                throw HostError(kind: .storage, description: "\(error)")
            }
            return record
        }
    }

    /// Deletes the host `name` and its recent metrics.
    func delete(_ name: String) throws(HostError) {
        try saving.withLock { _ throws(HostError) in
            let existed = state.withLock { s -> Bool in
                s.dirty.remove(name)
                return s.hosts.removeValue(forKey: name) != nil
            }
            guard existed else { throw HostError(kind: .notFound, description: "host \(name) does not exist") }
            do {
                try store.saveHosts([], deleting: [name])
                try store.deleteHostSamples(host: name)
            } catch {
                throw HostError(kind: .storage, description: "\(error)")
            }
        }
        metrics.forget(host: name)
    }

    /// A host name the API accepts: not empty, no `/`, no control characters.
    static func check(name: String) throws(HostError) {
        guard !name.isEmpty else { throw HostError(kind: .invalid, description: "a host name must not be empty") }
        guard !name.contains(where: { $0 == "/" || $0.isNewline }) else {
            throw HostError(kind: .invalid, description: "host name \"\(name)\" must not contain / or line breaks")
        }
    }

    // MARK: Reading

    /// The host `name`, if known.
    func host(_ name: String) -> HostRecord? { state.withLock { $0.hosts[name] } }

    /// Every host, ordered by name.
    func all() -> [HostRecord] { state.withLock { Array($0.hosts.values) }.sorted { $0.name < $1.name } }

    /// One `tock_hosts` point per host at `now`: tags `host`, `location` (when assigned); fields `assigned`,
    /// `reported`, `silent_seconds`, `points`.
    func statusPoints(now: Int64) -> [Point] {
        all().map { h in
            var tags = Tags()
            tags["host"] = h.name
            if h.assigned { tags["location"] = h.location }
            return Point(name: "tock_hosts", tags: tags,
                         fields: Fields([("assigned", .bool(h.assigned)), ("reported", .bool(h.reported)),
                                         ("silent_seconds", .double(h.silentSeconds(now: now))), ("points", .int(h.points))]),
                         time: now, database: settings.database, retentionPolicy: settings.retentionPolicy)
        }
    }

    // MARK: Store records

    static func stored(_ h: HostRecord) -> StoredHost {
        StoredHost(name: h.name, location: h.location,
                   labels: JSON.object(h.labels.sorted { $0.key < $1.key }.map { ($0.key, .string($0.value)) }).serialized,
                   facts: fieldsJSON(h.facts).serialized, reportedLocation: h.reportedLocation, agentVersion: h.agentVersion,
                   agent: fieldsJSON(h.agent).serialized, firstSeen: h.firstSeen, lastSeen: h.lastSeen, points: h.points,
                   lastDatabase: h.lastDatabase, created: h.created)
    }

    static func record(_ h: StoredHost) -> HostRecord {
        func object(_ text: String) -> [(String, JSON)] { (try? JSON.parse(Array(text.utf8)))?.objectValue ?? [] }
        var labels: [String: String] = [:]
        for (k, v) in object(h.labels) { if let s = v.stringValue { labels[k] = s } }
        return HostRecord(name: h.name, location: h.location, labels: labels, facts: fields(object(h.facts)),
                          reportedLocation: h.reportedLocation, agentVersion: h.agentVersion, agent: fields(object(h.agent)),
                          firstSeen: h.firstSeen, lastSeen: h.lastSeen, points: h.points, lastDatabase: h.lastDatabase,
                          created: h.created)
    }

    /// Field values as a JSON object, keys sorted.
    static func fieldsJSON(_ fields: [String: FieldValue]) -> JSON {
        .object(fields.sorted { $0.key < $1.key }.map { key, value -> (String, JSON) in
            let json: JSON
            switch value {
            case .double(let d): json = .double(d)
            case .int(let i): json = .int(i)
            case .uint(let u): json = u <= UInt64(Int64.max) ? .int(Int64(u)) : .double(Double(u))
            case .string(let s): json = .string(s)
            case .bool(let b): json = .bool(b)
            }
            return (key, json)
        })
    }

    static func fields(_ members: [(String, JSON)]) -> [String: FieldValue] {
        var out: [String: FieldValue] = [:]
        for (k, v) in members {
            switch v {
            case .int(let i): out[k] = .int(i)
            case .double(let d): out[k] = .double(d)
            case .string(let s): out[k] = .string(s)
            case .bool(let b): out[k] = .bool(b)
            default: continue
            }
        }
        return out
    }
}
