/// Every node a script can chain, by method name.
public enum NodeRegistry {
    /// Core nodes, transforms and the alert node: the registry ``TaskBuilder`` uses by default.
    public static let all: [String: NodeSpec] = {
        var table: [String: NodeSpec] = [:]
        for spec in CoreNodes.specs + TransformNodes.specs + AlertNodes.specs + FlowNodes.specs {
            table[spec.name] = spec
        }
        return table
    }()
}
