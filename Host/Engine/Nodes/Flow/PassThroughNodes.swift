import TockModel

/// `|noOp()`: hands on every message, barrier and group deletion unchanged (Kapacitor's `noop.go`, which it appends
/// itself where a node needs a child for its statistics).
final class NoOpNode: Node {
    func receive(_ message: Message, port: Int, output: any NodeOutput) throws {
        output.emit(message)
    }
}

/// `|trickle()`: turns batches into a stream, as Kapacitor's `trickle.go`: each batch point becomes a point with
/// the batch's name and dimensions, the point's own fields, tags and time, and no database or retention policy.
/// Barriers and group deletions pass on.
final class TrickleNode: Node {
    func receive(_ message: Message, port: Int, output: any NodeOutput) throws {
        switch message {
        case .point:
            output.emit(message)
        case .batch(let b):
            for bp in b.points {
                let group = GroupID(name: b.name, tags: bp.tags, dimensions: b.dimensions)
                output.emit(.point(Point(name: b.name, tags: bp.tags, fields: bp.fields, time: bp.time,
                                         group: group, dimensions: b.dimensions)))
            }
        }
    }
}
