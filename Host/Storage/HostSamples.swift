import Foundation
import GRDB

/// One value of the host inventory's recent metrics as the store keeps it: a field of a measurement of a host, at a
/// bucket start.
/// What names a stored series of recent values: its measurement, tags and field.
struct HostSeriesKey: Hashable, Sendable {
    var measurement: String
    var tags: [String: String]
    var field: String
}

public struct StoredSample: Sendable, Hashable {
    public var host: String
    public var measurement: String
    /// The point's tags, `host` included, sorted by key.
    public var tags: [String: String]
    public var field: String
    /// Nanoseconds since the epoch.
    public var time: Int64
    public var value: Double

    public init(host: String, measurement: String, tags: [String: String], field: String, time: Int64, value: Double) {
        self.host = host
        self.measurement = measurement
        self.tags = tags
        self.field = field
        self.time = time
        self.value = value
    }
}

extension Store {
    static func registerHostSampleMigrations(_ migrator: inout DatabaseMigrator) {
        migrator.registerMigration("v11: host recent metrics") { db in
            try db.create(table: "host_series") { t in
                t.autoIncrementedPrimaryKey("id")
                t.column("host", .text).notNull().indexed()
                t.column("measurement", .text).notNull()
                // The tags as a JSON object, keys sorted: one text per tag set.
                t.column("tags", .text).notNull()
                t.column("field", .text).notNull()
                t.uniqueKey(["measurement", "tags", "field"])
            }
            try db.create(table: "host_sample", options: .withoutRowID) { t in
                t.column("series", .integer).notNull().references("host_series", onDelete: .cascade)
                t.column("time", .integer).notNull()
                t.column("value", .double).notNull()
                t.primaryKey(["series", "time"])
            }
            try db.create(index: "host_sample_time", on: "host_sample", columns: ["time"])
        }
    }

    /// Saves `samples` in one transaction; a sample at a series' existing time replaces the value (the last written
    /// in a bucket wins, as in memory).
    public func saveHostSamples(_ samples: [StoredSample]) throws(StoreError) {
        guard !samples.isEmpty else { return }
        do throws(StoreError) { try save(samples) } catch {
            // An id remembered for a series deleted meanwhile would fail every later save: look them up again.
            hostSeriesIDs.withLock { $0 = [:] }
            throw error
        }
    }

    private func save(_ samples: [StoredSample]) throws(StoreError) {
        try run("save \(samples.count) recent metric value(s)") {
            let learned = try pool.write { db -> [HostSeriesKey: Int64] in
                // The series' ids outlive the call (the inventory saves the same series every second): a series
                // known already costs one statement, not its tags' JSON and two more.
                var ids = hostSeriesIDs.withLock { $0 }
                var learned: [HostSeriesKey: Int64] = [:]
                let insert = try db.cachedStatement(sql: "INSERT OR REPLACE INTO host_sample (series, time, value) VALUES (?, ?, ?)")
                for s in samples {
                    let key = HostSeriesKey(measurement: s.measurement, tags: s.tags, field: s.field)
                    let id: Int64
                    if let known = ids[key] {
                        id = known
                    } else {
                        let tags = Self.tagsText(s.tags)
                        try db.execute(sql: "INSERT OR IGNORE INTO host_series (host, measurement, tags, field) VALUES (?, ?, ?, ?)",
                                       arguments: [s.host, s.measurement, tags, s.field])
                        id = try Int64.fetchOne(db, sql: "SELECT id FROM host_series WHERE measurement = ? AND tags = ? AND field = ?",
                                                arguments: [s.measurement, tags, s.field])!
                        ids[key] = id
                        learned[key] = id
                    }
                    try insert.execute(arguments: [id, s.time, s.value])
                }
                return learned
            }
            // Remembered once committed (a failed transaction rolls the new series back).
            if !learned.isEmpty {
                hostSeriesIDs.withLock { cache in
                    if cache.count + learned.count > Self.hostSeriesIDLimit { cache = [:] }
                    cache.merge(learned) { $1 }
                }
            }
        }
    }

    /// Every value at or after `since`, by series then time.
    public func hostSamples(since: Int64) throws(StoreError) -> [StoredSample] {
        try run("read recent metrics") {
            try pool.read { db in
                try Row.fetchAll(db, sql: """
                    SELECT s.host, s.measurement, s.tags, s.field, v.time, v.value
                    FROM host_sample v JOIN host_series s ON s.id = v.series
                    WHERE v.time >= ? ORDER BY v.series, v.time
                    """, arguments: [since]).map { r in
                    StoredSample(host: r[0], measurement: r[1], tags: Self.tags(r[2]), field: r[3], time: r[4], value: r[5])
                }
            }
        }
    }

    /// How many values and series are stored.
    public func hostSampleCounts() throws(StoreError) -> (values: Int, series: Int) {
        try run("count recent metrics") {
            try pool.read { db in
                (try Int.fetchOne(db, sql: "SELECT count(*) FROM host_sample") ?? 0,
                 try Int.fetchOne(db, sql: "SELECT count(*) FROM host_series") ?? 0)
            }
        }
    }

    /// Deletes the values before `cutoff` and then the oldest beyond `maxValues`, and the series left without values.
    /// Returns how many values were deleted.
    @discardableResult
    public func pruneHostSamples(before cutoff: Int64, maxValues: Int) throws(StoreError) -> Int {
        try run("prune recent metrics") {
            try pool.write { db in
                try db.execute(sql: "DELETE FROM host_sample WHERE time < ?", arguments: [cutoff])
                var deleted = db.changesCount
                let count = try Int.fetchOne(db, sql: "SELECT count(*) FROM host_sample") ?? 0
                if count > maxValues {
                    try db.execute(sql: """
                        DELETE FROM host_sample WHERE (series, time) IN (SELECT series, time FROM host_sample ORDER BY time LIMIT ?)
                        """, arguments: [count - maxValues])
                    deleted += db.changesCount
                }
                if deleted > 0 {
                    try db.execute(sql: "DELETE FROM host_series WHERE id NOT IN (SELECT DISTINCT series FROM host_sample)")
                    if db.changesCount > 0 { hostSeriesIDs.withLock { $0 = [:] } }
                }
                return deleted
            }
        }
    }

    /// Deletes every series and value of `host`.
    public func deleteHostSamples(host: String) throws(StoreError) {
        try run("delete the recent metrics of \(host)") {
            try pool.write { db in
                try db.execute(sql: "DELETE FROM host_sample WHERE series IN (SELECT id FROM host_series WHERE host = ?)", arguments: [host])
                try db.execute(sql: "DELETE FROM host_series WHERE host = ?", arguments: [host])
                hostSeriesIDs.withLock { $0 = [:] }
            }
        }
    }

    /// The most series ids ``saveHostSamples(_:)`` remembers (the inventory's `max-series` is far below).
    static let hostSeriesIDLimit = 1 << 20

    static func tagsText(_ tags: [String: String]) -> String {
        let data = (try? JSONSerialization.data(withJSONObject: tags, options: [.sortedKeys])) ?? Data("{}".utf8)
        return String(decoding: data, as: UTF8.self)
    }

    static func tags(_ text: String) -> [String: String] {
        (try? JSONSerialization.jsonObject(with: Data(text.utf8))) as? [String: String] ?? [:]
    }
}
