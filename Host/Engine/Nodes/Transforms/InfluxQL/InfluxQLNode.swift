import TockModel

/// Runs one InfluxQL function (`mean`, `top`, `difference`, …) per group, as Kapacitor's `InfluxQLNode`.
///
/// - Batch in: one reduction per batch, stamped with the batch's `tmax` unless `.usePointTimes()`;
///   stream transformations emit a batch with one point per input point that produced a value.
/// - Stream in: stream transformations emit a point per point; other functions reduce all points
///   of a group that share a timestamp and emit when a later timestamp arrives (so they are meant
///   to follow a `window`).
final class InfluxQLNode: Node {
    let function: InfluxQLFunction
    let field: String
    let asName: String
    let pointTimes: Bool
    let outputType: EdgeType
    /// Whether the function's reducers read values only (`mean`, `sum`, `count`): batches then take a fast path.
    let valuesOnly: Bool

    /// The open reduction of each group on a stream edge.
    private var contexts: [GroupID: Context] = [:]

    struct Context {
        var name: String
        var group: GroupID
        var groupTags: Tags
        var dimensions: Dimensions
        /// The timestamp being reduced (stream) or the batch's `tmax`.
        var time: Timestamp
        var reducer: (any Reducer)?
        var kind: ValueKind?
    }

    init(function: InfluxQLFunction, field: String, as asName: String?, pointTimes: Bool, outputType: EdgeType) {
        self.function = function
        self.field = field
        self.asName = asName ?? function.name
        self.pointTimes = pointTimes || function.alwaysPointTimes || function.shape == .streamTransformation
        self.outputType = outputType
        self.valuesOnly = function.shape == .reduce && (function.make(.float)?.valuesOnly ?? false)
    }

    func receive(_ message: Message, port: Int, output: any NodeOutput) throws {
        switch message {
        case .point(let p):
            if function.shape == .streamTransformation {
                try transform(p, output: output)
            } else {
                try reduce(p, output: output)
            }
        case .batch(let b):
            if function.shape == .streamTransformation {
                transform(b, output: output)
            } else {
                reduce(b, output: output)
            }
        }
    }

    // MARK: Aggregating

    /// Adds a point to the context, creating the reducer from the first value's type.
    private func aggregate(_ input: ReducerInput?, fields: Fields, into ctx: inout Context) throws {
        guard let value = fields[field] else {
            throw TransformError("field \(field) missing from point cannot aggregate")
        }
        let kind = ValueKind(value)
        if ctx.reducer == nil {
            guard let r = function.make(kind) else {
                throw TransformError("invalid influxql func \(function.name) with field \(field): cannot apply \(function.name) to \(kind.goName) field")
            }
            ctx.reducer = r
            ctx.kind = kind
        } else if ctx.kind != kind {
            throw TransformError("field \(field) has wrong type: got \(kind.goName) exp \(ctx.kind!.goName)")
        }
        if let input { ctx.reducer!.aggregate(input) }
    }

    private func input(time: Timestamp, tags: Tags, fields: Fields) -> ReducerInput? {
        guard let v = fields[field] else { return nil }
        return ReducerInput(time: time, value: v, tags: tags, fields: fields)
    }

    // MARK: Emitting

    /// The single value of a context as a point, or `nil` when the function produced none.
    private func emitPoint(_ ctx: Context) -> Point? {
        guard let r = ctx.reducer else { return nil }
        let values = r.emit()
        guard values.count == 1, let v = values.first else { return nil }
        let time = pointTimes ? (v.time ?? ctx.time) : ctx.time
        var tags = ctx.groupTags
        var fields: Fields = [asName: v.value]
        if function.isSimpleSelector, let st = v.selectedTags, var sf = v.selectedFields {
            tags = st
            if asName != field {
                sf[asName] = sf[field]
                sf[field] = nil
            }
            fields = sf
        }
        return Point(name: ctx.name, tags: tags, fields: fields, time: time, group: ctx.group, dimensions: ctx.dimensions)
    }

    /// All values of a context as a batch whose `tmax` is the latest value time (at least the context's).
    private func emitBatch(_ ctx: Context) -> Batch {
        let values = ctx.reducer?.emit() ?? []
        var tmax = ctx.time
        let points = values.map { v -> BatchPoint in
            let t = pointTimes ? (v.time ?? ctx.time) : ctx.time
            tmax = Swift.max(tmax, t)
            var tags = ctx.groupTags
            for (k, value) in v.tags { tags[k] = value }
            return BatchPoint(time: t, fields: [asName: v.value], tags: tags)
        }
        return Batch(name: ctx.name, group: ctx.group, tags: ctx.groupTags, dimensions: ctx.dimensions, tmax: tmax, points: points)
    }

