import TockModel

/// `difference`: the change from the previous point; points at the same time as the current one are
/// skipped. Keeps the field's type.
final class DifferenceReducer: Reducer {
    private var prev: ReducerInput?
    private var curr: ReducerInput?
    private var unread = false

    func aggregate(_ point: ReducerInput) {
        if let c = curr, c.time == point.time { return }
        prev = curr
        curr = point
        unread = prev != nil
    }

    func emit() -> [Reduced] {
        guard unread, let p = prev, let c = curr else { return [] }
        unread = false
        switch (c.value, p.value) {
        case (.int(let a), .int(let b)): return [Reduced(time: c.time, value: .int(a &- b))]
        default: return [Reduced(time: c.time, value: .double(c.value.asDouble - p.value.asDouble))]
        }
    }
}

/// `elapsed(field, unit)`: the time since the previous point in whole `unit`s, an integer.
final class ElapsedReducer: Reducer {
    let unit: Int64
    private var prev: Timestamp?
    private var curr: Timestamp?

    init(unit: Int64) { self.unit = unit }

    func aggregate(_ point: ReducerInput) {
        prev = curr
        curr = point.time
    }

    func emit() -> [Reduced] {
        guard let p = prev, let c = curr else { return [] }
        return [Reduced(time: c, value: .int((c - p) / unit))]
    }
}

/// `movingAverage(field, n)`: the mean of the last `n` values, a float; nothing until `n` have arrived.
final class MovingAverageReducer: Reducer {
    let size: Int
    private var buffer: [Double] = []
    private var position = 0
    private var sum = 0.0
    private var time: Timestamp = 0

    init(size: Int) { self.size = size }

    func aggregate(_ point: ReducerInput) {
        let v = point.value.asDouble
        if buffer.count < size {
            buffer.append(v)
        } else {
            sum -= buffer[position]
            buffer[position] = v
        }
        sum += v
        time = point.time
        position += 1
        if position >= size { position = 0 }
    }

    func emit() -> [Reduced] {
        guard size > 0, buffer.count == size else { return [] }
        return [Reduced(time: time, value: .double(sum / Double(buffer.count)))]
    }
}

/// `cumulativeSum`: the running total, keeping the field's type.
final class CumulativeSumReducer: Reducer {
    private var floatSum = 0.0
    private var intSum: Int64 = 0
    private var isInteger = false
    private var time: Timestamp?

    func aggregate(_ point: ReducerInput) {
        if case .int(let v) = point.value {
            isInteger = true
            intSum &+= v
        } else {
            floatSum += point.value.asDouble
        }
        time = point.time
    }

    func emit() -> [Reduced] {
        guard let t = time else { return [] }
        return [Reduced(time: t, value: isInteger ? .int(intSum) : .double(floatSum))]
    }
}
