import TockModel

/// Computes group IDs without building the `k=v` string for every point: by tag value for the common
/// one-tag grouping (a bounded table), otherwise reusing the last ID while consecutive points agree.
struct GroupKeyCache {
    private var byValue: [String: GroupID] = [:]
    private var byValueDimensions = Dimensions.none
    private var lastName = ""
    private var lastValues: [String?] = []
    private var lastDimensions = Dimensions.none
    private var lastGroup = GroupID.none

    mutating func group(name: String, tags: Tags, dimensions: Dimensions) -> GroupID {
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

/// `stream|from()`: selects points by database, retention policy and measurement, filters with `.where()`,
/// adjusts times (`.truncate()`, `.round()`) and sets the grouping (`.groupBy()`, `.groupByMeasurement()`).
final class FromNode: Node {
    let database: String?
    let retentionPolicy: String?
    let measurement: String?
    let predicate: Lambda?
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
        if case .lambda(let e)? = c.property("where")?.first { predicate = try Lambda(e) } else { predicate = nil }
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

    func receive(_ message: Message, port: Int, output: any NodeOutput) throws {
        guard case .point(let p) = message else { throw LambdaError("from() receives points only") }
        if let measurement, p.name != measurement { return }
        if let database, p.database != database { return }
        if let retentionPolicy, p.retentionPolicy != retentionPolicy { return }
        if let predicate, try !predicate.evaluateBool(p) { return }
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

/// `|groupBy(tags…)` / `groupBy(*)`: sets the grouping; batches are split into one batch per new group.
final class GroupByNode: Node {
    let tags: [String]
    let all: Bool
    let exclude: Set<String>
    let byName: Bool
    let fixedDimensions: Dimensions
    private var keys = GroupKeyCache()

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
            let dims = dimensions(p.tags)
            p.dimensions = dims
            p.group = keys.group(name: p.name, tags: p.tags, dimensions: dims)
            output.emit(.point(p))
        case .batch(let b):
            var order: [GroupID] = []
            var batches: [GroupID: Batch] = [:]
            for bp in b.points {
                let dims = dimensions(bp.tags)
                let g = GroupID(name: b.name, tags: bp.tags, dimensions: dims)
                if batches[g] == nil {
                    order.append(g)
                    batches[g] = Batch(name: b.name, group: g, tags: bp.tags.filtered(to: dims.tagNames), dimensions: dims,
                                       tmax: b.tmax, points: [])
                }
                batches[g]!.points.append(bp)
            }
            for g in order { output.emit(.batch(batches[g]!)) }
        }
    }
}