    private func emit(_ ctx: Context, output: any NodeOutput) {
        switch outputType {
        case .stream:
            if let p = emitPoint(ctx) { output.emit(.point(p)) }
        case .batch:
            output.emit(.batch(emitBatch(ctx)))
        }
    }

    // MARK: Reductions

    private func reduce(_ p: Point, output: any NodeOutput) throws {
        if var ctx = contexts[p.group] {
            if p.time != ctx.time {
                // A new timestamp closes the previous reduction.
                if ctx.reducer != nil { emit(ctx, output: output) }
                ctx.name = p.name
                ctx.time = p.time
                ctx.reducer = nil
                ctx.kind = nil
            }
            defer { contexts[p.group] = ctx }
            try aggregate(input(time: p.time, tags: p.tags, fields: p.fields), fields: p.fields, into: &ctx)
        } else {
            var ctx = Context(name: p.name, group: p.group, groupTags: p.groupTags, dimensions: p.dimensions, time: p.time)
            defer { contexts[p.group] = ctx }
            try aggregate(input(time: p.time, tags: p.tags, fields: p.fields), fields: p.fields, into: &ctx)
        }
    }

    private func reduce(_ b: Batch, output: any NodeOutput) {
        var ctx = Context(name: b.name, group: b.group, groupTags: b.tags, dimensions: b.dimensions, time: b.tmax)
        var size = 0
        var first = 0
        if valuesOnly {
            // The fast path of mean, sum and count: after the first point (which makes the reducer and fixes the
            // type), the values alone, read in place; a point of another type goes the general way (its error).
            b.points.withUnsafeBufferPointer { points in
                guard let v0 = points.first?.fields[field] else { return }
                do {
                    try aggregate(ReducerInput(time: points[0].time, value: v0, tags: Tags(), fields: Fields()),
                                  fields: points[0].fields, into: &ctx)
                    size += 1
                } catch {
                    output.logger.error("failed to aggregate point in batch: \(error)")
                }
                first = 1
                guard let r = ctx.reducer, let kind = ctx.kind, r.valuesOnly else { return }
                while first < points.count, let v = points[first].fields[field], ValueKind(v) == kind {
                    r.aggregate(ReducerInput(time: points[first].time, value: v, tags: Tags(), fields: Fields()))
                    size += 1
                    first += 1
                }
            }
        }
        for bp in b.points[first...] {
            do {
                let tags = merged(b.tags, bp.tags)
                try aggregate(input(time: bp.time, tags: tags, fields: bp.fields), fields: bp.fields, into: &ctx)
                size += 1
            } catch {
                output.logger.error("failed to aggregate point in batch: \(error)")
            }
        }
        if size == 0 {
            guard function.isEmptyOK else { return }
            // No data: assume a float field, as Kapacitor does.
            if ctx.reducer == nil { ctx.reducer = function.make(.float) }
        }
        emit(ctx, output: output)
    }

    // MARK: Stream transformations

    private func transform(_ p: Point, output: any NodeOutput) throws {
        var ctx = contexts[p.group]
            ?? Context(name: p.name, group: p.group, groupTags: p.groupTags, dimensions: p.dimensions, time: p.time)
        defer { contexts[p.group] = ctx }
        ctx.time = p.time
        try aggregate(input(time: p.time, tags: p.tags, fields: p.fields), fields: p.fields, into: &ctx)
        if let out = emitPoint(ctx) { output.emit(.point(out)) }
    }

    private func transform(_ b: Batch, output: any NodeOutput) {
        var ctx = Context(name: b.name, group: b.group, groupTags: b.tags, dimensions: b.dimensions, time: b.tmax)
        var points: [BatchPoint] = []
        for bp in b.points {
            do {
                try aggregate(input(time: bp.time, tags: merged(b.tags, bp.tags), fields: bp.fields), fields: bp.fields, into: &ctx)
            } catch {
                output.logger.error("failed to aggregate batch point: \(error)")
                continue
            }
            if let p = emitPoint(ctx) { points.append(BatchPoint(time: p.time, fields: p.fields, tags: p.tags)) }
        }
        output.emit(.batch(Batch(name: b.name, group: b.group, tags: b.tags, dimensions: b.dimensions, tmax: b.tmax, points: points)))
    }

    private func merged(_ groupTags: Tags, _ pointTags: Tags) -> Tags {
        if groupTags.isEmpty { return pointTags }
        var t = pointTags
        for (k, v) in groupTags where t[k] == nil { t[k] = v }
        return t
    }
}

// Kapacitor keeps this node's state per group in a grouped consumer: a deleted group starts over.
extension InfluxQLNode {
    func deleteGroup(_ group: GroupID, port: Int, output: any NodeOutput) throws {
        contexts[group] = nil
        output.emit(deleteGroup: group)
    }
}
