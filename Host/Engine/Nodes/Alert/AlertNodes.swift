import TICKScript
import TockModel

/// The `alert` node and its handlers, registered with the builder.
enum AlertNodes {
    static let specs: [NodeSpec] = [alert]

    /// `|alert()`: levels from `info`/`warn`/`crit` lambdas, templates, state options, and the
    /// `log`, `post`, `tcp` and `exec` handlers (with their own properties after them).
    static let alert = NodeSpec(
        name: "alert",
        properties: [
            PropertySpec("id", Signature([.string])),
            PropertySpec("message", Signature([.string])),
            PropertySpec("details", Signature([.string])),
            PropertySpec("info", Signature([.lambda])),
            PropertySpec("warn", Signature([.lambda])),
            PropertySpec("crit", Signature([.lambda])),
            PropertySpec("infoReset", Signature([.lambda])),
            PropertySpec("warnReset", Signature([.lambda])),
            PropertySpec("critReset", Signature([.lambda])),
            PropertySpec("history", Signature([.int])),
            PropertySpec("flapping", Signature([.float, .float])),
            PropertySpec("stateChangesOnly", Signature(optional: [.duration])),
            PropertySpec("noRecoveries"),
            PropertySpec("all"),
            PropertySpec("levelTag", Signature([.string])),
            PropertySpec("levelField", Signature([.string])),
            PropertySpec("messageField", Signature([.string])),
            PropertySpec("durationField", Signature([.string])),
            PropertySpec("idTag", Signature([.string])),
            PropertySpec("idField", Signature([.string])),
            PropertySpec("category", Signature([.string])),
            PropertySpec("topic", Signature([.string])),
            PropertySpec("inhibit", Signature([.string], variadic: .string), repeatable: true),
            PropertySpec("log", Signature([.string]), repeatable: true),
            PropertySpec("mode", Signature([.int]), repeatable: true),
            PropertySpec("post", Signature(optional: [.string]), repeatable: true),
            PropertySpec("header", Signature([.string, .string]), repeatable: true),
            PropertySpec("timeout", Signature([.duration]), repeatable: true),
            PropertySpec("endpoint", Signature([.string]), repeatable: true),
            PropertySpec("captureResponse", repeatable: true),
            PropertySpec("skipSSLVerification", repeatable: true),
            PropertySpec("tcp", Signature([.string]), repeatable: true),
            PropertySpec("exec", Signature([.string], variadic: .string), repeatable: true),
        ],
        wants: nil, provides: .same,
        make: { config in
            AlertNode(options: try AlertOptions(config, condition: condition))
        })

    /// A lambda as a predicate on points. As in Kapacitor, one instance serves every group of the node,
    /// so stateful functions (`sigma`, `count`) see all groups' points.
    static func condition(_ expression: TICKScript.Expression) throws -> LevelSelector.Condition {
        let lambda = try Lambda(expression)
        return { point in try lambda.evaluateBool(point) }
    }
}
