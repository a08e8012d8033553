import TICKScript
import TockModel

/// The ranges durations and counts given to nodes must lie in, checked when a task is defined.
///
/// Kapacitor takes any 64-bit value; Tock refuses those no task needs and that would overflow time
/// arithmetic (`shift(2562047h)` added to a point's time) or size an allocation (`periodCount` of
/// 2^63). The nodes' own arithmetic also saturates, so points with extreme times cannot overflow it
/// either (see ``Swift/Int64/saturatingAdd(_:)``).
public enum ValueBounds {
    /// The longest duration (either sign) a node argument or property may take: 36500d, about 100 years.
    /// Added to any time a client can write (years 1677–2262), it stays near Int64's range.
    public static let maximumDuration: Int64 = 36_500 * 86_400 * 1_000_000_000

    /// The largest count (`window().periodCount`, `sample(n)`, `top(n, …)`, alert `.history`, …).
    public static let maximumCount: Int64 = 1_000_000

    /// The positions of count arguments, by node (`"top"`) or node and property (`"window.periodCount"`).
    static let countArguments: [String: Set<Int>] = [
        "window.periodCount": [0], "window.everyCount": [0],
        "sample": [0], "top": [0], "bottom": [0], "movingAverage": [1],
        "holtWinters": [1, 2], "holtWintersWithFit": [1, 2],
        "alert.history": [0], "combine.max": [0],
    ]

    /// Refuses `value`, argument `index` of `what` (`"window.periodCount"` or `"shift"`), when it is a
    /// duration or a count out of range, at `position`.
    static func check(_ value: Value, index: Int, of what: String, at position: SourcePosition) throws(ScriptError) {
        switch value {
        case .duration(let d):
            if d > maximumDuration || d < -maximumDuration {
                throw ScriptError(
                    "duration \(GoDuration.format(d)) is out of range: durations given to nodes must lie within "
                        + "±\(GoDuration.format(maximumDuration)) (36500d, about 100 years)",
                    at: position)
            }
        case .int(let n) where countArguments[what]?.contains(index) == true:
            if n < 0 || n > maximumCount {
                throw ScriptError(
                    "count \(n) for \(what) is out of range: it must be between 0 and \(maximumCount)", at: position)
            }
        default:
            break
        }
    }
}

extension Int64 {
    /// `self + other`, clamped to `Int64.min...Int64.max` instead of trapping: time arithmetic on points
    /// whose times a client chose.
    @inlinable
    public func saturatingAdd(_ other: Int64) -> Int64 {
        let (sum, overflow) = addingReportingOverflow(other)
        guard overflow else { return sum }
        return other > 0 ? .max : .min
    }

    /// `self - other`, clamped like ``saturatingAdd(_:)``.
    @inlinable
    public func saturatingSubtract(_ other: Int64) -> Int64 {
        let (difference, overflow) = subtractingReportingOverflow(other)
        guard overflow else { return difference }
        return other < 0 ? .max : .min
    }

    /// `self * other`, clamped like ``saturatingAdd(_:)``.
    @inlinable
    public func saturatingMultiply(_ other: Int64) -> Int64 {
        let (product, overflow) = multipliedReportingOverflow(by: other)
        guard overflow else { return product }
        return (self < 0) == (other < 0) ? .max : .min
    }
}
