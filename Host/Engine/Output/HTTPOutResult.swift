import Synchronization
import TockModel

/// The live result of one `httpOut` node: each group's last row, in first-seen order.
///
/// The node updates it in place and publishes each update as the one row that changed
/// (``TaskEvent/httpOut(endpoint:row:result:)``); whoever serves the endpoint reads the whole document with
/// ``json`` only when asked. An update costs one row, whatever the number of groups, so a task with many
/// groups publishes output linear in the updates (building the whole document on every update was quadratic).
/// Safe from any thread.
public final class HTTPOutResult: Sendable, Hashable {
    private struct State {
        var index: [GroupID: Int] = [:]
        /// Each group's row, already encoded.
        var rows: [String] = []
    }

    private let state = Mutex(State())

    public init() {}

    /// Replaces the row of `group` (or appends it, for a group not seen before).
    public func update(group: GroupID, row: String) {
        state.withLock { s in
            if let i = s.index[group] {
                s.rows[i] = row
            } else {
                s.index[group] = s.rows.count
                s.rows.append(row)
            }
        }
    }

    /// How many groups the result holds.
    public var groupCount: Int { state.withLock { $0.rows.count } }

    /// The whole result `{"series":[…]}` as served at `/kapacitor/v1/tasks/{task}/{endpoint}`.
    public var json: String {
        state.withLock { s in
            var json = "{\"series\":["
            json.reserveCapacity(s.rows.reduce(16) { $0 + $1.utf8.count + 1 })
            for (i, r) in s.rows.enumerated() {
                if i > 0 { json += "," }
                json += r
            }
            json += "]}"
            return json
        }
    }

    public static func == (a: HTTPOutResult, b: HTTPOutResult) -> Bool { a === b }
    public func hash(into hasher: inout Hasher) { hasher.combine(ObjectIdentifier(self)) }
}
