import TICKScript
import TockModel

/// Nodes that route data rather than compute on it: `barrier`, `noOp`, `trickle`, `sideload`, `kapacitorLoopback`.
enum FlowNodes {
    static let specs: [NodeSpec] = [
        NodeSpec(
            name: "barrier",
            properties: [
                PropertySpec("idle", Signature([.duration])), PropertySpec("period", Signature([.duration])),
                PropertySpec("delete", Signature([.bool])),
            ],
            wants: nil, provides: .same, make: { try BarrierNode($0) }),
        NodeSpec(name: "noOp", wants: nil, provides: .same, make: { _ in NoOpNode() }),
        NodeSpec(name: "trickle", wants: .batch, provides: .stream, make: { _ in TrickleNode() }),
        NodeSpec(
            name: "sideload",
            properties: [
                PropertySpec("source", Signature([.string])),
                PropertySpec("order", Signature(variadic: .string)),
                PropertySpec("field", Signature([.string, .oneOf([.float, .int, .string, .bool])]), repeatable: true),
                PropertySpec("tag", Signature([.string, .string]), repeatable: true),
            ],
            wants: nil, provides: .same, make: { try SideloadNode($0) }),
        NodeSpec(
            name: "kapacitorLoopback",
            properties: [
                PropertySpec("database", Signature([.string])),
                PropertySpec("retentionPolicy", Signature([.string])),
                PropertySpec("measurement", Signature([.string])),
                PropertySpec("tag", Signature([.string, .string]), repeatable: true),
            ],
            wants: nil, provides: .none, make: { try LoopbackNode($0, ingress: $0.ingress) }),
    ]
}

/// Kapacitor nodes Tock refuses by name when a script is defined, with the reason.
enum UnsupportedNodes {
    static let reasons: [String: String] = [
        "ec2Autoscale": "ec2Autoscale() is not supported by Tock: it has no AWS EC2 autoscaling service",
        "k8sAutoscale": "k8sAutoscale() is not supported by Tock: it has no Kubernetes autoscaling service",
        "swarmAutoscale": "swarmAutoscale() is not supported by Tock: it has no Docker Swarm autoscaling service",
        "queryFlux": "queryFlux() is not supported by Tock: it has no Flux (InfluxDB 2) query client",
    ]

    static func reason(for name: String) -> String? { reasons[name] }
}

/// The builder's ingress with the script's own `dbrp` statements added to the task's, for the loop check.
struct ScriptIngress: PointIngress {
    let base: any PointIngress
    let scriptDBRPs: [DBRP]

    var taskDBRPs: [DBRP] { base.taskDBRPs + scriptDBRPs }
    var readsEveryDatabase: Bool { base.readsEveryDatabase && scriptDBRPs.isEmpty }
    func write(_ points: [Point]) throws { try base.write(points) }
}
