import TockModel

/// The option types a UDF declares in its Info response.
public enum UDFValueType: String, Sendable, Hashable {
    case bool, int, double, string, duration
}

/// What a UDF says about itself at load time: the edges it joins and the options it takes.
/// The builder type-checks `@name().option(args)` against it.
public struct UDFInfo: Sendable, Hashable {
    public var wants: EdgeType
    public var provides: EdgeType
    /// Option name → the types of its arguments, in order.
    public var options: [String: [UDFValueType]]

    public init(wants: EdgeType, provides: EdgeType, options: [String: [UDFValueType]]) {
        self.wants = wants
        self.provides = provides
        self.options = options
    }
}

/// One option as set in a script (`.size(3600)`); a repeated option appears once per call.
public struct UDFOption: Sendable, Hashable {
    public var name: String
    public var values: [Value]

    public init(name: String, values: [Value]) {
        self.name = name
        self.values = values
    }
}

/// Where the builder finds `@name()` nodes: the plugin host implements it from the `[udf.functions]` config.
public protocol UDFProvider: Sendable {
    /// The UDF's Info (cached by the provider), or `nil` when no UDF of that name is configured.
    func info(for name: String) throws -> UDFInfo?

    /// A runtime node for one `@name()` in one task; the node starts its child in ``Node/start(output:)``.
    func makeNode(name: String, taskID: String, nodeID: String, options: [UDFOption]) throws -> any Node
}
