import Foundation
import GRDB

/// One host of the inventory as the store keeps it: what its data told (first and last seen, agent version,
/// facts) and what people set (location, labels).
public struct StoredHost: Sendable, Hashable {
    /// The host's name: the `host` tag of its points.
    public var name: String
    /// The assigned location; empty: none.
    public var location: String
    /// Free-form labels, as a JSON object of strings.
    public var labels: String
    /// The latest `host_facts` fields, as a JSON object.
    public var facts: String
    /// The `location` tag the host's own points carried last (not authoritative).
    public var reportedLocation: String
    /// The `version` field of the last `tock_agent` heartbeat; empty: none seen.
    public var agentVersion: String
    /// The other fields of the last heartbeat (`uptime`, `buffered`, `dropped`), as a JSON object.
    public var agent: String
    /// Nanoseconds since the epoch (wall clock at arrival); 0: never reported.
    public var firstSeen: Int64
    public var lastSeen: Int64
    /// Points received from the host.
    public var points: Int64
    /// The database of the last point received.
    public var lastDatabase: String
    /// When the inventory first knew the host (its first point, or the API call that created it).
    public var created: Int64

    public init(name: String, location: String = "", labels: String = "{}", facts: String = "{}", reportedLocation: String = "",
                agentVersion: String = "", agent: String = "{}", firstSeen: Int64 = 0, lastSeen: Int64 = 0, points: Int64 = 0,
                lastDatabase: String = "", created: Int64) {
        self.name = name
        self.location = location
        self.labels = labels
        self.facts = facts
        self.reportedLocation = reportedLocation
        self.agentVersion = agentVersion
        self.agent = agent
        self.firstSeen = firstSeen
        self.lastSeen = lastSeen
        self.points = points
        self.lastDatabase = lastDatabase
        self.created = created
    }
}

extension Store {
    static func registerHostMigrations(_ migrator: inout DatabaseMigrator) {
        migrator.registerMigration("v10: hosts") { db in
            try db.create(table: "host") { t in
                t.primaryKey("name", .text)
                t.column("location", .text).notNull().defaults(to: "")
                t.column("labels", .text).notNull().defaults(to: "{}")
                t.column("facts", .text).notNull().defaults(to: "{}")
                t.column("reportedLocation", .text).notNull().defaults(to: "")
                t.column("agentVersion", .text).notNull().defaults(to: "")
                t.column("agent", .text).notNull().defaults(to: "{}")
                t.column("firstSeen", .integer).notNull().defaults(to: 0)
                t.column("lastSeen", .integer).notNull().defaults(to: 0)
                t.column("points", .integer).notNull().defaults(to: 0)
                t.column("lastDatabase", .text).notNull().defaults(to: "")
                t.column("created", .integer).notNull()
            }
        }
    }

    /// Every host of the inventory, ordered by name.
    public func hosts() throws(StoreError) -> [StoredHost] {
        try run("read hosts") {
            try pool.read { db in
                try Row.fetchAll(db, sql: "SELECT * FROM host ORDER BY name").map { r in
                    StoredHost(name: r["name"], location: r["location"], labels: r["labels"], facts: r["facts"],
                               reportedLocation: r["reportedLocation"], agentVersion: r["agentVersion"], agent: r["agent"],
                               firstSeen: r["firstSeen"], lastSeen: r["lastSeen"], points: r["points"],
                               lastDatabase: r["lastDatabase"], created: r["created"])
                }
            }
        }
    }

    /// Inserts or replaces `hosts` and deletes the hosts named in `deleting`, in one transaction.
    public func saveHosts(_ hosts: [StoredHost], deleting: [String] = []) throws(StoreError) {
        guard !hosts.isEmpty || !deleting.isEmpty else { return }
        try run("save \(hosts.count) host(s)") {
            try pool.write { db in
                for name in deleting { try db.execute(sql: "DELETE FROM host WHERE name = ?", arguments: [name]) }
                for h in hosts {
                    try db.execute(sql: """
                        INSERT OR REPLACE INTO host (name, location, labels, facts, reportedLocation, agentVersion, agent,
                                                     firstSeen, lastSeen, points, lastDatabase, created)
                        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                        """, arguments: [h.name, h.location, h.labels, h.facts, h.reportedLocation, h.agentVersion, h.agent,
                                         h.firstSeen, h.lastSeen, h.points, h.lastDatabase, h.created])
                }
            }
        }
    }
}
