import TockModel

/// The InfluxQL type of a field value, which picks a function's implementation.
enum ValueKind: Sendable, Hashable {
    case float, integer, unsigned, string, boolean

    init(_ value: FieldValue) {
        switch value {
        case .double: self = .float
        case .int: self = .integer
        case .uint: self = .unsigned
        case .string: self = .string
        case .bool: self = .boolean
        }
    }

    /// Go's type name, as Kapacitor's errors print it.
    var goName: String {
        switch self {
        case .float: "float64"
        case .integer: "int64"
        case .unsigned: "uint64"
        case .string: "string"
        case .boolean: "bool"
        }
    }
}

/// One point as a reducer sees it: the value of the function's field, its time, and (for selectors
/// and `top`/`bottom`) the whole point it came from.
struct ReducerInput {
    var time: Timestamp
    var value: FieldValue
    var tags: Tags
    var fields: Fields
}

/// One value a reducer emits.
struct Reduced {
    /// The selected point's time, or `nil` for InfluxQL's zero time (the node then uses the batch or window time).
    var time: Timestamp?
    var value: FieldValue
    /// Tags of the point the value came from (merged into the group tags of an emitted batch).
    var tags: Tags = Tags()
    /// For selectors (`first`, `max`, …): the selected point's tags and fields.
    var selectedTags: Tags? = nil
    var selectedFields: Fields? = nil
}

/// An InfluxQL function's state for one window, batch or (for stream transformations) one group.
protocol Reducer: AnyObject {
    func aggregate(_ point: ReducerInput)
    func emit() -> [Reduced]
    /// Whether the reducer reads only the inputs' values (and times), never their tags and fields: the node then
    /// passes empty ones and spares merging and copying them.
    var valuesOnly: Bool { get }
}

extension Reducer {
    var valuesOnly: Bool { false }
}

/// Numbers in the reducer's own type: InfluxQL keeps integer results integers.
extension FieldValue {
    var asDouble: Double {
        switch self {
        case .double(let v): v
        case .int(let v): Double(v)
        case .uint(let v): Double(v)
        case .string, .bool: .nan
        }
    }
}

/// Orders values of one kind as InfluxQL does (`false < true`).
func valueLess(_ a: FieldValue, _ b: FieldValue) -> Bool {
    switch (a, b) {
    case (.double(let x), .double(let y)): x < y
    case (.int(let x), .int(let y)): x < y
    case (.uint(let x), .uint(let y)): x < y
    case (.string(let x), .string(let y)): x < y
    case (.bool(let x), .bool(let y)): !x && y
    default: a.asDouble < b.asDouble
    }
}

// MARK: - Aggregates

/// `count`: the number of points, an integer; 0 for an empty batch.
final class CountReducer: Reducer {
    var count: Int64 = 0
    var valuesOnly: Bool { true }
    func aggregate(_ point: ReducerInput) { count += 1 }
    func emit() -> [Reduced] { [Reduced(time: nil, value: .int(count))] }
}

/// `sum`: float or integer by the field's type; 0 for an empty batch.
final class SumReducer: Reducer {
    let kind: ValueKind
    var floatSum = 0.0
    var intSum: Int64 = 0
    init(kind: ValueKind) { self.kind = kind }
    var valuesOnly: Bool { true }
    func aggregate(_ point: ReducerInput) {
        switch point.value {
        case .int(let v): intSum &+= v
        default: floatSum += point.value.asDouble
        }
    }
    func emit() -> [Reduced] {
        [Reduced(time: nil, value: kind == .integer ? .int(intSum) : .double(floatSum))]
    }
}

/// `mean`: always a float.
final class MeanReducer: Reducer {
    var sum = 0.0
    var count = 0
    var valuesOnly: Bool { true }
    func aggregate(_ point: ReducerInput) {
        sum += point.value.asDouble
        count += 1
    }
    func emit() -> [Reduced] { [Reduced(time: nil, value: .double(sum / Double(count)))] }
}

/// Functions over all values of a window at once (`median`, `mode`, `spread`, `stddev`, `percentile`, …).
final class SliceReducer: Reducer {
    var points: [ReducerInput] = []
    let reduce: ([ReducerInput]) -> [Reduced]
    init(_ reduce: @escaping ([ReducerInput]) -> [Reduced]) { self.reduce = reduce }
    func aggregate(_ point: ReducerInput) { points.append(point) }
    func emit() -> [Reduced] { points.isEmpty ? [] : reduce(points) }
}

enum SliceFunctions {
    /// Points sorted by value; equal values keep arrival order.
    static func byValue(_ a: [ReducerInput]) -> [ReducerInput] {
        a.enumerated().sorted { l, r in
            if valueLess(l.element.value, r.element.value) { return true }
            if valueLess(r.element.value, l.element.value) { return false }
            return l.offset < r.offset
        }.map(\.element)
    }

    /// `median`: the middle value, or the mean of the two middle values; always a float.
    static func median(_ a: [ReducerInput]) -> [Reduced] {
        let s = byValue(a)
        if s.count % 2 == 0 {
            let lo = s[s.count / 2 - 1].value, hi = s[s.count / 2].value
            if case .int(let l) = lo, case .int(let h) = hi {
                return [Reduced(time: nil, value: .double(Double(l) + Double(h &- l) / 2))]
            }
            return [Reduced(time: nil, value: .double(lo.asDouble + (hi.asDouble - lo.asDouble) / 2))]
        }
        return [Reduced(time: nil, value: .double(s[s.count / 2].value.asDouble))]
    }

    /// `mode`: the most frequent value, the smallest one on ties; keeps the field's type.
    static func mode(_ a: [ReducerInput]) -> [Reduced] {
        let s = byValue(a)
        var mostFreq = 0, currFreq = 0
        var mostMode = s[0].value, currMode = s[0].value
        for p in s {
            if p.value != currMode {
                currFreq = 1
                currMode = p.value
            } else {
                currFreq += 1
            }
            if mostFreq > currFreq || (mostFreq == currFreq && valueLess(mostMode, currMode)) { continue }
            mostFreq = currFreq
            mostMode = p.value
        }
        return [Reduced(time: nil, value: mostMode)]
    }

    /// `spread`: max − min, keeping the field's type.
    static func spread(_ a: [ReducerInput]) -> [Reduced] {
        if case .int = a[0].value {
            var lo = Int64.max, hi = Int64.min
            for p in a { if case .int(let v) = p.value { lo = min(lo, v); hi = max(hi, v) } }
            return [Reduced(time: nil, value: .int(hi &- lo))]
        }
        var lo = Double.infinity, hi = -Double.infinity
        for p in a { let v = p.value.asDouble; lo = min(lo, v); hi = max(hi, v) }
        return [Reduced(time: nil, value: .double(hi - lo))]
    }

    /// `stddev`: the sample standard deviation (n − 1). With fewer than two points InfluxQL yields a
    /// null point, which Kapacitor emits as 0.
    static func stddev(_ a: [ReducerInput]) -> [Reduced] {
        guard a.count >= 2 else { return [Reduced(time: nil, value: .double(0))] }
        var mean = 0.0
        var count = 0
        for p in a {
            let v = p.value.asDouble
            if v.isNaN { continue }
            count += 1
            mean += (v - mean) / Double(count)
        }
        var variance = 0.0
        for p in a {
            let v = p.value.asDouble
            if v.isNaN { continue }
            variance += (v - mean) * (v - mean)
        }
        return [Reduced(time: nil, value: .double((variance / Double(count - 1)).squareRoot()))]
    }
}
