import TICKScript
import TockModel

/// A value given to a node or property in a script, after variables are resolved.
public enum Value: Sendable, Hashable {
    case string(String)
    case int(Int64)
    case float(Double)
    case bool(Bool)
    /// Nanoseconds.
    case duration(Int64)
    /// A regex pattern (Go RE2 syntax as written in the script).
    case regex(String)
    case lambda(Expression)
    case star
    case list([Value])
}

/// What a positional argument or a property accepts. Kapacitor's types are strict: an int is not a float.
public indirect enum ArgumentType: Sendable, Hashable, CustomStringConvertible {
    case string, int, float, bool, duration, regex, lambda, star
    /// Either an int or a float (e.g. `percentile`'s value, `fill`'s number).
    case number
    /// One of several types (e.g. `sample(n | d)`).
    case oneOf([ArgumentType])
    /// Another node of the pipeline (`join(errors)`); becomes an extra inbound edge.
    case node
    case list(ArgumentType)

    public var description: String {
        switch self {
        case .string: "string"
        case .int: "int"
        case .float: "float"
        case .bool: "bool"
        case .duration: "duration"
        case .regex: "regex"
        case .lambda: "lambda"
        case .star: "star"
        case .number: "number"
        case .oneOf(let ts): ts.map(\.description).joined(separator: " or ")
        case .node: "node"
        case .list(let t): "list of \(t)"
        }
    }
}

/// The arguments a chaining method or property takes.
public struct Signature: Sendable, Hashable {
    /// Required positional arguments, in order.
    public var required: [ArgumentType]
    /// Optional positional arguments after the required ones.
    public var optional: [ArgumentType]
    /// Any number of further arguments of this type.
    public var variadic: ArgumentType?

    public init(_ required: [ArgumentType] = [], optional: [ArgumentType] = [], variadic: ArgumentType? = nil) {
        self.required = required
        self.optional = optional
        self.variadic = variadic
    }

    public static let none = Signature()
}

/// A property that can be set on a node with `.name(args)`.
public struct PropertySpec: Sendable, Hashable {
    public var name: String
    public var signature: Signature
    /// Whether the property may be set more than once (each call is kept, as `.field()` on `default`).
    public var repeatable: Bool

    public init(_ name: String, _ signature: Signature = .none, repeatable: Bool = false) {
        self.name = name
        self.signature = signature
        self.repeatable = repeatable
    }
}

/// What a node emits, given what it receives.
public enum Provides: Sendable, Hashable {
    case stream
    case batch
    /// The same edge type as its input.
    case same
    /// Nothing goes on (an output such as `influxDBOut`); children are an error.
    case none
}

/// A node as the script sees it: how it is created, what it takes, what edges it joins.
public struct NodeSpec: Sendable {
    /// The chaining method (`window`, `mean`, `join`).
    public var name: String
    public var arguments: Signature
    public var properties: [String: PropertySpec]
    /// The edge type it accepts, or `nil` for either.
    public var wants: EdgeType?
    public var provides: Provides
    /// Builds the runtime node once the script is checked.
    public var make: @Sendable (NodeConfiguration) throws -> any Node

    public init(
        name: String, arguments: Signature = .none, properties: [PropertySpec] = [],
        wants: EdgeType?, provides: Provides,
        make: @escaping @Sendable (NodeConfiguration) throws -> any Node
    ) {
        self.name = name
        self.arguments = arguments
        self.properties = Dictionary(uniqueKeysWithValues: properties.map { ($0.name, $0) })
        self.wants = wants
        self.provides = provides
        self.make = make
    }
}

/// The checked arguments and properties of one node in a script.
public struct NodeConfiguration: Sendable {
    /// The node's name in the graph (`window2`).
    public var id: String
    /// Where the node is created in the script.
    public var position: SourcePosition
    /// The edge type that reaches the node.
    public var inputType: EdgeType
    /// Positional arguments of the chaining method, `.node` arguments excluded.
    public var arguments: [Value]
    /// Each property set, in script order, with its arguments (a repeated property appears once per call).
    public var properties: [(name: String, arguments: [Value], position: SourcePosition)]
    /// The number of inbound edges: 1 for the parent on the left, plus one per `.node` argument
    /// (`union(a, b)` has 3). `nil` when the builder does not say.
    public var inputCount: Int?
    /// The programs the node may start (alert `.exec()`); the task builder's policy.
    public var execPolicy: ExecPolicy
    /// The `[[httppost]]` endpoints and `[deadman]` defaults of the configuration.
    public var configSections: ConfigSections = ConfigSections()
    /// Where `kapacitorLoopback` writes; `nil` when the runner has no ingress to give.
    public var ingress: (any PointIngress)? = nil
    /// InfluxDB for `query` and `influxDBOut`; `nil` when the runner has none to give.
    public var influxDB: (any InfluxDBService)? = nil
    /// Where `alert` nodes send their events; `nil` for ``NoAlertService``.
    public var alertService: (any AlertService)? = nil
    /// Whether `query` nodes query InfluxDB on their schedule or emit what the runner feeds them.
    public var batchSourceMode: BatchSourceMode = .schedule

    public init(
        id: String, position: SourcePosition, inputType: EdgeType, arguments: [Value],
        properties: [(name: String, arguments: [Value], position: SourcePosition)],
        inputCount: Int? = nil, execPolicy: ExecPolicy = .unrestricted
    ) {
        self.id = id
        self.position = position
        self.inputType = inputType
        self.arguments = arguments
        self.properties = properties
        self.inputCount = inputCount
        self.execPolicy = execPolicy
    }

    /// The arguments of the last call of `name`, or `nil` when it is not set.
    public func property(_ name: String) -> [Value]? {
        properties.last { $0.name == name }?.arguments
    }

    /// Every call of a repeatable property, in order.
    public func calls(_ name: String) -> [[Value]] {
        properties.filter { $0.name == name }.map(\.arguments)
    }

    /// Whether a property was set at all (flags such as `.align()`).
    public func has(_ name: String) -> Bool { properties.contains { $0.name == name } }

    public func string(_ name: String) -> String? {
        if case .string(let s)? = property(name)?.first { return s }
        return nil
    }

    public func duration(_ name: String) -> Int64? {
        if case .duration(let d)? = property(name)?.first { return d }
        return nil
    }

    public func int(_ name: String) -> Int64? {
        if case .int(let i)? = property(name)?.first { return i }
        return nil
    }

    /// A float property; an int is accepted only where the spec said `.number`.
    public func number(_ name: String) -> Double? {
        switch property(name)?.first {
        case .float(let f)?: return f
        case .int(let i)?: return Double(i)
        default: return nil
        }
    }

    /// A property's string arguments (`.groupBy('host', 'region')`, `.as('a', 'b')`).
    public func strings(_ name: String) -> [String] {
        (property(name) ?? []).compactMap { if case .string(let s) = $0 { s } else { nil } }
    }
}

/// A node's configuration is invalid in a way only the node can tell (`window` with neither period nor
/// periodCount). The builder adds the position and the node's name.
public struct NodeConfigurationError: Error, Sendable, Hashable, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}
