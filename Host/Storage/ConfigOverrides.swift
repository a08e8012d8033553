import Foundation
import GRDB

/// One stored override of the config API (Kapacitor's `config_overrides` store): the options set on one element of
/// a section, or a new element (`create`).
public struct StoredConfigOverride: Sendable, Hashable {
    /// `section/element`, or `section/` for a section of one element (Kapacitor's override ID).
    public var id: String
    /// The options as a JSON object (the values the API was given).
    public var options: String
    /// Whether the override adds an element the configuration file does not have.
    public var create: Bool

    public init(id: String, options: String, create: Bool) {
        self.id = id
        self.options = options
        self.create = create
    }
}

extension Store {
    static func registerConfigOverrideMigrations(_ migrator: inout DatabaseMigrator) {
        migrator.registerMigration("v6: config overrides") { db in
            try db.create(table: "configOverride") { t in
                t.primaryKey("id", .text)
                t.column("options", .text).notNull()
                t.column("isCreate", .boolean).notNull().defaults(to: false)
            }
        }
    }

    /// Every stored override whose ID starts with `section/` (every override when `section` is empty), by ID.
    public func configOverrides(section: String = "") throws(StoreError) -> [StoredConfigOverride] {
        try run("read config overrides") {
            try pool.read { db in
                try Row.fetchAll(db, sql: "SELECT id, options, isCreate FROM configOverride WHERE id LIKE ? ESCAPE '\\' ORDER BY id",
                                 arguments: [section.isEmpty ? "%" : Self.likePrefix(section + "/")]).map {
                    StoredConfigOverride(id: $0["id"], options: $0["options"], create: $0["isCreate"])
                }
            }
        }
    }

    /// Replaces the overrides of `section` with `overrides` in one transaction.
    public func replaceConfigOverrides(section: String, with overrides: [StoredConfigOverride]) throws(StoreError) {
        try run("save config overrides of \(section)") {
            try pool.write { db in
                try db.execute(sql: "DELETE FROM configOverride WHERE id LIKE ? ESCAPE '\\'", arguments: [Self.likePrefix(section + "/")])
                for o in overrides {
                    try db.execute(sql: "INSERT INTO configOverride (id, options, isCreate) VALUES (?, ?, ?)",
                                   arguments: [o.id, o.options, o.create])
                }
            }
        }
    }

    private static func likePrefix(_ prefix: String) -> String {
        prefix.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "%", with: "\\%")
            .replacingOccurrences(of: "_", with: "\\_") + "%"
    }
}
