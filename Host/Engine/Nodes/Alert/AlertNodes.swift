import TICKScript
import TockModel

/// The `alert` node and its handlers, registered with the builder.
enum AlertNodes {
    static let specs: [NodeSpec] = [alert]

    /// `|alert()`: levels from `info`/`warn`/`crit` lambdas, templates, state options, and every handler
    /// Kapacitor has (with their own properties after them), served by the task's ``AlertService``.
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
        ] + handlerProperties,
        wants: nil, provides: .same,
        make: { config in
            let service = config.alertService ?? NoAlertService()
            return AlertNode(options: try AlertOptions(config, service: service, condition: condition), service: service)
        })

    /// The handler methods and their properties (``HandlerCatalog``). A name with one signature everywhere keeps
    /// it; a name whose signature differs between handlers (`.timeout`, `.teams`) lets any scalars through, and
    /// ``AlertOptions`` checks them against the handler they follow.
    static var handlerProperties: [PropertySpec] {
        var signatures: [String: Set<Signature>] = [:]
        for kind in HandlerCatalog.all {
            signatures[kind.method, default: []].insert(kind.arguments)
            for property in kind.properties.values { signatures[property.name, default: []].insert(property.signature) }
        }
        let any = Signature([], variadic: .oneOf([.string, .int, .float, .bool, .duration]))
        return signatures.keys.sorted().map { name in
            let set = signatures[name]!
            return PropertySpec(name, set.count == 1 ? set.first! : any, repeatable: true)
        }
    }

    /// A lambda as a predicate on points. As in Kapacitor, one instance serves every group of the node,
    /// so stateful functions (`sigma`, `count`) see all groups' points.
    static func condition(_ expression: TICKScript.Expression) throws -> LevelSelector.Condition {
        let lambda = try Lambda(expression)
        return { point in try lambda.evaluateBool(point) }
    }
}
