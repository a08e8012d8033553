import TockModel

/// `|eval(lambdas…)`: computes fields (or, with `.tags()`, tags) named by `.as()`. Later lambdas see the results
/// of earlier ones. Without `.keep()` only the computed fields remain; `.keep()` keeps every field, `.keep(names)`
/// only those named. A point whose evaluation fails is dropped (the error counted, logged unless `.quiet()`).
final class EvalNode: Node {
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
        tagNames = Set(c.calls("tags").flatMap { $0.compactMap { if case .string(let s) = $0 { s } else { nil } } })
        for t in tagNames where !names.contains(t) {
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
        var all = fields
        var newTags = tags
        for (i, l) in ls.enumerated() {
            let v = try l.evaluate(time: time, fields: all, tags: newTags)
            let name = names[i]
            if tagNames.contains(name) {
                guard case .string(let s) = v else {
                    throw LambdaError("result of a tag expression must be of type string, got \(v.typeName)")
                }
                newTags[name] = s
            } else {
                all[name] = v
            }
        }
        if keep {
            if keepList.isEmpty { return (all, newTags) }
            var kept = Fields()
            for f in keepList {
                guard let v = all[f] else { throw LambdaError("cannot keep field \"\(f)\", field does not exist") }
                kept[f] = v
            }
            return (kept, newTags)
        }
        var computed = Fields()
        for name in names where !tagNames.contains(name) {
            if let v = all[name] { computed[name] = v }
        }
        return (computed, newTags)
    }

    func receive(_ message: Message, port: Int, output: any NodeOutput) throws {
        switch message {
        case .point(var p):
            (p.fields, p.tags) = try evaluate(lambdas(for: p.group), time: p.time, fields: p.fields, tags: p.tags)
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
                    if firstError == nil { firstError = error }
                }
            }
            b.points = kept
            output.emit(.batch(b))
            if let firstError { throw firstError }
        }
    }
}

/// `|default()`: sets `.field(name, value)` and `.tag(name, value)` where a point lacks them.
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

    private func apply(_ f: inout Fields, _ t: inout Tags) {
        for (k, v) in fields where f[k] == nil { f[k] = v }
        for (k, v) in tags where t[k] == nil { t[k] = v }
    }

    func receive(_ message: Message, port: Int, output: any NodeOutput) throws {
        switch message {
        case .point(var p):
            apply(&p.fields, &p.tags)
            output.emit(.point(p))
        case .batch(var b):
            for (k, v) in tags where b.tags[k] == nil { b.tags[k] = v }
            b.points = b.points.map { bp in var bp = bp; apply(&bp.fields, &bp.tags); return bp }
            output.emit(.batch(b))
        }
    }
}

/// `|delete()`: removes `.field(name)` fields and `.tag(name)` tags.
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

    func receive(_ message: Message, port: Int, output: any NodeOutput) throws {
        switch message {
        case .point(var p):
            apply(&p.fields, &p.tags)
            output.emit(.point(p))
        case .batch(var b):
            for k in tags { b.tags[k] = nil }
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
