import GRDB

/// One alert's last level, as ``Store/saveAlertStates(_:)`` writes it.
public struct StoredAlertState: Sendable, Equatable {
    public var taskID: String
    public var nodeID: String
    public var alertID: String
    /// An alert level's raw value (0 = OK).
    public var level: Int
    /// When the level was reached (nanoseconds since the epoch).
    public var time: Int64

    public init(taskID: String, nodeID: String, alertID: String, level: Int, time: Int64) {
        self.taskID = taskID
        self.nodeID = nodeID
        self.alertID = alertID
        self.level = level
        self.time = time
    }
}

extension Store {
    /// The last level (an alert level's raw value, 0 = OK) of one alert of a task's alert node, and when
    /// it was reached; `nil` when none is stored.
    public func alertState(taskID: String, nodeID: String, alertID: String) throws(StoreError) -> (level: Int, time: Int64)? {
        try run("read alert state of \(taskID)/\(nodeID)/\(alertID)") {
            try pool.read { db in
                try Row.fetchOne(db, sql: "SELECT level, time FROM alertState WHERE taskID = ? AND nodeID = ? AND alertID = ?",
                                 arguments: [taskID, nodeID, alertID]).map { (level: $0["level"] as Int, time: $0["time"] as Int64) }
            }
        }
    }

    /// Records several alerts' new levels in one transaction (durably, before returning).
    public func saveAlertStates(_ states: [StoredAlertState]) throws(StoreError) {
        guard !states.isEmpty else { return }
        try run("save \(states.count) alert states") {
            try pool.write { db in
                let statement = try db.cachedStatement(sql: """
                    INSERT INTO alertState (taskID, nodeID, alertID, level, time) VALUES (?, ?, ?, ?, ?)
                    ON CONFLICT (taskID, nodeID, alertID) DO UPDATE SET level = excluded.level, time = excluded.time
                    """)
                for s in states {
                    try statement.execute(arguments: [s.taskID, s.nodeID, s.alertID, s.level, s.time])
                }
            }
        }
    }

    /// Every stored alert level of a task: `(nodeID, alertID, level)`, ordered.
    public func alertStates(taskID: String) throws(StoreError) -> [(nodeID: String, alertID: String, level: Int)] {
        try run("read alert states of \(taskID)") {
            try pool.read { db in
                try Row.fetchAll(db, sql: "SELECT nodeID, alertID, level FROM alertState WHERE taskID = ? ORDER BY nodeID, alertID",
                                 arguments: [taskID]).map { (nodeID: $0["nodeID"] as String, alertID: $0["alertID"] as String, level: $0["level"] as Int) }
            }
        }
    }
}
