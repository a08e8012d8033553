import TockModel

/// `|derivative(field)`: the rate of change of a field between consecutive points of a group, per
/// `.unit` (1s by default), written to the field `.as`, which defaults to the field itself (Kapacitor's
/// `pipeline/derivative.go`: `As: field`), so `derivative('value')` replaces `value` with its rate.
///
/// As in Kapacitor: the first point of a group (or of each batch) only primes the state; points
/// with no elapsed time are skipped; with `.nonNegative()` a decrease emits nothing but still becomes
/// the new previous point. The emitted point keeps all the current point's tags and fields.
final class DerivativeNode: Node {
    let field: String
    let unit: Int64
    let nonNegative: Bool
    let asName: String
    private var previous: [GroupID: (time: Timestamp, value: Double)] = [:]

    init(field: String, unit: Int64, nonNegative: Bool, as asName: String) {
        self.field = field
        self.unit = unit
        self.nonNegative = nonNegative
        self.asName = asName
    }

    func receive(_ message: Message, port: Int, output: any NodeOutput) throws {
        switch message {
        case .point(var p):
            var prev = previous[p.group]
            defer { previous[p.group] = prev }
            if let value = try derivative(fields: p.fields, time: p.time, previous: &prev) {
                p.fields[asName] = .double(value)
                output.emit(.point(p))
            }
        case .batch(var b):
            var prev: (time: Timestamp, value: Double)?
            var points: [BatchPoint] = []
            points.reserveCapacity(b.points.count)
            for var bp in b.points {
                do {
                    if let value = try derivative(fields: bp.fields, time: bp.time, previous: &prev) {
                        bp.fields[asName] = .double(value)
                        points.append(bp)
                    }
                } catch {
                    output.logger.error("\(error)")
                }
            }
            b.points = points
            output.emit(.batch(b))
        }
    }

    /// The derivative against `previous`, updating it; `nil` when nothing is emitted.
    private func derivative(
        fields: Fields, time: Timestamp, previous: inout (time: Timestamp, value: Double)?
    ) throws -> Double? {
        guard let current = fields[field]?.numeric else {
            let got = fields[field].map(\.goTypeName) ?? "<nil>"
            throw TransformError("cannot apply derivative to type \(got)")
        }
        guard let prev = previous else {
            previous = (time, current)
            return nil
        }
        let elapsed = Double(time) - Double(prev.time)  // in Double: two client times may be 2^64 ns apart
        if elapsed == 0 { return nil }
        previous = (time, current)
        let diff = current - prev.value
        if nonNegative && diff < 0 { return nil }
        return diff / (elapsed / Double(unit))
    }
}

enum DerivativeSpecs {
    static let specs: [NodeSpec] = [
        NodeSpec(
            name: "derivative", arguments: Signature([.string]),
            properties: [
                PropertySpec("unit", Signature([.duration])), PropertySpec("nonNegative"),
                PropertySpec("as", Signature([.string])),
            ],
            wants: nil, provides: .same
        ) { config in
            guard let field = config.stringArgument(0) else { throw NodeConfigurationError("derivative needs a field name") }
            let unit = config.duration("unit") ?? GoDuration.second
            guard unit > 0 else { throw NodeConfigurationError("derivative unit must be positive") }
            return DerivativeNode(
                field: field, unit: unit, nonNegative: config.has("nonNegative"), as: config.string("as") ?? field)
        }
    ]
}

// Kapacitor's derivative keeps its previous point per group in a grouped consumer: a deleted group starts over.
extension DerivativeNode {
    func deleteGroup(_ group: GroupID, port: Int, output: any NodeOutput) throws {
        previous[group] = nil
        output.emit(deleteGroup: group)
    }
}
