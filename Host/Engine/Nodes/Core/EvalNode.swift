import TockModel

/// `|eval(lambdas…)`: computes fields (or, with `.tags()`, tags) named by `.as()`, as Kapacitor's `eval.go`.
///
/// - Later lambdas see the results of earlier ones by name, except where the point has a field or tag of
///   that name: the point's own value wins (Kapacitor refills each lambda's scope from the point).
/// - A name in `.tags()` becomes a tag, which must be a string; `.tags()` with no names changes nothing.
/// - Without `.keep()` only the computed fields remain (tag results are not fields). `.keep()` keeps every
///   field of the point and adds every result, tag results included; `.keep(names)` keeps only those names,
///   each taken from the results first, then from the point's fields, else the point is an error.
///
/// A point whose evaluation fails is dropped (the error counted, logged unless `.quiet()`).
final class EvalNode: CountingNode {
    let lambdas: [Lambda]
    let names: [String]
    let tagNames: Set<String>
    let keep: Bool
    let keepList: [String]
    private var perGroup: [GroupID: [Lambda]] = [:]

    init(_ c: NodeConfiguration) throws {
        lambdas = try c.lambdaArguments()
        names = c.strings("as")
        guard names.count == lambdas.count else {
            throw NodeConfigurationError("eval has \(lambdas.count) expression\(lambdas.count == 1 ? "" : "s") but \(names.count) name\(names.count == 1 ? "" : "s") in .as(): give one name per expression")
        }
        // As in Kapacitor, a repeated `.tags()` or `.keep()` replaces the earlier list.
        tagNames = Set(c.strings("tags"))
        for t in tagNames.sorted() where !names.contains(t) {
            throw NodeConfigurationError("tag \"\(t)\" in .tags() is not one of the names in .as()")
        }
        keep = c.has("keep")
        keepList = c.strings("keep")
    }

    private func lambdas(for group: GroupID) -> [Lambda] {
        guard lambdas.contains(where: \.isStateful) else { return lambdas }
        if let l = perGroup[group] { return l }
        let l = lambdas.map { $0.fresh() }
        perGroup[group] = l
        return l
    }

    /// The new fields and tags of one point.
    private func evaluate(_ ls: [Lambda], time: Timestamp, fields: Fields, tags: Tags) throws -> (Fields, Tags) {
        var scope = fields
        var results: [String: FieldValue] = [:]
        for (i, l) in ls.enumerated() {
            let v = try l.evaluate(time: time, fields: scope, tags: tags)
            let name = names[i]
            results[name] = v
            if fields[name] == nil && tags[name] == nil { scope[name] = v }
        }
        var newTags = tags
        for name in names where tagNames.contains(name) {
            guard case .string(let s)? = results[name] else {
                throw LambdaError("result of a tag expression must be of type string, got \(results[name]?.goTypeName ?? "nil")")
            }
            newTags[name] = s
        }
        if keep {
            if keepList.isEmpty {
                var all = fields
                for (name, v) in results { all[name] = v }
                return (all, newTags)
            }
            var kept = Fields()
            for f in keepList {
                guard let v = results[f] ?? fields[f] else {
                    throw LambdaError("cannot keep field \"\(f)\", field does not exist")
                }
                kept[f] = v
            }
            return (kept, newTags)
        }
        var computed = Fields()
        for (name, v) in results where !tagNames.contains(name) { computed[name] = v }
        return (computed, newTags)
    }

    /// Points an expression failed on (Kapacitor's `eval_errors`), each dropped.
    private var evalErrors: Int64 = 0
    var counters: [String: Int64] { ["eval_errors": evalErrors] }

    func receive(_ message: Message, port: Int, output: any NodeOutput) throws {
        switch message {
        case .point(var p):
            do {
                (p.fields, p.tags) = try evaluate(lambdas(for: p.group), time: p.time, fields: p.fields, tags: p.tags)
            } catch {
                evalErrors += 1
                throw error
            }
            output.emit(.point(p))
        case .batch(var b):
            let ls = lambdas(for: b.group)
            var firstError: (any Error)?
            var kept: [BatchPoint] = []
            kept.reserveCapacity(b.points.count)
            for var bp in b.points {
                do {
                    (bp.fields, bp.tags) = try evaluate(ls, time: bp.time, fields: bp.fields, tags: bp.tags)
                    kept.append(bp)
                } catch {
                    evalErrors += 1
                    if firstError == nil { firstError = error }
                }
            }
            b.points = kept
            output.emit(.batch(b))
            if let firstError { throw firstError }
        }
    }
}

