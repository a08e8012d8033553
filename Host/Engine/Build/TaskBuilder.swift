import TICKScript
import TockModel

/// Turns a parsed script into a checked ``Pipeline``: resolves variables, creates the nodes Kapacitor-style
/// (`stream0`, `from1`, `window2`, …), checks every chaining method, property and argument against the node
/// specs, checks edge types, and makes the runtime nodes. Every problem is a ``ScriptError`` at its line:column.
public struct TaskBuilder {
    public var taskID: String
    /// Values for the script's template variables (`var x float` or overriding `var x = 5.0`).
    public var variables: [String: Value]
    public var udfProvider: (any UDFProvider)?
    /// The nodes a script may use: ``NodeRegistry/all`` unless a caller adds its own.
    public var registry: [String: NodeSpec]
    /// The programs alert `.exec()` handlers may start; a script naming another is refused at build time.
    public var execPolicy: ExecPolicy
    /// The `[[httppost]]` endpoints `httpPost().endpoint()` names and the `[deadman]` defaults (with `global`,
    /// a deadman on every task's source).
    public var configSections: ConfigSections = ConfigSections()
    /// Where `kapacitorLoopback` nodes write (the engine's own ingress); `nil` refuses them at build time.
    public var ingress: (any PointIngress)? = nil
    /// InfluxDB for `batch|query()` and `influxDBOut()`; `nil` refuses them at build time.
    public var influxDB: (any InfluxDBService)? = nil
    /// Where `alert` nodes send their events; `nil` for ``NoAlertService`` (handlers refused).
    public var alertService: (any AlertService)? = nil
    /// Whether `query` nodes query InfluxDB on their schedule or emit only what the runner feeds them.
    public var batchSourceMode: BatchSourceMode = .schedule

    public init(taskID: String, variables: [String: Value] = [:], udfProvider: (any UDFProvider)? = nil,
                registry: [String: NodeSpec] = NodeRegistry.all, execPolicy: ExecPolicy = .unrestricted) {
        self.taskID = taskID
        self.variables = variables
        self.udfProvider = udfProvider
        self.registry = registry
        self.execPolicy = execPolicy
    }

    public func build(_ program: Program) throws -> Pipeline {
        var state = BuildState(builder: self)
        for statement in program.statements {
            try state.run(statement)
        }
        try state.addGlobalDeadman()
        return try state.finish()
    }
}

/// A node while the script is being read: its spec, its checked arguments and properties.
struct DraftNode {
    var id: String
    var method: String
    var position: SourcePosition
    var spec: NodeSpec?
    var udf: UDFInfo?
    var inputType: EdgeType?
    var outputType: EdgeType?
    var parents: [Int]
    var children: [(node: Int, port: Int)] = []
    var arguments: [Value]
    var properties: [(name: String, arguments: [Value], position: SourcePosition)] = []
}

/// What a name in the script stands for.
enum Binding {
    case value(Value)
    case node(Int)
}

struct BuildState {
    let builder: TaskBuilder
    var scope: [String: Binding] = [:]
    var nodes: [DraftNode] = []
    var dbrps: [DBRP] = []

    init(builder: TaskBuilder) { self.builder = builder }

    mutating func run(_ statement: Statement) throws {
        switch statement.kind {
        case .dbrp(let db, let rp):
            let d = DBRP(db, rp)
            if !dbrps.contains(d) { dbrps.append(d) }
        case .declaration(let name, let type):
            guard let v = builder.variables[name] else {
                throw ScriptError("missing value for template variable \"\(name)\" (\(type.rawValue))", at: statement.position)
            }
            guard Self.value(v, fits: type) else {
                throw ScriptError("template variable \"\(name)\" is declared \(type.rawValue) but was given \(Self.typeName(v))", at: statement.position)
            }
            scope[name] = .value(v)
        case .variable(let name, let expression):
            let bound = try evaluate(expression)
            if case .value(let defaultValue) = bound, let given = builder.variables[name] {
                guard Self.typeName(given) == Self.typeName(defaultValue) else {
                    throw ScriptError("template variable \"\(name)\" has type \(Self.typeName(defaultValue)) but was given \(Self.typeName(given))", at: statement.position)
                }
                scope[name] = .value(given)
            } else {
                scope[name] = bound
            }
        case .expression(let expression):
            _ = try evaluate(expression)
        }
    }

    // MARK: Expressions outside lambdas

