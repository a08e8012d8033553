import TockModel

/// `stream|from()`: selects points by database, retention policy and measurement, filters with `.where()`
/// (given more than once, the lambdas are ANDed, as Kapacitor's `pipeline/from.go` does), adjusts times
/// (`.truncate()`, `.round()`) and sets the grouping (`.groupBy()`, `.groupByMeasurement()`).
final class FromNode: Node {
    let database: String?
    let retentionPolicy: String?
    let measurement: String?
    /// The `.where()` lambdas, all of which must hold.
    let predicates: [Lambda]
    let truncate: Int64?
    let round: Int64?
    let groupTags: [String]
    let groupAll: Bool
    let byName: Bool
    let grouped: Bool
    let fixedDimensions: Dimensions
    private var keys = GroupKeyCache()

    init(_ c: NodeConfiguration) throws {
        database = c.string("database")
        retentionPolicy = c.string("retentionPolicy")
        measurement = c.string("measurement")
        predicates = try c.calls("where").compactMap { args in
            if case .lambda(let e)? = args.first { return try Lambda(e) }
            return nil
        }
        truncate = c.duration("truncate")
        round = c.duration("round")
        let (names, star) = NodeConfiguration.tagNames(c.property("groupBy") ?? [])
        groupTags = names
        groupAll = star
        byName = c.has("groupByMeasurement")
        grouped = c.has("groupBy") || byName
        fixedDimensions = SeriesInterner.shared.intern(Dimensions(byName: byName, tagNames: names))
        if let t = truncate, t <= 0 { throw NodeConfigurationError("truncate must be a positive duration") }
        if let r = round, r <= 0 { throw NodeConfigurationError("round must be a positive duration") }
    }

    /// Whether every `.where()` lambda holds for `p`, evaluated in order and stopping at the first false
    /// one, as `a AND b` does.
    private func matches(_ p: Point) throws -> Bool {
        for predicate in predicates {
            if try !predicate.evaluateBool(p) { return false }
        }
        return true
    }

    func receive(_ message: Message, port: Int, output: any NodeOutput) throws {
        guard case .point(let p) = message else { throw LambdaError("from() receives points only") }
        if let measurement, p.name != measurement { return }
        if let database, p.database != database { return }
        if let retentionPolicy, p.retentionPolicy != retentionPolicy { return }
        if try !matches(p) { return }
        if truncate == nil && round == nil && !grouped && p.group == .none && p.dimensions == .none {
            // Nothing to change: hand the message on as it is, without copying the point.
            output.emit(message)
            return
        }
        var q = p
        if let truncate { q.time = GoDuration.truncate(q.time, truncate) }
        if let round { q.time = GoDuration.round(q.time, round) }
        if grouped {
            let dims = groupAll ? Dimensions(byName: byName, tagNames: q.tags.sortedKeys) : fixedDimensions
            q.dimensions = dims
            q.group = keys.group(series: q.series, dimensions: dims)
        } else {
            q.group = .none
            q.dimensions = .none
        }
        output.emit(.point(q))
    }
}

extension FromNode: PointRunNode {
    func receive(points: inout [Point], port: Int, output: NodeRuntime) {
        if measurement != nil || database != nil || retentionPolicy != nil || !predicates.isEmpty {
            // Untouched when every point matches: the array may be shared with other tasks.
            points.removeAllSparingShared { p in
                if let measurement, p.name != measurement { return true }
                if let database, p.database != database { return true }
                if let retentionPolicy, p.retentionPolicy != retentionPolicy { return true }
                if !predicates.isEmpty {
                    do {
                        if try !matches(p) { return true }
                    } catch {
                        output.dropped(error)
                        return true
                    }
                }
                return false
            }
        }
        // The points are changed in place: the array is the node's, so no point is copied.
        if truncate != nil || round != nil {
            for i in points.indices {
                if let truncate { points[i].time = GoDuration.truncate(points[i].time, truncate) }
                if let round { points[i].time = GoDuration.round(points[i].time, round) }
            }
        }
        if grouped {
            // The cache is moved out of the node for the run (one exclusive access, not one per point) and back.
            var cache = GroupKeyCache()
            swap(&cache, &keys)
            points.withUnsafeMutableBufferPointer { buffer in
                for i in buffer.indices {
                    let dims = groupAll ? Dimensions(byName: byName, tagNames: buffer[i].tags.sortedKeys) : fixedDimensions
                    buffer[i].group = cache.group(series: buffer[i].series, dimensions: dims)
                    buffer[i].dimensions = dims
                }
            }
            swap(&cache, &keys)
        } else {
            let noGroup = GroupID.none, noDimensions = Dimensions.none
            for i in points.indices where points[i].group != noGroup || points[i].dimensions != noDimensions {
                points[i].group = noGroup
                points[i].dimensions = noDimensions
            }
        }
        output.emit(points: &points)
    }
}

/// `|where(lambda)`: keeps the points for which the lambda is true (in a batch, the matching points).
final class WhereNode: Node {
    private let lambda: Lambda
    private var perGroup: [GroupID: Lambda] = [:]

    init(_ c: NodeConfiguration) throws {
        guard let l = try c.lambdaArguments().first else { throw NodeConfigurationError("where needs a lambda") }
        lambda = l
    }