/// `|default()`: sets `.field(name, value)` where a point lacks the field and `.tag(name, value)` where it
/// lacks the tag or the tag is the empty string (Kapacitor's `default.go`). A defaulted tag the data is
/// grouped by changes the group, as in Kapacitor.
final class DefaultNode: Node {
    let fields: [(String, FieldValue)]
    let tags: [(String, String)]

    init(_ c: NodeConfiguration) {
        fields = c.calls("field").compactMap { args in
            guard args.count == 2, case .string(let name) = args[0] else { return nil }
            switch args[1] {
            case .float(let f): return (name, .double(f))
            case .int(let i): return (name, .int(i))
            case .string(let s): return (name, .string(s))
            case .bool(let b): return (name, .bool(b))
            default: return nil
            }
        }
        tags = c.calls("tag").compactMap { args in
            guard args.count == 2, case .string(let k) = args[0], case .string(let v) = args[1] else { return nil }
            return (k, v)
        }
    }

    private func apply(_ f: inout Fields) {
        for (k, v) in fields where f[k] == nil { f[k] = v }
    }

    /// Fills the tags; whether one of `dimensions` was filled.
    @discardableResult
    private func apply(_ t: inout Tags, dimensions: Dimensions) -> Bool {
        var regroup = false
        for (k, v) in tags where (t[k] ?? "").isEmpty {
            t[k] = v
            if dimensions.tagNames.contains(k) { regroup = true }
        }
        return regroup
    }

    func receive(_ message: Message, port: Int, output: any NodeOutput) throws {
        switch message {
        case .point(var p):
            apply(&p.fields)
            if apply(&p.tags, dimensions: p.dimensions) {
                p.group = GroupID(name: p.name, tags: p.tags, dimensions: p.dimensions)
            }
            output.emit(.point(p))
        case .batch(var b):
            if apply(&b.tags, dimensions: b.dimensions) {
                b.group = GroupID(name: b.name, tags: b.tags, dimensions: b.dimensions)
            }
            b.points = b.points.map { bp in
                var bp = bp
                apply(&bp.fields)
                apply(&bp.tags, dimensions: .none)
                return bp
            }
            output.emit(.batch(b))
        }
    }
}

/// `|delete()`: removes `.field(name)` fields and `.tag(name)` tags. A deleted tag the data is grouped by
/// leaves the grouping too, so the data is regrouped without it (Kapacitor's `delete.go`).
final class DeleteNode: Node {
    let fields: [String]
    let tags: [String]

    init(_ c: NodeConfiguration) {
        fields = c.calls("field").compactMap { if case .string(let s)? = $0.first { s } else { nil } }
        tags = c.calls("tag").compactMap { if case .string(let s)? = $0.first { s } else { nil } }
    }

    private func apply(_ f: inout Fields, _ t: inout Tags) {
        for k in fields { f[k] = nil }
        for k in tags { t[k] = nil }
    }

    /// `dimensions` without the deleted tags, or `nil` when none of them is a dimension.
    private func regrouped(_ dimensions: Dimensions) -> Dimensions? {
        guard dimensions.tagNames.contains(where: tags.contains) else { return nil }
        return Dimensions(byName: dimensions.byName, tagNames: dimensions.tagNames.filter { !tags.contains($0) })
    }

    func receive(_ message: Message, port: Int, output: any NodeOutput) throws {
        switch message {
        case .point(var p):
            var tags = p.tags
            apply(&p.fields, &tags)
            p.tags = tags
            if let dims = regrouped(p.dimensions) {
                p.dimensions = dims
                p.group = GroupID(name: p.name, tags: p.tags, dimensions: dims)
            }
            output.emit(.point(p))
        case .batch(var b):
            for k in tags { b.tags[k] = nil }
            if let dims = regrouped(b.dimensions) {
                b.dimensions = dims
                b.group = GroupID(name: b.name, tags: b.tags, dimensions: dims)
            }
            b.points = b.points.map { bp in var bp = bp; apply(&bp.fields, &bp.tags); return bp }
            output.emit(.batch(b))
        }
    }
}

// Kapacitor keeps this node's state per group in a grouped consumer: a deleted group starts over.
extension EvalNode {
    func deleteGroup(_ group: GroupID, port: Int, output: any NodeOutput) throws {
        perGroup[group] = nil
        output.emit(deleteGroup: group)
    }
}
