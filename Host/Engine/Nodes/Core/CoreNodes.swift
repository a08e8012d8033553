import TockModel

/// The core nodes: sources' `from`, filters, `eval`, windows, grouping, defaults, outputs and the state nodes.
enum CoreNodes {
    static let specs: [NodeSpec] = [
        NodeSpec(
            name: "from",
            properties: [
                PropertySpec("database", Signature([.string])),
                PropertySpec("retentionPolicy", Signature([.string])),
                PropertySpec("measurement", Signature([.string])),
                PropertySpec("where", Signature([.lambda]), repeatable: true),
                PropertySpec("groupBy", Signature(variadic: .oneOf([.string, .star, .list(.oneOf([.string, .star]))]))),
                PropertySpec("groupByMeasurement"),
                PropertySpec("truncate", Signature([.duration])),
                PropertySpec("round", Signature([.duration])),
            ],
            wants: .stream, provides: .stream, make: { try FromNode($0) }),
        NodeSpec(name: "where", arguments: Signature([.lambda]), wants: nil, provides: .same, make: { try WhereNode($0) }),
        NodeSpec(
            name: "eval", arguments: Signature([.lambda], variadic: .lambda),
            properties: [
                PropertySpec("as", Signature([.string], variadic: .string)),
                PropertySpec("tags", Signature(variadic: .string)),
                PropertySpec("keep", Signature(variadic: .string)),
            ],
            wants: nil, provides: .same, make: { try EvalNode($0) }),
        NodeSpec(
            name: "window",
            properties: [
                PropertySpec("period", Signature([.duration])),
                PropertySpec("every", Signature([.duration])),
                PropertySpec("align"),
                PropertySpec("fillPeriod"),
                PropertySpec("periodCount", Signature([.int])),
                PropertySpec("everyCount", Signature([.int])),
            ],
            wants: .stream, provides: .batch, make: { try WindowNode($0) }),
        NodeSpec(
            name: "groupBy", arguments: Signature(variadic: .oneOf([.string, .star, .list(.oneOf([.string, .star]))])),
            properties: [
                PropertySpec("exclude", Signature([.string], variadic: .string)),
                PropertySpec("byMeasurement"),
            ],
            wants: nil, provides: .same, make: { try GroupByNode($0) }),
        NodeSpec(
            name: "default",
            properties: [
                PropertySpec("field", Signature([.string, .oneOf([.float, .int, .string, .bool])]), repeatable: true),
                PropertySpec("tag", Signature([.string, .string]), repeatable: true),
            ],
            wants: nil, provides: .same, make: { DefaultNode($0) }),
        NodeSpec(
            name: "delete",
            properties: [
                PropertySpec("field", Signature([.string]), repeatable: true),
                PropertySpec("tag", Signature([.string]), repeatable: true),
            ],
            wants: nil, provides: .same, make: { DeleteNode($0) }),
        NodeSpec(
            name: "log",
            properties: [PropertySpec("level", Signature([.string])), PropertySpec("prefix", Signature([.string]))],
            wants: nil, provides: .same, make: { try LogNode($0) }),
        NodeSpec(name: "httpOut", arguments: Signature([.string]), wants: nil, provides: .same, make: { HTTPOutNode($0) }),
        NodeSpec(
            name: "stateDuration", arguments: Signature([.lambda]),
            properties: [PropertySpec("unit", Signature([.duration])), PropertySpec("as", Signature([.string]))],
            wants: nil, provides: .same, make: { try StateNode($0, counting: false) }),
        NodeSpec(
            name: "stateCount", arguments: Signature([.lambda]),
            properties: [PropertySpec("as", Signature([.string]))],
            wants: nil, provides: .same, make: { try StateNode($0, counting: true) }),
        NodeSpec(
            name: "combine", arguments: Signature([.lambda], variadic: .lambda),
            properties: [
                PropertySpec("as", Signature([.string], variadic: .string)),
                PropertySpec("delimiter", Signature([.string])),
                PropertySpec("tolerance", Signature([.duration])),
                PropertySpec("max", Signature([.int])),
            ],
            wants: .stream, provides: .stream, make: { try CombineNode($0) }),
    ]
}

extension NodeConfiguration {
    /// The lambda arguments of the chaining method, compiled.
    func lambdaArguments() throws -> [Lambda] {
        try arguments.compactMap { v in
            if case .lambda(let e) = v { return try Lambda(e) }
            return nil
        }
    }

    /// Tag names given as strings or lists of them, and whether `*` was among them (alone or in a list).
    static func tagNames(_ values: [Value]) -> (names: [String], star: Bool) {
        var names: [String] = []
        var star = false
        for v in values {
            switch v {
            case .string(let s): names.append(s)
            case .star: star = true
            case .list(let items):
                // A template's `var groups = [*]` or `['host', *]`.
                let inner = tagNames(items)
                names += inner.names
                star = star || inner.star
            default: break
            }
        }
        return (names, star)
    }
}

/// Keeps one instance of per-group state, created on first use.
struct PerGroup<State> {
    private var states: [GroupID: State] = [:]
    let make: () -> State

    init(_ make: @escaping () -> State) { self.make = make }

    subscript(group: GroupID) -> State {
        mutating get {
            if let s = states[group] { return s }
            let s = make()
            states[group] = s
            return s
        }
        set { states[group] = newValue }
    }

    var count: Int { states.count }
}
