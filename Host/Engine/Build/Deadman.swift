import TICKScript
import TockModel

/// `|deadman(threshold, interval, [lambda…])`, built as Kapacitor builds it (pipeline/node.go `Deadman`): a macro
/// for
///
///     |stats(interval).align()
///     |derivative('emitted').unit(interval).nonNegative()
///     |alert().crit(lambda: "emitted" <= threshold AND lambda1 AND …)
///             .id(<[deadman] id, NODE_NAME replaced by the watched node's name>)
///             .message(<[deadman] message, INTERVAL replaced by the interval>)
///
/// The properties after `deadman()` are the alert node's. `stats` is drawn as a source, as Kapacitor's is, and a
/// `noop` child is added to a watched node that has no children yet (Kapacitor's workaround, kept for the graph).
extension BuildState {
    /// The deadman's own spec: its arguments, and the alert's properties for suggestions and `tock` help.
    static func deadmanSpec(alertProperties: [PropertySpec]) -> NodeSpec {
        NodeSpec(
            name: "deadman", arguments: Signature([.number, .duration], variadic: .lambda),
            properties: alertProperties, wants: nil, provides: .stream
        ) { _ in
            throw NodeConfigurationError("deadman is expanded by the task builder into stats, derivative and alert")
        }
    }

    /// Expands `parent|deadman(arguments…)` and returns the alert node, which the properties that follow configure.
    mutating func deadman(_ parent: Int, _ arguments: [Expression], at position: SourcePosition) throws -> Int {
        var values: [Value] = []
        var ignored: [Int] = []
        try checkArguments(arguments, Self.deadmanSpec(alertProperties: []).arguments, what: "deadman()", key: "deadman",
                           at: position, values: &values, nodes: &ignored)
        let threshold: Double = switch values[0] {
        case .float(let f): f
        case .int(let i): Double(i)
        default: 0
        }
        guard case .duration(let interval) = values[1] else { return parent }
        guard interval > 0 else {
            throw ScriptError("deadman interval must be positive, got \(GoDuration.format(interval))", at: arguments[1].position)
        }
        let extra: [Expression] = values.dropFirst(2).compactMap { if case .lambda(let e) = $0 { e } else { nil } }
        return try expandDeadman(on: parent, threshold: threshold, interval: interval, extra: extra, at: position)
    }

    /// With `[deadman] global = true`, every source of the script (`stream0` or `batch0`) gets
    /// `deadman(threshold, interval)` after the script, as Kapacitor's CreatePipeline adds it.
    mutating func addGlobalDeadman() throws {
        let config = builder.configSections.deadman
        guard config.global else { return }
        var sources = nodes.indices.filter { nodes[$0].spec == nil && nodes[$0].udf == nil && nodes[$0].parents.isEmpty }
        // `batch0` emits nothing itself: Kapacitor's batch node counts what its queries collect, so the deadman
        // watches each query node.
        sources = sources.flatMap { s in nodes[s].method == "batch" ? nodes[s].children.map(\.node) : [s] }
        for source in sources {
            _ = try expandDeadman(on: source, threshold: config.threshold, interval: config.interval, extra: [],
                                  at: nodes[source].position)
        }
    }

    mutating func expandDeadman(on parent: Int, threshold: Double, interval: Int64, extra: [Expression],
                                at position: SourcePosition) throws -> Int {
        guard let statsSpec = builder.registry["stats"], let derivativeSpec = builder.registry["derivative"],
              let alertSpec = builder.registry["alert"] else {
            throw ScriptError("deadman needs the stats, derivative and alert nodes, which this builder does not have", at: position)
        }
        let watched = nodes[parent].id
        _ = try output(of: parent, for: "deadman", at: position)
        let stats = add(DraftNode(
            id: "stats\(nodes.count)", method: "stats", position: position, spec: statsSpec, inputType: nodes[parent].outputType,
            outputType: .stream, parents: [parent], arguments: [.duration(interval)], properties: [("align", [], position)]))
        addNoOpIfChildless(parent, at: position)
        let derivative = add(DraftNode(
            id: "derivative\(nodes.count)", method: "derivative", position: position, spec: derivativeSpec, inputType: .stream,
            outputType: .stream, parents: [stats], arguments: [.string("emitted")],
            properties: [("unit", [.duration(interval)], position), ("nonNegative", [], position),
                         // Kapacitor's derivative writes to the field it reads unless told otherwise.
                         ("as", [.string("emitted")], position)]))
        var crit = Expression(.binary(.lessOrEqual, Expression(.reference("emitted"), at: position),
                                      Expression(.float(threshold), at: position)), at: position)
        for e in extra {
            crit = Expression(.binary(.and, crit, Expression(.parenthesized(e), at: e.position)), at: position)
        }
        let config = builder.configSections.deadman
        let id = Self.replacingFirst("NODE_NAME", in: config.id, with: watched)
        let message = Self.replacingFirst("INTERVAL", in: config.message, with: GoDuration.format(interval))
        return add(DraftNode(
            id: "alert\(nodes.count)", method: "alert", position: position, spec: alertSpec, inputType: .stream,
            outputType: .stream, parents: [derivative], arguments: [],
            properties: [("crit", [.lambda(crit)], position), ("id", [.string(id)], position),
                         ("message", [.string(message)], position)]))
    }

    /// Kapacitor's `Stats()` links a `noop` child to a node that has none, so the node has somewhere to send its data.
    mutating func addNoOpIfChildless(_ parent: Int, at position: SourcePosition) {
        let hasChildren = nodes[parent].children.contains { nodes[$0.node].spec?.name != "stats" }
        guard !hasChildren, let type = nodes[parent].outputType else { return }
        _ = add(DraftNode(id: "noop\(nodes.count)", method: "noop", position: position, spec: Self.statsNoOpSpec, inputType: type,
                          outputType: nil, parents: [parent], arguments: []))
    }

    /// The `noop` Kapacitor adds under a watched node: it receives the node's data and sends nothing on.
    static let statsNoOpSpec = NodeSpec(name: "noop", wants: nil, provides: .none) { _ in StatsNoOpNode() }

    /// Go's `strings.Replace(s, old, new, 1)`.
    static func replacingFirst(_ old: String, in s: String, with new: String) -> String {
        let chars = Array(s), target = Array(old)
        guard !target.isEmpty, chars.count >= target.count else { return s }
        for start in 0...(chars.count - target.count) where Array(chars[start..<start + target.count]) == target {
            return String(chars[..<start]) + new + String(chars[(start + target.count)...])
        }
        return s
    }
}

/// Kapacitor's `noop` under a node watched by `stats`: the data ends here.
final class StatsNoOpNode: Node {
    func receive(_ message: Message, port: Int, output: any NodeOutput) throws {}
}
