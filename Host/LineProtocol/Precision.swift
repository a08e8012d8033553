/// The unit of the timestamps in line protocol, as `/write?precision=` names it.
public enum Precision: String, Sendable, Hashable, CaseIterable {
    case nanoseconds = "n"
    case microseconds = "u"
    case milliseconds = "ms"
    case seconds = "s"
    case minutes = "m"
    case hours = "h"

    /// Reads a precision as InfluxDB 1.x and Kapacitor accept it: `n`, `u`, `ms`, `s`, `m`, `h`,
    /// plus the spellings `ns`, `us` and `µs`. An empty string means nanoseconds.
    public init?(_ name: String) {
        switch name {
        case "", "n", "ns": self = .nanoseconds
        case "u", "us", "µs": self = .microseconds
        case "ms": self = .milliseconds
        case "s": self = .seconds
        case "m": self = .minutes
        case "h": self = .hours
        default: return nil
        }
    }

    /// Nanoseconds in one unit.
    @inlinable
    public var nanoseconds: Int64 {
        switch self {
        case .nanoseconds: return 1
        case .microseconds: return 1_000
        case .milliseconds: return 1_000_000
        case .seconds: return 1_000_000_000
        case .minutes: return 60_000_000_000
        case .hours: return 3_600_000_000_000
        }
    }

    /// `time` (ns) rounded down to a whole unit, as InfluxDB truncates the arrival time of a point without timestamp.
    @inlinable
    public func truncate(_ time: Int64) -> Int64 {
        let unit = nanoseconds
        if unit == 1 { return time }
        let (q, r) = time.quotientAndRemainder(dividingBy: unit)
        return (r < 0 ? q - 1 : q) * unit
    }
}