    mutating func evaluate(_ e: Expression) throws -> Binding {
        switch e.kind {
        case .identifier(let name):
            if let b = scope[name] { return b }
            if name == "stream" || name == "batch" {
                let index = source(name, at: e.position)
                return .node(index)
            }
            var message = "undefined variable \"\(name)\""
            if let close = Suggest.closest(to: name, in: Array(scope.keys) + ["stream", "batch"]) {
                message += "; did you mean \"\(close)\"?"
            }
            throw ScriptError(message, at: e.position)
        case .chain(let left, let op, let name, let arguments):
            guard case .node(let parent) = try evaluate(left) else {
                throw ScriptError("cannot use \(op.rawValue)\(name)() on a value that is not a node", at: e.position)
            }
            switch op {
            case .pipe: return .node(try chain(parent, name, arguments, at: e.position))
            case .at: return .node(try udf(parent, name, arguments, at: e.position))
            case .dot:
                try property(parent, name, arguments, at: e.position)
                return .node(parent)
            }
        case .parenthesized(let inner):
            return try evaluate(inner)
        default:
            return .value(try value(e))
        }
    }

    /// The value of an argument expression: a literal, a list, a lambda (with variables substituted), a variable.
    func value(_ e: Expression) throws -> Value {
        switch e.kind {
        case .string(let s, _): return .string(s)
        case .int(let i): return .int(i)
        case .float(let f): return .float(f)
        case .bool(let b): return .bool(b)
        case .duration(let ns, _): return .duration(ns)
        case .regex(let r): return .regex(r)
        case .star: return .star
        case .list(let items): return .list(try items.map(value))
        case .lambda(let body):
            let substituted = try substitute(body)
            // Variables holding lambdas add their own depth to the script's.
            if substituted.depth > Program.maximumDepth {
                throw ScriptError(
                    "lambda nested deeper than \(Program.maximumDepth) levels once its variables are substituted",
                    at: e.position)
            }
            // Compile now so a bad lambda is reported at build time, at its position.
            _ = try Lambda(substituted)
            return .lambda(substituted)
        case .parenthesized(let inner): return try value(inner)
        case .identifier(let name):
            switch scope[name] {
            case .value(let v)?: return v
            case .node?: throw ScriptError("\"\(name)\" is a node, not a value", at: e.position)
            case nil: throw ScriptError("undefined variable \"\(name)\"", at: e.position)
            }
        case .reference(let r):
            throw ScriptError("field or tag reference \"\(r)\" is only allowed inside a lambda; write '\(r)' for a string", at: e.position)
        case .call(let function, let arguments) where function == "time":
            return try timeDimension(arguments, at: e.position)
        case .unary, .binary, .call:
            return try constant(e)
        case .chain:
            throw ScriptError("a pipeline cannot be used as a value here", at: e.position)
        }
    }

    /// Replaces variables inside a lambda with their values.
    func substitute(_ e: Expression) throws -> Expression {
        var out = e
        switch e.kind {
        case .identifier(let name):
            guard case .value(let v)? = scope[name] else {
                if case .node? = scope[name] { throw ScriptError("\"\(name)\" is a node and cannot be used in a lambda", at: e.position) }
                throw ScriptError("undefined variable \"\(name)\"", at: e.position)
            }
            out.kind = try Self.literal(v, at: e.position)
        case .unary(let op, let x): out.kind = .unary(op, try substitute(x))
        case .binary(let op, let l, let r): out.kind = .binary(op, try substitute(l), try substitute(r))
        case .call(let f, let args): out.kind = .call(function: f, arguments: try args.map(substitute))
        case .parenthesized(let x): out.kind = .parenthesized(try substitute(x))
        case .lambda(let x): out.kind = .parenthesized(try substitute(x))
        default: break
        }
        return out
    }

    static func literal(_ v: Value, at position: SourcePosition) throws -> Expression.Kind {
        switch v {
        case .string(let s): return .string(s, tripleQuoted: false)
        case .int(let i): return .int(i)
        case .float(let f): return .float(f)
        case .bool(let b): return .bool(b)
        case .duration(let d): return .duration(nanoseconds: d, literal: GoDuration.format(d))
        case .regex(let r): return .regex(r)
        case .lambda(let e): return .parenthesized(e)
        case .star, .list: throw ScriptError("a \(typeName(v)) cannot be used in a lambda", at: position)
        }
    }

    // MARK: Nodes

