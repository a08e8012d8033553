import TockModel

/// `|stateDuration(lambda)` and `|stateCount(lambda)`: per group, how long (in `.unit()`, default 1s, as a float)
/// or for how many consecutive points (an int) the lambda has been true; -1 while it is false. The value goes
/// into the field `.as()` (default `state_duration` / `state_count`).
final class StateNode: Node {
    let lambda: Lambda
    let counting: Bool
    let unit: Int64
    let field: String
    private struct Tracker {
        var lambda: Lambda
        var start: Int64? = nil
        var count: Int64 = 0
    }
    private var trackers: [GroupID: Tracker] = [:]

    init(_ c: NodeConfiguration, counting: Bool) throws {
        guard let l = try c.lambdaArguments().first else { throw NodeConfigurationError("needs a lambda") }
        lambda = l
        self.counting = counting
        unit = c.duration("unit") ?? GoDuration.second
        if unit <= 0 { throw NodeConfigurationError("unit must be a positive duration") }
        field = c.string("as") ?? (counting ? "state_count" : "state_duration")
    }

    private func track(_ group: GroupID, time: Timestamp, fields: Fields, tags: Tags) throws -> FieldValue {
        var t = trackers[group] ?? Tracker(lambda: lambda.fresh())
        defer { trackers[group] = t }
        let inState = try t.lambda.evaluateBool(time: time, fields: fields, tags: tags)
        if counting {
            guard inState else { t.count = 0; return .int(-1) }
            t.count = t.count.saturatingAdd(1)
            return .int(t.count)
        }
        guard inState else { t.start = nil; return .double(-1) }
        if t.start == nil { t.start = time }
        return .double((Double(time) - Double(t.start!)) / Double(unit))
    }

    func receive(_ message: Message, port: Int, output: any NodeOutput) throws {
        switch message {
        case .point(var p):
            p.fields[field] = try track(p.group, time: p.time, fields: p.fields, tags: p.tags)
            output.emit(.point(p))
        case .batch(var b):
            var firstError: (any Error)?
            var kept: [BatchPoint] = []
            for var bp in b.points {
                do {
                    bp.fields[field] = try track(b.group, time: bp.time, fields: bp.fields, tags: bp.tags)
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

/// `|combine(lambdas…)`: combines points of one group that share a time (rounded to `.tolerance()`) into
/// every combination where point i matches lambda i; fields and tags are prefixed with `.as()` names and
/// `.delimiter()` (default `.`), and the group's tags are also kept as they are. Refuses more than `.max()`
/// combinations (default 10000).
final class CombineNode: Node {
    let lambdas: [Lambda]
    let names: [String]
    let delimiter: String
    let tolerance: Int64
    let max: Int64
    private struct Buffer {
        var time: Int64
        var name: String
        var dimensions: Dimensions
        var points: [BatchPoint]
        var lambdas: [Lambda]
    }
    private var buffers: [GroupID: Buffer] = [:]

    init(_ c: NodeConfiguration) throws {
        lambdas = try c.lambdaArguments()
        names = c.strings("as")
        guard names.count == lambdas.count else {
            throw NodeConfigurationError("combine has \(lambdas.count) expressions but \(names.count) names in .as(): give one name per expression")
        }
        delimiter = c.string("delimiter") ?? "."
        tolerance = c.duration("tolerance") ?? 0
        max = c.int("max") ?? 10_000
    }

    private func rounded(_ t: Int64) -> Int64 { tolerance > 0 ? GoDuration.round(t, tolerance) : t }

    func receive(_ message: Message, port: Int, output: any NodeOutput) throws {
        guard case .point(let p) = message else { throw LambdaError("combine() receives points only") }
        let t = rounded(p.time)
        let bp = BatchPoint(time: t, fields: p.fields, tags: p.tags)
        guard var buf = buffers[p.group] else {
            buffers[p.group] = Buffer(time: t, name: p.name, dimensions: p.dimensions, points: [bp], lambdas: lambdas.map { $0.fresh() })
            return
        }
        if t == buf.time {
            buf.points.append(bp)
            buffers[p.group] = buf
            return
        }
        defer {
            buf.time = t
            buf.name = p.name
            buf.dimensions = p.dimensions
            buf.points = [bp]
            buffers[p.group] = buf
        }
        try combine(buf, group: p.group, output: output)
    }

    private func combine(_ buf: Buffer, group: GroupID, output: any NodeOutput) throws {
        let n = buf.points.count, k = lambdas.count
        guard n >= k else { return }
        var total: Int64 = 1
        for i in 0..<k {
            // C(n, i+1) = C(n, i)·(n−i)/(i+1); once past Int64 it is past any max too.
            let (product, overflow) = total.multipliedReportingOverflow(by: Int64(n - i))
            if overflow { total = .max; break }
            total = product / Int64(i + 1)
        }
        if total > max {
            throw LambdaError("refusing to perform combination as total combinations \(total) exceeds max combinations \(max)")
        }
        var matches = Array(repeating: Array(repeating: false, count: n), count: k)
        var firstError: (any Error)?
        for (idx, p) in buf.points.enumerated() {
            for i in 0..<k {
                do {
                    matches[i][idx] = try buf.lambdas[i].evaluateBool(time: p.time, fields: p.fields, tags: p.tags)
                } catch {
                    if firstError == nil { firstError = error }
                }
            }
        }
        if let firstError { output.logger.error("evaluating lambda expression: \(firstError)") }
        let dims = Set(buf.dimensions.tagNames)
        var indices = Array(0..<k)
        while true {
            // Assign each lambda the first unused point of the combination that matches it.
            var remaining = indices
            var set: [BatchPoint] = []
            for s in 0..<k {
                guard let j = remaining.firstIndex(where: { matches[s][$0] }) else { break }
                set.append(buf.points[remaining[j]])
                remaining.remove(at: j)
            }
            if set.count == k {
                var fields = Fields(), tags = Tags()
                for (i, p) in set.enumerated() {
                    for (f, v) in p.fields { fields[names[i] + delimiter + f] = v }
                    for (t, v) in p.tags { tags[names[i] + delimiter + t] = v }
                }
                // As Kapacitor's combine.go merge(): the group's tags are kept unprefixed as well.
                for t in dims { if let v = set[0].tags[t] { tags[t] = v } }
                output.emit(.point(Point(name: buf.name, tags: tags, fields: fields, time: rounded(set[0].time),
                                         group: group, dimensions: buf.dimensions)))
            }
            // Next combination of k indices out of n, in lexicographic order.
            var i = k - 1
            while i >= 0 && indices[i] == i + n - k { i -= 1 }
            if i < 0 { return }
            indices[i] += 1
            for j in (i + 1)..<k { indices[j] = indices[j - 1] + 1 }
        }
    }
}

// Kapacitor's state nodes keep their counts per group in a grouped consumer: a deleted group starts over.
extension StateNode {
    func deleteGroup(_ group: GroupID, port: Int, output: any NodeOutput) throws {
        trackers[group] = nil
        output.emit(deleteGroup: group)
    }
}
