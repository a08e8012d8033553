/// Every node a script can chain, by method name.
public enum NodeRegistry {
    /// Core nodes, transforms and the alert node: the registry ``TaskBuilder`` uses by default.
    public static let all: [String: NodeSpec] = {
        var table: [String: NodeSpec] = [:]
        let deadman = BuildState.deadmanSpec(alertProperties: Array(AlertNodes.alert.properties.values))
        for spec in CoreNodes.specs + TransformNodes.specs + AlertNodes.specs + FlowNodes.specs + HTTPPostSpecs.specs + InfluxDBOutSpecs.specs + BatchNodes.specs + [deadman] {
            table[spec.name] = spec
        }
        return table
    }()
}
