import Foundation
import Synchronization
import GRDB

/// A database and retention policy as stored with a task (`{"db": …, "rp": …}` in Kapacitor's JSON).
public struct StoredDBRP: Codable, Sendable, Hashable {
    public var db: String
    public var rp: String

    public init(db: String, rp: String) {
        self.db = db
        self.rp = rp
    }
}

/// A task definition as the daemon keeps it across restarts.
public struct StoredTask: Codable, Sendable, Hashable, FetchableRecord, PersistableRecord {
    public static let databaseTableName = "task"

    public var id: String
    /// The template the task was created from; empty for a task with its own script.
    public var templateID: String
    /// `stream` or `batch`.
    public var type: String
    public var dbrps: [StoredDBRP]
    /// The TICKscript (for a templated task, the template's script at the time the task was defined).
    public var script: String
    /// `enabled` or `disabled`.
    public var status: String
    /// The task's `vars` as Kapacitor's JSON object (`{"name": {"type": …, "value": …}}`).
    public var vars: String
    /// Nanoseconds since the epoch.
    public var created: Int64
    public var modified: Int64
    /// When the task was last enabled (0: never).
    public var lastEnabled: Int64

    public init(id: String, templateID: String = "", type: String, dbrps: [StoredDBRP], script: String,
                status: String, vars: String = "{}", created: Int64, modified: Int64, lastEnabled: Int64 = 0) {
        self.id = id
        self.templateID = templateID
        self.type = type
        self.dbrps = dbrps
        self.script = script
        self.status = status
        self.vars = vars
        self.created = created
        self.modified = modified
        self.lastEnabled = lastEnabled
    }
}

/// A task template: a script with typed variables that tasks fill in.
public struct StoredTemplate: Codable, Sendable, Hashable, FetchableRecord, PersistableRecord {
    public static let databaseTableName = "template"

    public var id: String
    public var type: String
    public var script: String
    public var created: Int64
    public var modified: Int64

    public init(id: String, type: String, script: String, created: Int64, modified: Int64) {
        self.id = id
        self.type = type
        self.script = script
        self.created = created
        self.modified = modified
    }
}

/// A storage failure, naming the database file and what was being done.
public struct StoreError: Error, CustomStringConvertible, Sendable {
    public var path: String
    public var action: String
    public var reason: String
    public var description: String { "storage \(path): cannot \(action): \(reason)" }
}

/// The daemon's embedded database: task and template definitions in SQLite, in write-ahead-log mode with
/// full synchronous commits, so a definition acknowledged to a client survives a crash (even `kill -9`).
///
/// Every write is one transaction that has reached the disk when the call returns.
public final class Store: Sendable {
    /// The database file.
    public let path: String
    let pool: DatabasePool
    /// The ids of the recent-metric series saved so far (``saveHostSamples(_:)``); emptied whenever series rows are
    /// deleted.
    let hostSeriesIDs = Mutex<[HostSeriesKey: Int64]>([:])

