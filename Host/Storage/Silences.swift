import Foundation
import GRDB

/// One stored silence (the alert service's `Silence`, in the store's terms; times in nanoseconds).
public struct StoredSilence: Sendable, Hashable {
    public var id: String
    /// The silence as a JSON object (topic, event, tags, start, end, comment, created).
    public var json: String

    public init(id: String, json: String) {
        self.id = id
        self.json = json
    }
}

extension Store {
    static func registerSilenceMigrations(_ migrator: inout DatabaseMigrator) {
        migrator.registerMigration("v7: silences") { db in
            try db.create(table: "silence") { t in
                t.primaryKey("id", .text)
                t.column("json", .text).notNull()
            }
        }
    }

    /// Every stored silence, by ID.
    public func silences() throws(StoreError) -> [StoredSilence] {
        try run("read silences") {
            try pool.read { db in
                try Row.fetchAll(db, sql: "SELECT id, json FROM silence ORDER BY id").map { StoredSilence(id: $0["id"], json: $0["json"]) }
            }
        }
    }

    /// Replaces every stored silence with `silences` in one transaction.
    public func replaceSilences(with silences: [StoredSilence]) throws(StoreError) {
        try run("save silences") {
            try pool.write { db in
                try db.execute(sql: "DELETE FROM silence")
                for s in silences {
                    try db.execute(sql: "INSERT INTO silence (id, json) VALUES (?, ?)", arguments: [s.id, s.json])
                }
            }
        }
    }
}
