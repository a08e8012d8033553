import Engine
import Foundation
import TockModel

/// At most ``events`` deliveries per ``per``: one handler's rate limit (`[alerting] rate-limit = "20/1m"`).
///
/// A handler over its limit does not drop or refuse events: they wait in its queue (bounded by `queue-size`) and go
/// out as the limit allows, so a flood ends as `queue-full` dead letters, never as unbounded memory.
public struct RateLimit: Sendable, Hashable, CustomStringConvertible {
    /// Deliveries allowed in one ``per`` (also the burst a quiet handler may send at once).
    public var events: Int
    /// The window.
    public var per: Duration

    public init(events: Int, per: Duration) {
        self.events = events
        self.per = per
    }

    /// Reads `N/DURATION` (`"20/1m"`, `"1/10s"`, `"100/1h"`); the unit alone means one of it (`"5/s"`, `"10/m"`).
    /// The error says what is wrong and shows the expected form; `key` names the setting.
    public init(parsing text: String, key: String) throws(ConfigError) {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
        let form = "expected EVENTS/DURATION such as \"20/1m\""
        guard parts.count == 2 else { throw ConfigError("\(key) = \"\(text)\": \(form)") }
        guard let n = Int(parts[0]), n >= 1 else {
            throw ConfigError("\(key) = \"\(text)\": the number of events must be a whole number of at least 1 (\(form))")
        }
        let window = parts[1].first?.isLetter == true ? "1" + parts[1] : parts[1]
        guard let ns = GoDuration.parse(window), ns > 0 else {
            throw ConfigError("\(key) = \"\(text)\": \"\(parts[1])\" is not a positive duration (\(form))")
        }
        self.init(events: n, per: .nanoseconds(ns))
    }

    /// `20/1m`, as the setting is written.
    public var description: String {
        let ns = per.components.seconds * 1_000_000_000 + per.components.attoseconds / 1_000_000_000
        return "\(events)/\(GoDuration.format(ns))"
    }
}

/// The generic cell rate algorithm over one ``RateLimit``: a burst of `events` at once, then one every `per / events`.
/// Owned by the one task that delivers a queue's events.
struct RateGate {
    let interval: Duration
    let tolerance: Duration
    /// The theoretical arrival time of the next event.
    private var next: ContinuousClock.Instant?

    init(_ limit: RateLimit) {
        interval = limit.per / limit.events
        tolerance = limit.per - interval
    }

    /// Reserves the next slot at `now`; how long to wait before using it (zero when within the limit).
    mutating func reserve(at now: ContinuousClock.Instant) -> Duration {
        let arrival = max(next ?? now, now)
        next = arrival + interval
        let early = arrival - now - tolerance
        return early > .zero ? early : .zero
    }
}