    /// Opens (creating it if needed) the database at `path` and brings its schema up to date.
    public init(path: String) throws(StoreError) {
        self.path = path
        do {
            try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent,
                                                    withIntermediateDirectories: true)
            var configuration = Configuration()
            // Another connection (a store being closed, a backup) may hold the lock for a moment: wait for it.
            configuration.busyMode = .timeout(10)
            configuration.prepareDatabase { db in
                try db.execute(sql: "PRAGMA synchronous = FULL")
            }
            pool = try DatabasePool(path: path, configuration: configuration)
            try Self.migrator.migrate(pool)
        } catch {
            throw StoreError(path: path, action: "open", reason: "\(error)")
        }
    }

    /// The schema, one migration per version; never edit a shipped migration, add one.
    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1: tasks and templates") { db in
            try db.create(table: "task") { t in
                t.primaryKey("id", .text)
                t.column("templateID", .text).notNull().defaults(to: "")
                t.column("type", .text).notNull()
                t.column("dbrps", .text).notNull()
                t.column("script", .text).notNull()
                t.column("status", .text).notNull()
                t.column("vars", .text).notNull().defaults(to: "{}")
                t.column("created", .integer).notNull()
                t.column("modified", .integer).notNull()
                t.column("lastEnabled", .integer).notNull().defaults(to: 0)
            }
            try db.create(table: "template") { t in
                t.primaryKey("id", .text)
                t.column("type", .text).notNull()
                t.column("script", .text).notNull()
                t.column("created", .integer).notNull()
                t.column("modified", .integer).notNull()
            }
        }
        migrator.registerMigration("v2: udf snapshots") { db in
            try db.create(table: "udfSnapshot") { t in
                t.column("taskID", .text).notNull()
                t.column("nodeID", .text).notNull()
                t.column("data", .blob).notNull()
                t.primaryKey(["taskID", "nodeID"])
            }
        }
        migrator.registerMigration("v3: alert state") { db in
            try db.create(table: "alertState") { t in
                t.column("taskID", .text).notNull()
                t.column("nodeID", .text).notNull()
                t.column("alertID", .text).notNull()
                t.column("level", .integer).notNull()
                t.column("time", .integer).notNull()
                t.primaryKey(["taskID", "nodeID", "alertID"])
            }
        }
        migrator.registerMigration("v4: users and tokens") { db in
            try db.create(table: "user") { t in
                t.primaryKey("name", .text)
                t.column("type", .text).notNull()
                t.column("permissions", .text).notNull()
                t.column("passwordHash", .text).notNull()
                t.column("created", .integer).notNull()
                t.column("modified", .integer).notNull()
            }
            try db.create(table: "token") { t in
                t.primaryKey("id", .text)
                t.column("user", .text).notNull().references("user", column: "name", onDelete: .cascade)
                t.column("hash", .text).notNull().unique()
                t.column("description", .text).notNull().defaults(to: "")
                t.column("created", .integer).notNull()
            }
        }
        registerRecordingMigrations(&migrator)
        registerConfigOverrideMigrations(&migrator)
        registerSilenceMigrations(&migrator)
        registerTopicMigrations(&migrator)
        registerDeadLetterMigrations(&migrator)
        registerHostMigrations(&migrator)
        registerHostSampleMigrations(&migrator)
        return migrator
    }

    // MARK: UDF snapshots

    /// Replaces every stored UDF snapshot with `snapshots` (taken at shutdown) in one transaction.
    public func replaceUDFSnapshots(_ snapshots: [(taskID: String, nodeID: String, data: [UInt8])]) throws(StoreError) {
        try run("save UDF snapshots") {
            try pool.write { db in
                try db.execute(sql: "DELETE FROM udfSnapshot")
                for s in snapshots {
                    try db.execute(sql: "INSERT INTO udfSnapshot (taskID, nodeID, data) VALUES (?, ?, ?)",
                                   arguments: [s.taskID, s.nodeID, Data(s.data)])
                }
            }
        }
    }

    /// The UDF snapshots saved at the last shutdown.
    public func udfSnapshots() throws(StoreError) -> [(taskID: String, nodeID: String, data: [UInt8])] {
        try run("read UDF snapshots") {
            try pool.read { db in
                try Row.fetchAll(db, sql: "SELECT taskID, nodeID, data FROM udfSnapshot ORDER BY taskID, nodeID").map { row in
                    let data: Data = row["data"]
                    return (taskID: row["taskID"] as String, nodeID: row["nodeID"] as String, data: [UInt8](data))
                }
            }
        }
    }

    /// The names of the migrations applied, oldest first.
    public func appliedMigrations() throws(StoreError) -> [String] {
        try run("read the schema version") { try pool.read { try Self.migrator.appliedMigrations($0) } }
    }

    // MARK: Tasks

    public func task(_ id: String) throws(StoreError) -> StoredTask? {
        try run("read task \(id)") { try pool.read { try StoredTask.fetchOne($0, key: id) } }
    }

    /// Every task, ordered by id.
    public func tasks() throws(StoreError) -> [StoredTask] {
        try run("list tasks") { try pool.read { try StoredTask.order(Column("id")).fetchAll($0) } }
    }

    /// Inserts or replaces the task.
    public func save(_ task: StoredTask) throws(StoreError) {
        try run("save task \(task.id)") { try pool.write { try task.save($0) } }
    }

    /// Deletes the task; returns whether it existed.
    @discardableResult
    public func deleteTask(_ id: String) throws(StoreError) -> Bool {
        try run("delete task \(id)") {
            try pool.write { db in
                try db.execute(sql: "DELETE FROM alertState WHERE taskID = ?", arguments: [id])
                return try StoredTask.deleteOne(db, key: id)
            }
        }
    }

    // MARK: Templates

    public func template(_ id: String) throws(StoreError) -> StoredTemplate? {
        try run("read template \(id)") { try pool.read { try StoredTemplate.fetchOne($0, key: id) } }
    }

    /// Every template, ordered by id.
    public func templates() throws(StoreError) -> [StoredTemplate] {
        try run("list templates") { try pool.read { try StoredTemplate.order(Column("id")).fetchAll($0) } }
    }

    /// Inserts or replaces the template and, in the same transaction, the tasks made from it.
    public func save(_ template: StoredTemplate, tasks: [StoredTask] = []) throws(StoreError) {
        try run("save template \(template.id)") {
            try pool.write { db in
                try template.save(db)
                for t in tasks { try t.save(db) }
            }
        }
    }

    /// Deletes the template; returns whether it existed.
    @discardableResult
    public func deleteTemplate(_ id: String) throws(StoreError) -> Bool {
        try run("delete template \(id)") { try pool.write { try StoredTemplate.deleteOne($0, key: id) } }
    }

    func run<T>(_ action: String, _ body: () throws -> T) throws(StoreError) -> T {
        do {
            return try body()
        } catch {
            throw StoreError(path: path, action: action, reason: "\(error)")
        }
    }
}
