import Foundation
import GRDB

/// One stored dead letter (the alert service's `DeadLetter`, in the store's terms). The columns are what lists
/// filter on; `json` holds the whole letter (the handler's options and the event), as the API shows it.
public struct StoredDeadLetter: Sendable, Hashable {
    /// Assigned by ``Store/appendDeadLetter(_:limit:)``; increasing, never reused.
    public var id: Int64
    /// Nanoseconds since the epoch.
    public var time: Int64
    public var task: String
    public var node: String
    public var topic: String
    public var handler: String
    public var kind: String
    public var reason: String
    public var attempts: Int
    public var json: String

    public init(id: Int64 = 0, time: Int64, task: String, node: String, topic: String, handler: String, kind: String,
                reason: String, attempts: Int, json: String) {
        self.id = id
        self.time = time
        self.task = task
        self.node = node
        self.topic = topic
        self.handler = handler
        self.kind = kind
        self.reason = reason
        self.attempts = attempts
        self.json = json
    }
}

extension Store {
    static func registerDeadLetterMigrations(_ migrator: inout DatabaseMigrator) {
        migrator.registerMigration("v9: dead letters") { db in
            // AUTOINCREMENT: an ID is never reused, even after the newest letters are deleted.
            try db.create(table: "deadLetter") { t in
                t.autoIncrementedPrimaryKey("id")
                t.column("time", .integer).notNull()
                t.column("task", .text).notNull()
                t.column("node", .text).notNull()
                t.column("topic", .text).notNull()
                t.column("handler", .text).notNull()
                t.column("kind", .text).notNull()
                t.column("reason", .text).notNull()
                t.column("attempts", .integer).notNull()
                t.column("json", .text).notNull()
            }
        }
    }

    /// Stores `letter` with the next ID and, in the same transaction, deletes the oldest letters beyond `limit`;
    /// answers the ID given and how many were deleted.
    public func appendDeadLetter(_ letter: StoredDeadLetter, limit: Int) throws(StoreError) -> (id: Int64, pruned: Int) {
        try run("save a dead letter of task \(letter.task)") {
            try pool.write { db in
                try db.execute(sql: """
                    INSERT INTO deadLetter (time, task, node, topic, handler, kind, reason, attempts, json)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """, arguments: [letter.time, letter.task, letter.node, letter.topic, letter.handler, letter.kind,
                                     letter.reason, letter.attempts, letter.json])
                let id = db.lastInsertedRowID
                try db.execute(sql: "DELETE FROM deadLetter WHERE id IN (SELECT id FROM deadLetter ORDER BY id DESC LIMIT -1 OFFSET ?)",
                               arguments: [max(limit, 1)])
                return (id, db.changesCount)
            }
        }
    }

    /// Every stored dead letter, oldest first.
    public func deadLetters() throws(StoreError) -> [StoredDeadLetter] {
        try run("read dead letters") {
            try pool.read { db in
                try Row.fetchAll(db, sql: "SELECT * FROM deadLetter ORDER BY id").map { r in
                    StoredDeadLetter(id: r["id"], time: r["time"], task: r["task"], node: r["node"], topic: r["topic"],
                                     handler: r["handler"], kind: r["kind"], reason: r["reason"], attempts: r["attempts"],
                                     json: r["json"])
                }
            }
        }
    }

    /// The IDs of every stored dead letter, oldest first.
    public func deadLetterIDs() throws(StoreError) -> [Int64] {
        try run("read dead letter IDs") { try pool.read { try Int64.fetchAll($0, sql: "SELECT id FROM deadLetter ORDER BY id") } }
    }

    /// Deletes the dead letters with these IDs; answers how many existed.
    @discardableResult
    public func deleteDeadLetters(ids: [Int64]) throws(StoreError) -> Int {
        guard !ids.isEmpty else { return 0 }
        return try run("delete dead letters") {
            try pool.write { db in
                var deleted = 0
                for chunk in stride(from: 0, to: ids.count, by: 500).map({ Array(ids[$0..<min($0 + 500, ids.count)]) }) {
                    let marks = Array(repeating: "?", count: chunk.count).joined(separator: ",")
                    try db.execute(sql: "DELETE FROM deadLetter WHERE id IN (\(marks))", arguments: StatementArguments(chunk))
                    deleted += db.changesCount
                }
                return deleted
            }
        }
    }
}
