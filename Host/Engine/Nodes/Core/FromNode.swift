import TockModel

/// Computes group IDs without building the `k=v` string for every point: first by the identity of the point's tag
/// storage (points of one series share it, from the parser's series cache), then by tag value for the common
/// one-tag grouping (a bounded table), otherwise reusing the last ID while consecutive points agree.
struct GroupKeyCache {
    /// A direct-mapped table by tag-storage identity, in parallel arrays (a lookup reads the plain identities and
    /// copies nothing but the group). An entry keeps its tags alive, so the identity stays theirs.
    private static let seenSlots = 4096
    private var seenIdentities: [Tags.StorageIdentity] = []
    private var seenTags: [Tags] = []
    private var seenNames: [String] = []
    private var seenDimensions: [Dimensions] = []
    private var seenGroups: [GroupID] = []
    private var byValue: [String: GroupID] = [:]
    private var byValueDimensions = Dimensions.none
    private var lastName = ""
    private var lastValues: [String?] = []
    private var lastDimensions = Dimensions.none
    private var lastGroup = GroupID.none

    mutating func group(name: String, tags: Tags, dimensions: Dimensions) -> GroupID {
        let identity = tags.storageIdentity
        var h = (identity.values &>> 4) ^ (identity.keys &>> 9)
        h = h &* 0x9E37_79B9_7F4A_7C15
        let slot = Int(truncatingIfNeeded: h &>> 52) & (Self.seenSlots - 1)
        if seenIdentities.isEmpty {
            // Identity 0/0 is no live storage's: empty slots never match.
            seenIdentities = Array(repeating: Tags.StorageIdentity(keys: 0, values: 0), count: Self.seenSlots)
            seenTags = Array(repeating: Tags(), count: Self.seenSlots)
            seenNames = Array(repeating: "", count: Self.seenSlots)
            seenDimensions = Array(repeating: .none, count: Self.seenSlots)
            seenGroups = Array(repeating: .none, count: Self.seenSlots)
        }
        if seenIdentities[slot] == identity && seenDimensions[slot] == dimensions
            && (!dimensions.byName || seenNames[slot] == name) {
            return seenGroups[slot]
        }
        let g = computeGroup(name: name, tags: tags, dimensions: dimensions)
        seenIdentities[slot] = identity
        seenTags[slot] = tags
        seenNames[slot] = name
        seenDimensions[slot] = dimensions
        seenGroups[slot] = g
        return g
    }

    private mutating func computeGroup(name: String, tags: Tags, dimensions: Dimensions) -> GroupID {
        if !dimensions.byName && dimensions.tagNames.count == 1 {
            if dimensions != byValueDimensions {
                byValue.removeAll()
                byValueDimensions = dimensions
            }
            let value = tags[dimensions.tagNames[0]] ?? ""
            if let g = byValue[value] { return g }
            let g = GroupID(name: name, tags: tags, dimensions: dimensions)
            if byValue.count >= 100_000 { byValue.removeAll() }
            byValue[value] = g
            return g
        }
        if dimensions == lastDimensions, !dimensions.byName || name == lastName, lastValues.count == dimensions.tagNames.count {
            var same = true
            for (i, k) in dimensions.tagNames.enumerated() where tags[k] != lastValues[i] {
                same = false
                break
            }
            if same { return lastGroup }
        }
        lastName = name
        lastDimensions = dimensions
        lastValues = dimensions.tagNames.map { tags[$0] }
        lastGroup = GroupID(name: name, tags: tags, dimensions: dimensions)
        return lastGroup
    }
}

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
        fixedDimensions = Dimensions(byName: byName, tagNames: names)
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
            q.group = keys.group(name: q.name, tags: q.tags, dimensions: dims)
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
            points.withUnsafeMutableBufferPointer { buffer in
                for i in buffer.indices {
                    let dims = groupAll ? Dimensions(byName: byName, tagNames: buffer[i].tags.sortedKeys) : fixedDimensions
                    buffer[i].group = keys.group(name: buffer[i].name, tags: buffer[i].tags, dimensions: dims)
                    buffer[i].dimensions = dims
                }
            }
        } else {
            for i in points.indices where points[i].group != .none || points[i].dimensions != .none {
                points[i].group = .none
                points[i].dimensions = .none
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
        fixedDimensions = Dimensions(byName: byName, tagNames: names.filter { !excluded.contains($0) })
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
            p.group = keys.group(name: p.name, tags: p.tags, dimensions: dims)
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
        // In place, through the buffer: reading a point's name and tags retains nothing.
        points.withUnsafeMutableBufferPointer { buffer in
            for i in buffer.indices {
                var dims = all ? dimensions(buffer[i].tags) : fixedDimensions
                if buffer[i].dimensions.byName { dims.byName = true }
                buffer[i].group = keys.group(name: buffer[i].name, tags: buffer[i].tags, dimensions: dims)
                buffer[i].dimensions = dims
            }
        }
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