    mutating func source(_ name: String, at position: SourcePosition) -> Int {
        let index = nodes.count
        nodes.append(DraftNode(id: "\(name)\(index)", method: name, position: position, spec: nil,
                               inputType: nil, outputType: name == "stream" ? .stream : .batch, parents: [], arguments: []))
        scope[name] = .node(index)
        return index
    }

    /// The edge type `node` emits, or an error when nothing may follow it.
    func output(of node: Int, for child: String, at position: SourcePosition) throws -> EdgeType {
        guard let t = nodes[node].outputType else {
            throw ScriptError("\(nodes[node].id) has no outgoing edge; \(child) cannot follow it", at: position)
        }
        return t
    }

    mutating func chain(_ parent: Int, _ name: String, _ arguments: [Expression], at position: SourcePosition) throws -> Int {
        let p = nodes[parent]
        if p.spec == nil, p.udf == nil {
            // A source: stream only chains from(), batch only query().
            let allowed = p.method == "stream" ? ["from"] : ["query", "queryFlux"]
            guard allowed.contains(name) else {
                throw ScriptError("\(p.method) only supports \(allowed.map { "|\($0)()" }.joined(separator: " or ")), not |\(name)()", at: position)
            }
        } else if name == "from" {
            throw ScriptError("from() can only follow stream", at: position)
        } else if name == "query" {
            throw ScriptError("query() can only follow batch", at: position)
        }
        if let reason = UnsupportedNodes.reason(for: name) { throw ScriptError(reason, at: position) }
        if name == "deadman", builder.registry[name] != nil {
            return try deadman(parent, arguments, at: position)
        }
        guard let spec = builder.registry[name] else {
            var message = "unknown node \"\(name)\""
            if let close = Suggest.closest(to: name, in: Array(builder.registry.keys)) {
                message += "; did you mean \"\(close)\"?"
            } else if p.spec?.properties[name] != nil {
                message += "; \(name) is a property of \(p.method), set it with .\(name)()"
            }
            message += " Known nodes: \(builder.registry.keys.sorted().joined(separator: ", "))"
            throw ScriptError(message, at: position)
        }
        let input = try output(of: parent, for: name, at: position)
        try checkEdge(spec.wants, input, node: name, after: p, at: position)
        var values: [Value] = []
        var nodeArgs: [Int] = []
        try checkArguments(arguments, spec.arguments, what: "\(name)()", key: name, at: position, values: &values, nodes: &nodeArgs)
        for other in nodeArgs {
            let t = try output(of: other, for: name, at: position)
            try checkEdge(spec.wants, t, node: name, after: nodes[other], at: position)
            if t != input {
                throw ScriptError("\(name) joins a \(input.rawValue) edge with a \(t.rawValue) edge from \(nodes[other].id)", at: position)
            }
        }
        let outputType: EdgeType? = switch spec.provides {
        case .stream: .stream
        case .batch: .batch
        case .same: input
        case .none: nil
        }
        let index = add(DraftNode(id: "\(name)\(nodes.count)", method: name, position: position, spec: spec,
                                  inputType: input, outputType: outputType, parents: [parent] + nodeArgs, arguments: values))
        if name == "stats" { addNoOpIfChildless(parent, at: position) }
        return index
    }

    mutating func add(_ draft: DraftNode) -> Int {
        let index = nodes.count
        for (port, parent) in draft.parents.enumerated() {
            nodes[parent].children.append((index, port))
        }
        nodes.append(draft)
        return index
    }

    func checkEdge(_ wants: EdgeType?, _ input: EdgeType, node name: String, after parent: DraftNode, at position: SourcePosition) throws {
        guard let wants, wants != input else { return }
        if wants == .batch {
            throw ScriptError("\(name) needs a batch edge but \(parent.id) provides a stream; window() or query() needed before \(name)", at: position)
        }
        throw ScriptError("\(name) needs a stream edge but \(parent.id) provides a batch", at: position)
    }

    mutating func udf(_ parent: Int, _ name: String, _ arguments: [Expression], at position: SourcePosition) throws -> Int {
        guard let provider = builder.udfProvider else {
            throw ScriptError("no UDF named \"\(name)\": no UDFs are configured", at: position)
        }
        let info: UDFInfo
        do {
            guard let i = try provider.info(for: name) else {
                throw ScriptError("no UDF named \"\(name)\" is configured", at: position)
            }
            info = i
        } catch let error as ScriptError {
            throw error
        } catch {
            throw ScriptError("UDF \"\(name)\" could not be loaded: \(error)", at: position)
        }
        if !arguments.isEmpty {
            throw ScriptError("@\(name)() takes no arguments; set its options with .option(…)", at: position)
        }
        let input = try output(of: parent, for: "@\(name)", at: position)
        if info.wants != input {
            throw ScriptError("@\(name) wants a \(info.wants.rawValue) edge but \(nodes[parent].id) provides a \(input.rawValue)", at: position)
        }
        var draft = DraftNode(id: "\(name)\(nodes.count)", method: name, position: position, spec: nil,
                              inputType: input, outputType: info.provides, parents: [parent], arguments: [])
        draft.udf = info
        return add(draft)
    }

