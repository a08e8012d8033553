import GRDB

/// A recording's metadata (Kapacitor's `recording_store`); its data is the file at ``dataPath``.
public struct StoredRecording: Codable, Sendable, Hashable, FetchableRecord, PersistableRecord {
    public static let databaseTableName = "recording"

    public var id: String
    /// `stream` (`.srpl`) or `batch` (`.brpl`).
    public var type: String
    /// The file's size in bytes once finished.
    public var size: Int64
    /// Nanoseconds since the epoch: when it started, then when it finished.
    public var date: Int64
    /// `running`, `finished` or `failed`.
    public var status: String
    public var error: String
    /// 0 to 1.
    public var progress: Double
    public var dataPath: String

    public init(id: String, type: String, size: Int64 = 0, date: Int64, status: String, error: String = "",
                progress: Double = 0, dataPath: String) {
        self.id = id
        self.type = type
        self.size = size
        self.date = date
        self.status = status
        self.error = error
        self.progress = progress
        self.dataPath = dataPath
    }
}

/// A replay's metadata and results (Kapacitor's `replay_store`, plus what the replayed task published).
public struct StoredReplay: Codable, Sendable, Hashable, FetchableRecord, PersistableRecord {
    public static let databaseTableName = "replay"

    public var id: String
    public var task: String
    /// The recording replayed; empty for a live replay (`replay-live`).
    public var recording: String
    public var recordingTime: Bool
    /// `fast` or `real`.
    public var clock: String
    public var date: Int64
    public var status: String
    public var error: String
    public var progress: Double
    /// The task's execution stats at the end, as Kapacitor's `{"task-stats":…,"node-stats":…}` JSON.
    public var stats: String
    /// What the replayed task published (httpOut results, alert events), JSON.
    public var results: String

    public init(id: String, task: String, recording: String, recordingTime: Bool, clock: String, date: Int64,
                status: String, error: String = "", progress: Double = 0, stats: String = "{}", results: String = "{}") {
        self.id = id
        self.task = task
        self.recording = recording
        self.recordingTime = recordingTime
        self.clock = clock
        self.date = date
        self.status = status
        self.error = error
        self.progress = progress
        self.stats = stats
        self.results = results
    }
}

extension Store {
    static func registerRecordingMigrations(_ migrator: inout DatabaseMigrator) {
        migrator.registerMigration("v5: recordings and replays") { db in
            try db.create(table: "recording") { t in
                t.primaryKey("id", .text)
                t.column("type", .text).notNull()
                t.column("size", .integer).notNull()
                t.column("date", .integer).notNull()
                t.column("status", .text).notNull()
                t.column("error", .text).notNull()
                t.column("progress", .double).notNull()
                t.column("dataPath", .text).notNull()
            }
            try db.create(table: "replay") { t in
                t.primaryKey("id", .text)
                t.column("task", .text).notNull()
                t.column("recording", .text).notNull()
                t.column("recordingTime", .boolean).notNull()
                t.column("clock", .text).notNull()
                t.column("date", .integer).notNull()
                t.column("status", .text).notNull()
                t.column("error", .text).notNull()
                t.column("progress", .double).notNull()
                t.column("stats", .text).notNull()
                t.column("results", .text).notNull()
            }
        }
    }

    // MARK: Recordings

    public func recording(_ id: String) throws(StoreError) -> StoredRecording? {
        try run("read recording \(id)") { try pool.read { try StoredRecording.fetchOne($0, key: id) } }
    }

    /// Every recording, ordered by id.
    public func recordings() throws(StoreError) -> [StoredRecording] {
        try run("list recordings") { try pool.read { try StoredRecording.order(Column("id")).fetchAll($0) } }
    }

    /// Inserts or replaces the recording's metadata.
    public func save(_ recording: StoredRecording) throws(StoreError) {
        try run("save recording \(recording.id)") { try pool.write { try recording.save($0) } }
    }

    /// Deletes the recording's metadata; returns whether it existed.
    @discardableResult
    public func deleteRecording(_ id: String) throws(StoreError) -> Bool {
        try run("delete recording \(id)") { try pool.write { try StoredRecording.deleteOne($0, key: id) } }
    }

    // MARK: Replays

    public func replay(_ id: String) throws(StoreError) -> StoredReplay? {
        try run("read replay \(id)") { try pool.read { try StoredReplay.fetchOne($0, key: id) } }
    }

    /// Every replay, ordered by id.
    public func replays() throws(StoreError) -> [StoredReplay] {
        try run("list replays") { try pool.read { try StoredReplay.order(Column("id")).fetchAll($0) } }
    }

    public func save(_ replay: StoredReplay) throws(StoreError) {
        try run("save replay \(replay.id)") { try pool.write { try replay.save($0) } }
    }

    @discardableResult
    public func deleteReplay(_ id: String) throws(StoreError) -> Bool {
        try run("delete replay \(id)") { try pool.write { try StoredReplay.deleteOne($0, key: id) } }
    }

    /// Marks every recording and replay still `running` as failed with `reason` (at start: nothing can still be
    /// running, as Kapacitor's `markFailedRecordings`/`markFailedReplays`). Returns how many were marked.
    @discardableResult
    public func failRunningRecordingsAndReplays(reason: String) throws(StoreError) -> Int {
        try run("mark running recordings and replays failed") {
            try pool.write { db in
                try db.execute(sql: "UPDATE recording SET status = 'failed', error = ? WHERE status = 'running'", arguments: [reason])
                var n = db.changesCount
                try db.execute(sql: "UPDATE replay SET status = 'failed', error = ? WHERE status = 'running'", arguments: [reason])
                n += db.changesCount
                return n
            }
        }
    }
}