    private func lambda(for group: GroupID) -> Lambda {
        guard lambda.isStateful else { return lambda }
        if let l = perGroup[group] { return l }
        let l = lambda.fresh()
        perGroup[group] = l
        return l
    }

    func receive(_ message: Message, port: Int, output: any NodeOutput) throws {
        switch message {
        case .point(let p):
            if try lambda(for: p.group).evaluateBool(p) { output.emit(message) }
        case .batch(var b):
            let l = lambda(for: b.group)
            var firstError: (any Error)?
            b.points = b.points.filter { bp in
                do {
                    return try l.evaluateBool(time: bp.time, fields: bp.fields, tags: bp.tags)
                } catch {
                    if firstError == nil { firstError = error }
                    return false
                }
            }
            output.emit(.batch(b))
            if let firstError { throw firstError }
        }
    }
}

/// `|groupBy(tags…)` / `groupBy(*)`: sets the grouping of points and regroups batches.
///
/// Batches are regrouped as Kapacitor's `group_by.go` does: the points of every batch with the same time
/// (`tmax`) are collected into one batch per new group, and these are emitted, each sorted by time, when a
/// batch with another time begins. So each regrouped batch is held until the next batch time arrives; at
/// the end of the input the held batches are not emitted (Kapacitor emits them only when more data or a
/// barrier comes).
final class GroupByNode: Node {
    let tags: [String]
    let all: Bool
    let exclude: Set<String>
    let byName: Bool
    let fixedDimensions: Dimensions
    private var keys = GroupKeyCache()
    /// The batches being regrouped, for the batch time `heldTime`, in first-seen order of their groups.
    private var held: [Batch] = []
    private var heldIndex: [GroupID: Int] = [:]
    private var heldTime: Timestamp?

    init(_ c: NodeConfiguration) throws {
        let (names, star) = NodeConfiguration.tagNames(c.arguments)
        tags = names
        all = star
        let excluded = Set(c.calls("exclude").flatMap { NodeConfiguration.tagNames($0).names })
        exclude = excluded
        byName = c.has("byMeasurement")
        fixedDimensions = SeriesInterner.shared.intern(Dimensions(byName: byName, tagNames: names.filter { !excluded.contains($0) }))
    }

    private func dimensions(_ t: Tags) -> Dimensions {
        if all {
            return Dimensions(byName: byName, tagNames: exclude.isEmpty ? t.sortedKeys : t.sortedKeys.filter { !exclude.contains($0) })
        }
        return fixedDimensions
    }

    func receive(_ message: Message, port: Int, output: any NodeOutput) throws {
        switch message {
        case .point(var p):
            var dims = dimensions(p.tags)
            // Kapacitor keeps a grouping by measurement made upstream (`from().groupByMeasurement()`).
            dims.byName = dims.byName || p.dimensions.byName
            p.dimensions = dims
            p.group = keys.group(series: p.series, dimensions: dims)
            output.emit(.point(p))
        case .batch(let b):
            if heldTime != b.tmax {
                emitHeld(output)
                heldTime = b.tmax
            }
            for bp in b.points {
                var dims = dimensions(bp.tags)
                dims.byName = dims.byName || b.dimensions.byName
                let g = GroupID(name: b.name, tags: bp.tags, dimensions: dims)
                if let i = heldIndex[g] {
                    held[i].points.append(bp)
                } else {
                    heldIndex[g] = held.count
                    held.append(Batch(name: b.name, group: g, tags: bp.tags.filtered(to: dims.tagNames), dimensions: dims,
                                      tmax: b.tmax, points: [bp]))
                }
            }
        }
    }

    /// Emits the held batches, each with its points in time order.
    private func emitHeld(_ output: any NodeOutput) {
        for var b in held {
            // A stable sort: points of one time keep their arrival order.
            b.points = b.points.enumerated()
                .sorted { ($0.element.time, $0.offset) < ($1.element.time, $1.offset) }
                .map(\.element)
            output.emit(.batch(b))
        }
        held.removeAll()
        heldIndex.removeAll()
    }
}

extension GroupByNode: PointRunNode {
    func receive(points: inout [Point], port: Int, output: NodeRuntime) {
        // In place, through the buffer: reading a point's name and tags retains nothing. The cache is moved out of the
        // node for the run (one exclusive access, not one per point) and back.
        var cache = GroupKeyCache()
        swap(&cache, &keys)
        points.withUnsafeMutableBufferPointer { buffer in
            for i in buffer.indices {
                var dims = all ? dimensions(buffer[i].tags) : fixedDimensions
                if buffer[i].dimensions.byName { dims.byName = true }
                buffer[i].group = cache.group(series: buffer[i].series, dimensions: dims)
                buffer[i].dimensions = dims
            }
        }
        swap(&cache, &keys)
        output.emit(points: &points)
    }
}

// Kapacitor keeps this node's state per group in a grouped consumer: a deleted group starts over.
extension WhereNode {
    func deleteGroup(_ group: GroupID, port: Int, output: any NodeOutput) throws {
        perGroup[group] = nil
        output.emit(deleteGroup: group)
    }
}