    mutating func property(_ node: Int, _ name: String, _ arguments: [Expression], at position: SourcePosition) throws {
        let n = nodes[node]
        if name == "quiet" {
            guard arguments.isEmpty else { throw ScriptError(".quiet() takes no arguments", at: position) }
            nodes[node].properties.append((name, [], position))
            return
        }
        if let info = n.udf {
            try udfOption(node, info, name, arguments, at: position)
            return
        }
        guard let spec = n.spec else {
            throw ScriptError("\(n.method) has no property \"\(name)\"; chain a node with |\(name)()", at: position)
        }
        guard let prop = spec.properties[name] else {
            var message = "unknown property \"\(name)\" on \(n.method)"
            if let close = Suggest.closest(to: name, in: Array(spec.properties.keys) + ["quiet"]) {
                message += "; did you mean \"\(close)\"?"
            } else if builder.registry[name] != nil {
                message += "; \(name) is a node, chain it with |\(name)()"
            }
            let known = (Array(spec.properties.keys) + ["quiet"]).sorted()
            message += " Properties of \(n.method): \(known.joined(separator: ", "))"
            throw ScriptError(message, at: position)
        }
        var values: [Value] = []
        var nodeArgs: [Int] = []
        try checkArguments(
            arguments, prop.signature, what: ".\(name)() on \(n.method)", key: "\(n.method).\(name)", at: position,
            values: &values, nodes: &nodeArgs)
        nodes[node].properties.append((name, values, position))
    }

    mutating func udfOption(_ node: Int, _ info: UDFInfo, _ name: String, _ arguments: [Expression], at position: SourcePosition) throws {
        let udfName = nodes[node].method
        guard let types = info.options[name] else {
            var message = "@\(udfName) has no option \"\(name)\""
            if let close = Suggest.closest(to: name, in: Array(info.options.keys)) { message += "; did you mean \"\(close)\"?" }
            message += info.options.isEmpty ? " (it takes no options)" : " Options: \(info.options.keys.sorted().joined(separator: ", "))"
            throw ScriptError(message, at: position)
        }
        guard arguments.count == types.count else {
            throw ScriptError("option \(name) of @\(udfName) takes \(types.count) argument\(types.count == 1 ? "" : "s"), got \(arguments.count)", at: position)
        }
        var values: [Value] = []
        for (i, (a, t)) in zip(arguments, types).enumerated() {
            let v = try value(a)
            let ok = switch (t, v) {
            case (.bool, .bool), (.int, .int), (.double, .float), (.string, .string), (.duration, .duration): true
            default: false
            }
            guard ok else {
                throw ScriptError("option \(name) of @\(udfName): argument \(i + 1) must be \(t.rawValue), got \(Self.typeName(v))\(Self.hint(t, v))", at: a.position)
            }
            values.append(v)
        }
        nodes[node].properties.append((name, values, position))
    }

    static func hint(_ t: UDFValueType, _ v: Value) -> String {
        switch (t, v) {
        case (.double, .int(let i)): " (write \(i).0)"
        default: ""
        }
    }

    /// Checks positional arguments against a signature; node arguments are collected separately.
    /// Durations and counts out of ``ValueBounds`` are refused at the argument; `key` names the node or
    /// `node.property` for ``ValueBounds/countArguments``.
    mutating func checkArguments(_ arguments: [Expression], _ signature: Signature, what: String, key: String,
                                 at position: SourcePosition, values: inout [Value], nodes nodeArgs: inout [Int]) throws {
        let minimum = signature.required.count
        let maximum = signature.variadic == nil ? minimum + signature.optional.count : Int.max
        guard arguments.count >= minimum, arguments.count <= maximum else {
            let want = minimum == maximum ? "\(minimum)" : maximum == Int.max ? "at least \(minimum)" : "\(minimum) to \(maximum)"
            throw ScriptError("\(what) takes \(want) argument\(want == "1" ? "" : "s"), got \(arguments.count)", at: position)
        }
        let types = signature.required + signature.optional
        for (i, a) in arguments.enumerated() {
            let type = i < types.count ? types[i] : signature.variadic!
            if Self.acceptsNode(type) {
                if case .node(let n) = try evaluate(a) {
                    nodeArgs.append(n)
                    continue
                }
                if case .node = type {
                    throw ScriptError("argument \(i + 1) of \(what) must be a node", at: a.position)
                }
            }
            let v = try value(a)
            guard Self.value(v, matches: type) else {
                throw ScriptError("argument \(i + 1) of \(what) must be \(type), got \(Self.typeName(v))", at: a.position)
            }
            try ValueBounds.check(v, index: i, of: key, at: a.position)
            values.append(v)
        }
    }

