import Logging
import Engine
import Synchronization
import PluginSupervisor
import TockModel

/// The UDFs of a configuration, as the pipeline builder sees them: Info for type-checking `@name()`
/// nodes, and runtime nodes for tasks.
///
/// Info is fetched once per UDF (start the program or dial the socket, InfoRequest, InfoResponse,
/// close) and cached, on first use or for all at once with ``loadAll()``.
public final class UDFRegistry: UDFProvider, @unchecked Sendable {
    public let configuration: UDFConfiguration
    /// Every node's last snapshot; restored when a node starts or restarts.
    public let snapshots: UDFSnapshotStore
    private let logger: Logger

    private let infos = Mutex<[String: UDFInfo]>([:])
    private let nodes = Mutex<[WeakNode]>([])

    /// - Parameter logger: where lines a UDF writes to stderr during its Info call go (with its name as `udf`
    ///   metadata).
    public init(configuration: UDFConfiguration, snapshots: UDFSnapshotStore = UDFSnapshotStore(),
                logger: Logger = .discarding) {
        self.configuration = configuration
        self.snapshots = snapshots
        self.logger = logger
    }

    /// Reads a kapacitor.conf-style file (see ``UDFConfiguration/load(path:)``).
    public convenience init(configurationFile path: String, logger: Logger = .discarding) throws(ConfigDiagnostic) {
        self.init(configuration: try UDFConfiguration.load(path: path), logger: logger)
    }

    public func info(for name: String) throws -> UDFInfo? {
        guard let function = configuration.functions[name] else { return nil }
        if let cached = infos.withLock({ $0[name] }) { return cached }
        let info = try UDFRegistry.fetchInfo(function, logger: logger)
        infos.withLock { $0[name] = info }
        return info
    }

    /// Fetches the Info of every configured UDF, as Kapacitor does at start; the first failure is thrown.
    public func loadAll() throws {
        for name in configuration.functions.keys.sorted() { _ = try info(for: name) }
    }

    public func makeNode(name: String, taskID: String, nodeID: String, options: [UDFOption]) throws -> any Node {
        guard let function = configuration.functions[name], let info = try info(for: name) else {
            throw UDFError(udf: name, nodeID: nodeID, reason: .notConfigured)
        }
        let node = try UDFNode(function: function, info: info, taskID: taskID, nodeID: nodeID, options: options,
                               snapshots: snapshots, snapshotInterval: configuration.snapshotInterval)
        nodes.withLock {
            $0.removeAll { $0.node == nil }
            $0.append(WeakNode(node))
        }
        return node
    }

    /// The live UDF nodes of a task by node ID.
    public func nodes(taskID: String) -> [String: UDFNode] {
        nodes.withLock { list in
            var out: [String: UDFNode] = [:]
            for box in list { if let n = box.node, n.taskID == taskID { out[n.nodeID] = n } }
            return out
        }
    }

    /// Restarts per UDF node of a task, for its statistics.
    public func restartCounts(taskID: String) -> [String: Int] {
        nodes(taskID: taskID).mapValues(\.restartCount)
    }

    /// Stops every live UDF process at once (host shutdown).
    public func terminateAll() {
        let live = nodes.withLock { $0.compactMap(\.node) }
        for node in live { node.terminate() }
    }

    static func fetchInfo(_ function: UDFFunctionConfiguration, logger: Logger) throws(UDFError) -> UDFInfo {
        let done = ConditionLock()
        let finished = Mutex(false)
        let name = function.name
        let session = try UDFSession(
            function: function, nodeID: nil, provides: nil,
            handlers: .init(
                log: { logger.info("UDF \(name): \($0)", metadata: ["udf": .string(name)]) },
                ended: { _, _ in
                    done.withLock {
                        finished.withLock { $0 = true }
                        done.broadcast()
                    }
                }))
        defer {
            session.closeInput()
            done.withLock { while !finished.withLock({ $0 }) { done.wait() } }
        }
        return try session.info()
    }
}

private struct WeakNode: @unchecked Sendable {
    weak var node: UDFNode?
    init(_ node: UDFNode) { self.node = node }
}
