import TICKScript
import TockModel

/// A database and retention policy a task reads from (`dbrp "telegraf"."autogen"`).
public struct DBRP: Sendable, Hashable, CustomStringConvertible {
    public var database: String
    public var retentionPolicy: String

    public init(_ database: String, _ retentionPolicy: String) {
        self.database = database
        self.retentionPolicy = retentionPolicy
    }

    /// Parses `db.rp` (the rp may itself contain dots: only the first dot splits).
    public init?(parsing text: String) {
        guard let dot = text.firstIndex(of: "."), dot != text.startIndex, text.index(after: dot) != text.endIndex else { return nil }
        self.init(String(text[..<dot]), String(text[text.index(after: dot)...]))
    }

    public var description: String { "\"\(database)\".\"\(retentionPolicy)\"" }
}

/// One node of a checked pipeline: its place in the graph and its runtime node.
public struct PipelineNode {
    /// Kapacitor-style name: the method and the creation index (`window2`).
    public var id: String
    /// The chaining method (`window`), or the UDF's name for `@udf` nodes.
    public var method: String
    public var position: SourcePosition
    /// The edge type reaching the node (`nil` for the `stream`/`batch` sources).
    public var inputType: EdgeType?
    /// The edge type the node emits, or `nil` when it emits nothing.
    public var outputType: EdgeType?
    /// Parents by inbound port: port 0 is the node on the left of the chain, 1… the node arguments.
    public var parents: [Int]
    /// Children with the port the edge enters them on, in creation order.
    public var children: [(node: Int, port: Int)]
    /// Whether `.quiet()` was set: errors are counted but not logged.
    public var quiet: Bool
    /// The runtime node.
    public var node: any Node
    /// Whether the graph shows the node as a source although it receives its parent's messages: Kapacitor's
    /// `stats` node is a source of the pipeline that reads its parent's counters, so `kapacitor show` draws no
    /// edge into it.
    public var drawnAsSource = false
    /// Whether the node is a UDF's (made by the ``UDFProvider``): such a node may block its task's executor (while
    /// its child catches up or restarts), so the task gets a thread of its own rather than the shared pool's.
    public var runsUDF = false
}

/// A task's checked graph of nodes, ready to run: what ``TaskBuilder`` makes of a script.
public final class Pipeline {
    /// Nodes in creation order; index 0 is the source (`stream0` or `batch0`).
    public internal(set) var nodes: [PipelineNode]
    /// The databases/retention policies the script declares with `dbrp`.
    public internal(set) var dbrps: [DBRP]

    init(nodes: [PipelineNode], dbrps: [DBRP]) {
        self.nodes = nodes
        self.dbrps = dbrps
    }

    /// Indexes of the `stream` source nodes (points written to the task enter there).
    public var streamSources: [Int] { nodes.indices.filter { nodes[$0].method == "stream" && nodes[$0].inputType == nil } }

    /// Kapacitor leaves the `batch` source out of the graph (`BatchNode.edot` draws nothing): its `query` nodes are
    /// the task's sources.
    static func isBatchSource(_ n: PipelineNode) -> Bool { n.method == "batch" && n.inputType == nil }

    /// The graph in Graphviz DOT, as `kapacitor show` prints it; with `stats`, nodes carry their counters and
    /// edges the number of messages that crossed them.
    public func dot(name: String, stats: [NodeStats]? = nil) -> String {
        var out = "digraph \(name) {\n"
        if let stats {
            for (i, n) in nodes.enumerated() where !Self.isBatchSource(n) {
                let s = stats[i]
                // Kapacitor prints a node's statistics sorted by name; its own counters go among the common ones.
                var attributes: [(String, String)] = [
                    ("avg_exec_time_ns", GoDuration.format(s.averageExecutionNanoseconds)), ("errors", "\(s.errors)"),
                    ("in", "\(s.received)"), ("out", "\(s.emitted)"),
                ]
                attributes += s.counters.map { ($0.key, "\($0.value)") }
                out += "\(n.id) ["
                for (key, value) in attributes.sorted(by: { $0.0 < $1.0 }) { out += "\(key)=\"\(value)\" " }
                out += "];\n"
            }
            out += "\n"
        }
        for (i, n) in nodes.enumerated() where !Self.isBatchSource(n) {
            for c in n.children where !nodes[c.node].drawnAsSource {
                if let stats {
                    out += "\(n.id) -> \(nodes[c.node].id) [processed=\"\(stats[i].emitted)\"];\n"
                } else {
                    out += "\(n.id) -> \(nodes[c.node].id);\n"
                }
            }
        }
        out += "}\n"
        return out
    }
}

/// The counters of one node of a running task.
public struct NodeStats: Sendable, Hashable {
    public var node: String
    /// Messages received on all inbound edges.
    public var received: Int
    /// Messages emitted to children (or, for a leaf, out of the pipeline).
    public var emitted: Int
    /// Messages whose processing threw.
    public var errors: Int
    /// Estimated time spent in the node itself (children excluded), in nanoseconds; measured on a sample of
    /// the messages and scaled to all of them.
    public var processingNanoseconds: Int64
    /// The node's own counters, by Kapacitor's statistic names (the alert node's `alerts_triggered`, influxDBOut's
    /// `points_written`, a query's `batches_queried` …): see ``CountingNode``.
    public var counters: [String: Int64]

    public init(node: String, received: Int = 0, emitted: Int = 0, errors: Int = 0, processingNanoseconds: Int64 = 0,
                counters: [String: Int64] = [:]) {
        self.node = node
        self.received = received
        self.emitted = emitted
        self.errors = errors
        self.processingNanoseconds = processingNanoseconds
        self.counters = counters
    }

    public var averageExecutionNanoseconds: Int64 { received == 0 ? 0 : processingNanoseconds / Int64(received) }
}

extension Pipeline {
    /// Indexes of the `query` nodes, in creation order: entry `i` of a `.brpl` recording feeds `batchQueries[i]`.
    public var batchQueries: [Int] {
        nodes.indices.filter { nodes[$0].method == "query" && nodes[$0].node is QueryNode }
    }

    /// What each of ``batchQueries`` runs, in the same order.
    public var queryPlans: [BatchQueryPlan] {
        batchQueries.map { (nodes[$0].node as! QueryNode).plan }
    }

    /// Whether the task reads batches from `query` nodes (`batch|query()`) rather than points.
    public var isBatch: Bool { nodes.contains { $0.method == "batch" && $0.inputType == nil } }
}