    static func acceptsNode(_ t: ArgumentType) -> Bool {
        switch t {
        case .node: true
        case .oneOf(let ts): ts.contains(where: acceptsNode)
        default: false
        }
    }

    static func value(_ v: Value, matches t: ArgumentType) -> Bool {
        switch (t, v) {
        case (.string, .string), (.int, .int), (.float, .float), (.bool, .bool), (.duration, .duration),
             (.regex, .regex), (.lambda, .lambda), (.star, .star), (.number, .int), (.number, .float):
            return true
        case (.oneOf(let ts), _): return ts.contains { value(v, matches: $0) }
        case (.list(let item), .list(let items)): return items.allSatisfy { value($0, matches: item) }
        default: return false
        }
    }

    static func value(_ v: Value, fits t: DeclaredType) -> Bool {
        switch (t, v) {
        case (.string, .string), (.int, .int), (.float, .float), (.duration, .duration), (.lambda, .lambda),
             (.regex, .regex), (.bool, .bool), (.star, .star), (.list, .list): true
        default: false
        }
    }

    static func typeName(_ v: Value) -> String {
        switch v {
        case .string: "string"
        case .int: "int"
        case .float: "float"
        case .bool: "bool"
        case .duration: "duration"
        case .regex: "regex"
        case .lambda: "lambda"
        case .star: "star"
        case .list: "list"
        }
    }

    // MARK: Finishing

    func finish() throws -> Pipeline {
        var built: [PipelineNode] = []
        for draft in nodes {
            let quiet = draft.properties.contains { $0.name == "quiet" }
            let node: any Node
            let properties = draft.properties.filter { $0.name != "quiet" }
            if let spec = draft.spec {
                var config = NodeConfiguration(id: draft.id, position: draft.position, inputType: draft.inputType ?? .stream,
                                               arguments: draft.arguments, properties: properties, inputCount: draft.parents.count,
                                               execPolicy: builder.execPolicy)
                config.configSections = builder.configSections
                config.ingress = builder.ingress.map { ScriptIngress(base: $0, scriptDBRPs: dbrps) }
                config.influxDB = builder.influxDB
                config.alertService = builder.alertService
                config.batchSourceMode = builder.batchSourceMode
                do {
                    node = try spec.make(config)
                } catch let error as ScriptError {
                    throw error
                } catch {
                    throw ScriptError("\(draft.id): \(error)", at: draft.position)
                }
            } else if draft.udf != nil, let provider = builder.udfProvider {
                let options = properties.map { UDFOption(name: $0.name, values: $0.arguments) }
                do {
                    node = try provider.makeNode(name: draft.method, taskID: builder.taskID, nodeID: draft.id, options: options)
                } catch {
                    throw ScriptError("@\(draft.method): \(error)", at: draft.position)
                }
            } else {
                node = PassThroughNode()
            }
            built.append(PipelineNode(id: draft.id, method: draft.method, position: draft.position, inputType: draft.inputType,
                                      outputType: draft.outputType, parents: draft.parents, children: draft.children,
                                      quiet: quiet, node: node, drawnAsSource: draft.spec?.name == "stats",
                                      runsUDF: draft.spec == nil && draft.udf != nil && builder.udfProvider != nil))
        }
        if built.isEmpty {
            throw ScriptError("the script defines no pipeline: start one with stream|from()", at: SourcePosition(line: 1, column: 1))
        }
        return Pipeline(nodes: built, dbrps: dbrps)
    }
}

/// The `stream` and `batch` sources: hand on what they receive.
final class PassThroughNode: Node {
    func receive(_ message: Message, port: Int, output: any NodeOutput) throws {
        output.emit(message)
    }
}
