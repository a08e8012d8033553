import TockModel

/// `|shift(d)`: moves every point (and a batch's `tmax` and points) by `d`, which may be negative. Times
/// saturate at the ends of Int64's range rather than overflow.
final class ShiftNode: Node {
    let shift: Int64
    init(shift: Int64) { self.shift = shift }

    func receive(_ message: Message, port: Int, output: any NodeOutput) throws {
        switch message {
        case .point(var p):
            p.time = p.time.saturatingAdd(shift)
            output.emit(.point(p))
        case .batch(var b):
            b.tmax = b.tmax.saturatingAdd(shift)
            for i in b.points.indices { b.points[i].time = b.points[i].time.saturatingAdd(shift) }
            output.emit(.batch(b))
        }
    }
}

/// `|sample(n)` keeps the first and then every n-th point or batch of each group; `|sample(d)` keeps
/// those whose time (a batch's `tmax`) is a multiple of `d`.
final class SampleNode: Node {
    enum Rate { case count(Int64), duration(Int64) }
    let rate: Rate
    private var counts: [GroupID: Int64] = [:]

    init(rate: Rate) { self.rate = rate }

    func receive(_ message: Message, port: Int, output: any NodeOutput) throws {
        if keep(message.group, message.time) { output.emit(message) }
    }

    private func keep(_ group: GroupID, _ time: Timestamp) -> Bool {
        switch rate {
        case .duration(let d):
            return GoTime.truncate(time, d) == time
        case .count(let n):
            let count = counts[group, default: 0]
            counts[group] = count == .max ? 0 : count + 1
            return count % n == 0
        }
    }
}

/// `|changeDetect(fields...)`: passes a point only when one of the fields differs from the last
/// passed point of its group (the first point always passes). On batches, per batch.
///
/// As Kapacitor's `change_detect.go`: a field the point lacks is logged and skipped, not a change, so a
/// point lacking every watched field is dropped and does not become the previous point. Values of
/// different types differ (`1` and `1.0`).
final class ChangeDetectNode: Node {
    let fields: [String]
    private var previous: [GroupID: Fields] = [:]

    init(fields: [String]) { self.fields = fields }

    private func changed(_ prev: Fields?, _ curr: Fields, output: any NodeOutput) -> Bool {
        for field in fields {
            guard let value = curr[field] else {
                output.logger.error("invalid field in change detect: expected field \(field) not found")
                continue
            }
            if prev?[field] != value { return true }
        }
        return false
    }

    func receive(_ message: Message, port: Int, output: any NodeOutput) throws {
        switch message {
        case .point(let p):
            if changed(previous[p.group], p.fields, output: output) {
                previous[p.group] = p.fields
                output.emit(.point(p))
            }
        case .batch(var b):
            var prev: Fields?
            b.points = b.points.filter { bp in
                guard changed(prev, bp.fields, output: output) else { return false }
                prev = bp.fields
                return true
            }
            output.emit(.batch(b))
        }
    }
}

enum FilterSpecs {
    static let specs: [NodeSpec] = [
        NodeSpec(name: "shift", arguments: Signature([.duration]), wants: nil, provides: .same) { config in
            guard let d = config.durationArgument(0) else { throw NodeConfigurationError("shift needs a duration") }
            return ShiftNode(shift: d)
        },
        NodeSpec(name: "sample", arguments: Signature([.oneOf([.int, .duration])]), wants: nil, provides: .same) { config in
            switch config.arguments.first {
            case .int(let n)? where n > 0: return SampleNode(rate: .count(n))
            case .duration(let d)? where d > 0: return SampleNode(rate: .duration(d))
            default: throw NodeConfigurationError("invalid sample rate: must be positive integer or duration")
            }
        },
        NodeSpec(name: "changeDetect", arguments: Signature([.string], variadic: .string), wants: nil, provides: .same) { config in
            let fields = config.stringArguments(from: 0)
            guard !fields.isEmpty else { throw NodeConfigurationError("changeDetect needs at least one field") }
            return ChangeDetectNode(fields: fields)
        },
    ]
}

// Kapacitor keeps this node's state per group in a grouped consumer: a deleted group starts over.
extension SampleNode {
    func deleteGroup(_ group: GroupID, port: Int, output: any NodeOutput) throws {
        counts[group] = nil
        output.emit(deleteGroup: group)
    }
}

// Kapacitor keeps this node's state per group in a grouped consumer: a deleted group starts over.
extension ChangeDetectNode {
    func deleteGroup(_ group: GroupID, port: Int, output: any NodeOutput) throws {
        previous[group] = nil
        output.emit(deleteGroup: group)
    }
}
