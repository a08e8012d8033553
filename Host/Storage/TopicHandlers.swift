import Foundation
import GRDB

/// One stored topic handler: its topic and ID, and the handler as the API shows it (`{"id","kind","options","match"}`).
public struct StoredTopicHandler: Sendable, Hashable {
    public var topic: String
    public var id: String
    public var json: String

    public init(topic: String, id: String, json: String) {
        self.topic = topic
        self.id = id
        self.json = json
    }
}

/// One stored event state of a topic (times and durations in nanoseconds; the level's raw value, 0 = OK).
public struct StoredTopicEvent: Sendable, Hashable {
    public var id: String
    public var level: Int
    public var message: String
    public var details: String
    public var time: Int64
    public var duration: Int64

    public init(id: String, level: Int, message: String, details: String, time: Int64, duration: Int64) {
        self.id = id
        self.level = level
        self.message = message
        self.details = details
        self.time = time
        self.duration = duration
    }
}

extension Store {
    static func registerTopicMigrations(_ migrator: inout DatabaseMigrator) {
        migrator.registerMigration("v8: topic handlers and topic events") { db in
            try db.create(table: "topicHandler") { t in
                t.column("topic", .text).notNull()
                t.column("id", .text).notNull()
                t.column("json", .text).notNull()
                t.primaryKey(["topic", "id"])
            }
            try db.create(table: "topicEvent") { t in
                t.column("topic", .text).notNull()
                t.column("id", .text).notNull()
                t.column("level", .integer).notNull()
                t.column("message", .text).notNull()
                t.column("details", .text).notNull()
                t.column("time", .integer).notNull()
                t.column("duration", .integer).notNull()
                t.primaryKey(["topic", "id"])
            }
        }
    }

    // MARK: Topic handlers

    /// Every stored topic handler, by topic then ID.
    public func topicHandlers() throws(StoreError) -> [StoredTopicHandler] {
        try run("read topic handlers") {
            try pool.read { db in
                try Row.fetchAll(db, sql: "SELECT topic, id, json FROM topicHandler ORDER BY topic, id").map {
                    StoredTopicHandler(topic: $0["topic"], id: $0["id"], json: $0["json"])
                }
            }
        }
    }

    /// Saves `handler`, removing `replacing` (its former ID in the same topic) in the same transaction.
    public func saveTopicHandler(_ handler: StoredTopicHandler, replacing old: String? = nil) throws(StoreError) {
        try run("save topic handler \(handler.topic)/\(handler.id)") {
            try pool.write { db in
                if let old, old != handler.id {
                    try db.execute(sql: "DELETE FROM topicHandler WHERE topic = ? AND id = ?", arguments: [handler.topic, old])
                }
                try db.execute(sql: """
                    INSERT INTO topicHandler (topic, id, json) VALUES (?, ?, ?)
                    ON CONFLICT (topic, id) DO UPDATE SET json = excluded.json
                    """, arguments: [handler.topic, handler.id, handler.json])
            }
        }
    }

    /// Deletes a topic handler; whether it existed.
    @discardableResult
    public func deleteTopicHandler(topic: String, id: String) throws(StoreError) -> Bool {
        try run("delete topic handler \(topic)/\(id)") {
            try pool.write { db in
                try db.execute(sql: "DELETE FROM topicHandler WHERE topic = ? AND id = ?", arguments: [topic, id])
                return db.changesCount > 0
            }
        }
    }

    // MARK: Topic events

    /// Every stored event state, by topic then event ID.
    public func topicEvents() throws(StoreError) -> [(topic: String, event: StoredTopicEvent)] {
        try run("read topic events") {
            try pool.read { db in
                try Row.fetchAll(db, sql: "SELECT topic, id, level, message, details, time, duration FROM topicEvent ORDER BY topic, id").map {
                    (topic: $0["topic"] as String,
                     event: StoredTopicEvent(id: $0["id"], level: $0["level"], message: $0["message"], details: $0["details"],
                                             time: $0["time"], duration: $0["duration"]))
                }
            }
        }
    }

    /// In one transaction: replaces the events of each topic of `saved` with its events, and forgets the topics of
    /// `deleted`.
    public func updateTopicEvents(saved: [(topic: String, events: [StoredTopicEvent])], deleted: [String]) throws(StoreError) {
        try run("save topic events") {
            try pool.write { db in
                for topic in deleted {
                    try db.execute(sql: "DELETE FROM topicEvent WHERE topic = ?", arguments: [topic])
                }
                for (topic, events) in saved {
                    try db.execute(sql: "DELETE FROM topicEvent WHERE topic = ?", arguments: [topic])
                    for e in events {
                        try db.execute(sql: """
                            INSERT INTO topicEvent (topic, id, level, message, details, time, duration) VALUES (?, ?, ?, ?, ?, ?, ?)
                            """, arguments: [topic, e.id, e.level, e.message, e.details, e.time, e.duration])
                    }
                }
            }
        }
    }
}
