import Engine
import PluginHost
import TockModel

/// The UDFs of a replay's task copy: the daemon's, under a task ID of their own (`replay:<replay>:<task>`), so that
/// the copy's UDF processes never take or overwrite the live task's snapshots.
struct ReplayUDFProvider: UDFProvider {
    let inner: any UDFProvider
    let replayTaskID: String

    init(inner: any UDFProvider, replayID: String, taskID: String) {
        self.inner = inner
        self.replayTaskID = "replay:\(replayID):\(taskID)"
    }

    func info(for name: String) throws -> UDFInfo? { try inner.info(for: name) }

    func makeNode(name: String, taskID: String, nodeID: String, options: [UDFOption]) throws -> any Node {
        try inner.makeNode(name: name, taskID: replayTaskID, nodeID: nodeID, options: options)
    }

    /// Drops the snapshots the copy's UDFs left.
    func cleanUp() {
        (inner as? UDFRegistry)?.snapshots.removeAll(taskID: replayTaskID)
    }
}

/// Where a replay copy's `kapacitorLoopback` nodes write. A replay runs in isolation, as in Kapacitor (its own
/// task master, where no other task runs): the points are taken and go nowhere, never into the live tasks.
struct ReplayIngress: PointIngress {
    let taskDBRPs: [DBRP]

    func write(_ points: [Point]) throws {}
}
