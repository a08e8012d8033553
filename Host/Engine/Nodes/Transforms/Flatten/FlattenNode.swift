import TockModel

/// `|flatten()`: turns the points of a group that share a (rounded) time into one point whose fields
/// are named by the `.on` tag values: `on('host')` makes `a.value` and `b.value` from `value` of
/// hosts `a` and `b`. `.dropOriginalFieldName()` leaves the field name out (`a`, `b`).
///
/// As in Kapacitor, a stream group's points are emitted when a point with a later time arrives; a
/// batch is flattened on its own into one batch. Emitted data carries only the group's tags.
final class FlattenNode: Node {
    let on: [String]
    let delimiter: String
    let tolerance: Int64
    let dropOriginalFieldName: Bool

    private struct Buffer {
        var time: Timestamp
        var name: String
        var points: [(tags: Tags, fields: Fields)]
    }
    private var buffers: [GroupID: Buffer] = [:]

    init(on: [String], delimiter: String, tolerance: Int64, dropOriginalFieldName: Bool) {
        self.on = on
        self.delimiter = delimiter
        self.tolerance = tolerance
        self.dropOriginalFieldName = dropOriginalFieldName
    }

    func receive(_ message: Message, port: Int, output: any NodeOutput) throws {
        switch message {
        case .point(let p):
            let t = GoTime.round(p.time, tolerance)
            if var buf = buffers[p.group], buf.time == t {
                buf.points.append((p.tags, p.fields))
                buffers[p.group] = buf
                return
            }
            if let buf = buffers[p.group], !buf.points.isEmpty {
                let fields = flatten(buf.points, output: output)
                output.emit(.point(Point(
                    name: buf.name, tags: p.groupTags, fields: fields, time: buf.time, group: p.group,
                    dimensions: p.dimensions)))
            }
            buffers[p.group] = Buffer(time: t, name: p.name, points: [(p.tags, p.fields)])
        case .batch(var b):
            var out: [BatchPoint] = []
            var current: (time: Timestamp, points: [(tags: Tags, fields: Fields)])?
            for bp in b.points {
                let t = GoTime.round(bp.time, tolerance)
                if let c = current, c.time == t {
                    current!.points.append((bp.tags, bp.fields))
                    continue
                }
                if let c = current {
                    out.append(BatchPoint(time: c.time, fields: flatten(c.points, output: output), tags: b.tags))
                }
                current = (t, [(bp.tags, bp.fields)])
            }
            if let c = current {
                out.append(BatchPoint(time: c.time, fields: flatten(c.points, output: output), tags: b.tags))
            }
            b.points = out
            output.emit(.batch(b))
        }
    }

    private func flatten(_ points: [(tags: Tags, fields: Fields)], output: any NodeOutput) -> Fields {
        var fields = Fields()
        nextPoint: for p in points {
            var prefix = ""
            for (i, tag) in on.enumerated() {
                guard let v = p.tags[tag] else {
                    output.logger.error("point missing tag \"\(tag)\" for flatten operation")
                    continue nextPoint
                }
                if i > 0 { prefix += delimiter }
                prefix += v
            }
            for (name, value) in p.fields {
                if dropOriginalFieldName {
                    fields[prefix] = value
                } else {
                    fields[prefix.isEmpty ? name : prefix + delimiter + name] = value
                }
            }
        }
        return fields
    }
}

enum FlattenSpecs {
    static let specs: [NodeSpec] = [
        NodeSpec(
            name: "flatten",
            properties: [
                PropertySpec("on", Signature([.string], variadic: .string)),
                PropertySpec("delimiter", Signature([.string])),
                PropertySpec("tolerance", Signature([.duration])),
                PropertySpec("dropOriginalFieldName", Signature(optional: [.bool])),
            ],
            wants: nil, provides: .same
        ) { config in
            FlattenNode(
                on: config.strings("on"), delimiter: config.string("delimiter") ?? ".",
                tolerance: config.duration("tolerance") ?? 0, dropOriginalFieldName: config.flag("dropOriginalFieldName"))
        }
    ]
}

// Kapacitor keeps this node's state per group in a grouped consumer: a deleted group starts over.
extension FlattenNode {
    func deleteGroup(_ group: GroupID, port: Int, output: any NodeOutput) throws {
        buffers[group] = nil
        output.emit(deleteGroup: group)
    }
}
