import PluginSupervisor
import Synchronization

/// The last snapshot of every UDF node, kept in memory by task and node.
///
/// Nodes save what their UDF sends (on the snapshot schedule and when they stop) and restore from it
/// when they start or restart. The daemon can persist ``all`` and hand it back with ``save(_:taskID:nodeID:)``.
public final class UDFSnapshotStore: Sendable {
    public struct Key: Sendable, Hashable {
        public var taskID: String
        public var nodeID: String
        public init(taskID: String, nodeID: String) {
            self.taskID = taskID
            self.nodeID = nodeID
        }
    }

    private let storage = Mutex<[Key: [UInt8]]>([:])

    public init() {}

    /// The bytes the UDF last sent in a SnapshotResponse, if any.
    public func snapshot(taskID: String, nodeID: String) -> [UInt8]? {
        storage.withLock { $0[Key(taskID: taskID, nodeID: nodeID)] }
    }

    public func save(_ snapshot: [UInt8], taskID: String, nodeID: String) {
        storage.withLock { $0[Key(taskID: taskID, nodeID: nodeID)] = snapshot }
    }

    /// Forgets every snapshot of a task (when it is deleted).
    public func removeAll(taskID: String) {
        storage.withLock { $0 = $0.filter { $0.key.taskID != taskID } }
    }

    /// Every stored snapshot.
    public var all: [Key: [UInt8]] { storage.withLock { $0 } }
}
