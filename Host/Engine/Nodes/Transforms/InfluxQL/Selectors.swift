import TockModel

/// `first`, `last`, `min`, `max`: keeps the one point that wins `prefer(current, kept)`, with its tags and fields.
final class SelectorReducer: Reducer {
    private var kept: ReducerInput?
    /// Whether the new point replaces the kept one.
    let prefer: (ReducerInput, ReducerInput) -> Bool

    init(prefer: @escaping (ReducerInput, ReducerInput) -> Bool) { self.prefer = prefer }

    func aggregate(_ point: ReducerInput) {
        if let k = kept, !prefer(point, k) { return }
        kept = point
    }

    func emit() -> [Reduced] {
        guard let k = kept else { return [] }
        return [Reduced(time: k.time, value: k.value, tags: k.tags, selectedTags: k.tags, selectedFields: k.fields)]
    }

    /// The earliest point; on equal times the greater value.
    static func first() -> SelectorReducer {
        SelectorReducer { c, p in c.time < p.time || (c.time == p.time && valueLess(p.value, c.value)) }
    }

    /// The latest point; on equal times the greater value.
    static func last() -> SelectorReducer {
        SelectorReducer { c, p in c.time > p.time || (c.time == p.time && valueLess(p.value, c.value)) }
    }

    /// The smallest value; on equal values the earlier point.
    static func min() -> SelectorReducer {
        SelectorReducer { c, p in valueLess(c.value, p.value) || (c.value == p.value && c.time < p.time) }
    }

    /// The greatest value; on equal values the earlier point.
    static func max() -> SelectorReducer {
        SelectorReducer { c, p in valueLess(p.value, c.value) || (c.value == p.value && c.time < p.time) }
    }
}

enum SelectorFunctions {
    /// `percentile(field, p)`: the nearest-rank point, `floor(n·p/100 + 0.5) − 1` in value order; nothing
    /// when that rank is outside the window. Integer results carry no time, as in InfluxQL.
    static func percentile(_ p: Double) -> ([ReducerInput]) -> [Reduced] {
        { a in
            let i = Int((Double(a.count) * p / 100 + 0.5).rounded(.down)) - 1
            guard i >= 0, i < a.count else { return [] }
            let s = SliceFunctions.byValue(a)
            let x = s[i]
            let time: Timestamp? = if case .int = x.value { nil } else { x.time }
            return [Reduced(time: time, value: x.value, tags: x.tags, selectedTags: x.tags, selectedFields: x.fields)]
        }
    }

    /// `distinct`: each value once, with the time it was first seen, ordered by time then value.
    static func distinct(_ a: [ReducerInput]) -> [Reduced] {
        var firstSeen: [FieldValue: Timestamp] = [:]
        var order: [FieldValue] = []
        for p in a where firstSeen[p.value] == nil {
            firstSeen[p.value] = p.time
            order.append(p.value)
        }
        let sorted = order.sorted { l, r in
            let tl = firstSeen[l]!, tr = firstSeen[r]!
            return tl != tr ? tl < tr : valueLess(l, r)
        }
        return sorted.map { Reduced(time: firstSeen[$0]!, value: $0) }
    }

    /// `top(n, field, tags...)` / `bottom(...)`: the `n` greatest (smallest) values, at most one per
    /// distinct combination of the named tags or fields, returned in time order.
    static func topBottom(n: Int, keys: [String], top: Bool) -> ([ReducerInput]) -> [Reduced] {
        { input in
            // Better: greater (top) or smaller (bottom) value, then earlier time.
            let better: (ReducerInput, ReducerInput) -> Bool = { a, b in
                if a.value != b.value { return top ? valueLess(b.value, a.value) : valueLess(a.value, b.value) }
                return a.time < b.time
            }
            var candidates = input
            if !keys.isEmpty {
                var best: [String: ReducerInput] = [:]
                var order: [String] = []
                for p in input {
                    let key = keys.map { k -> String in
                        if let f = p.fields[k] { return "\(f)" }
                        return p.tags[k] ?? ""
                    }.joined(separator: ",")
                    if let cur = best[key] {
                        if better(p, cur) { best[key] = p }
                    } else {
                        best[key] = p
                        order.append(key)
                    }
                }
                candidates = order.map { best[$0]! }
            }
            let chosen = candidates.sorted(by: better).prefix(max(0, n))
            // Stable by time: equal times keep the value order.
            let byTime = chosen.enumerated().sorted { l, r in
                l.element.time != r.element.time ? l.element.time < r.element.time : l.offset < r.offset
            }.map(\.element)
            return byTime.map { Reduced(time: $0.time, value: $0.value, tags: $0.tags) }
        }
    }
}
