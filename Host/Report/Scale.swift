/// Maps a domain of data values linearly onto a range of pixels, as d3's `scaleLinear` does.
///
/// The range may run backwards (`top...bottom` is given as `range: (bottom, top)` for a y axis where larger
/// values are drawn higher). A domain of zero width maps every value to the middle of the range.
public struct LinearScale: Sendable, Hashable {
    /// The data values mapped: `lower` to `range.from`, `upper` to `range.to`.
    public var domain: (lower: Double, upper: Double)
    /// The pixel positions the domain's ends map to.
    public var range: (from: Double, to: Double)

    public init(domain: (lower: Double, upper: Double), range: (from: Double, to: Double)) {
        self.domain = domain
        self.range = range
    }

    /// The pixel position of `value`; values outside the domain map outside the range (no clamping).
    public func callAsFunction(_ value: Double) -> Double {
        let width = domain.upper - domain.lower
        guard width != 0, width.isFinite else { return (range.from + range.to) / 2 }
        return range.from + (value - domain.lower) / width * (range.to - range.from)
    }

    /// The scale with its domain widened outwards to multiples of the tick step, so the axis starts and ends
    /// on a labelled tick.
    public func nice(count: Int = 5) -> LinearScale {
        let step = Self.tickStep(domain.lower, domain.upper, count: count)
        guard step > 0 else {
            // One value: a band of ±1 around it.
            return LinearScale(domain: (domain.lower - 1, domain.upper + 1), range: range)
        }
        return LinearScale(domain: ((domain.lower / step).rounded(.down) * step, (domain.upper / step).rounded(.up) * step),
                           range: range)
    }

    /// About `count` round values (multiples of 1, 2 or 5 times a power of ten) within the domain, ascending.
    public func ticks(count: Int = 5) -> [Double] {
        let step = Self.tickStep(domain.lower, domain.upper, count: count)
        guard step > 0 else { return domain.lower.isFinite ? [domain.lower] : [] }
        let first = (domain.lower / step).rounded(.up), last = (domain.upper / step).rounded(.down)
        guard last >= first, last - first < 10_000 else { return [] }
        return stride(from: first, through: last, by: 1).map { $0 * step }
    }

    /// The round step between about `count` ticks over `[lower, upper]`: 1, 2 or 5 × 10ⁿ; 0 when the span is empty.
    public static func tickStep(_ lower: Double, _ upper: Double, count: Int) -> Double {
        let span = upper - lower
        guard span > 0, span.isFinite, count > 0 else { return 0 }
        let raw = span / Double(count)
        var power = 1.0
        while power * 10 <= raw { power *= 10 }
        while power > raw { power /= 10 }
        let fraction = raw / power
        let factor: Double = fraction < 1.5 ? 1 : fraction < 3.5 ? 2 : fraction < 7.5 ? 5 : 10
        return factor * power
    }

    public static func == (a: LinearScale, b: LinearScale) -> Bool {
        a.domain == b.domain && a.range == b.range
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(domain.lower)
        hasher.combine(domain.upper)
        hasher.combine(range.from)
        hasher.combine(range.to)
    }
}

/// Ticks of a time axis in seconds since the epoch: the round step (a minute … a day) that gives at most
/// `maximum` ticks, labelled `HH:MM` in hours and minutes since the UTC midnight the axis starts after.
public struct TimeTicks: Sendable, Hashable {
    /// Tick times, seconds since the epoch, ascending.
    public var times: [Double]
    /// The step between ticks, in seconds.
    public var step: Double

    /// The steps tried, shortest first; past a day, whole days.
    public static let steps: [Double] = [60, 300, 900, 1_800, 3_600, 7_200, 10_800, 21_600, 43_200, 86_400]

    /// The ticks within `[start, end]`.
    public init(from start: Double, to end: Double, maximum: Int = 12) {
        let span = max(0, end - start)
        step = Self.steps.first { span / $0 <= Double(max(1, maximum)) } ?? 86_400 * ((span / 86_400 / Double(max(1, maximum))).rounded(.up))
        var times: [Double] = []
        if span > 0, step > 0 {
            var t = (start / step).rounded(.up) * step
            while t <= end {
                times.append(t)
                t += step
            }
        }
        self.times = times
    }

    /// `HH:MM` since the UTC midnight at or before `start`: `24:00` for the midnight that ends a day-long chart
    /// starting at midnight, `25:00` an hour later.
    public static func label(_ time: Double, start: Double) -> String {
        let seconds = Int64(time.rounded(.down))
        let dayStart = Int64((start / 86_400).rounded(.down)) * 86_400
        let since = seconds - dayStart
        let hours = since / 3_600, minutes = since % 3_600 / 60
        return (hours < 10 ? "0" : "") + "\(hours):" + (minutes < 10 ? "0" : "") + "\(minutes)"
    }
}
