import Foundation
import TockModel

/// Where `--rebase-time` moves a recording's first point; every other point moves by as much, so the
/// spacing is kept.
///
/// Kapacitor's replay shifts the recording so that its first point falls at the replay clock's zero (the
/// time the replay starts, with the default wall clock), unless `-rec-time` keeps the recorded times
/// (`replayStreamFromChan` in replay.go). `now` is that default; an RFC 3339 time puts the first point there.
/// Without the option, `tock run` keeps the recorded times (Kapacitor's `-rec-time`).
public struct RebaseTime: Sendable, Hashable {
    /// The time of the first point after the shift, in nanoseconds since the epoch.
    public var target: Timestamp

    public init(target: Timestamp) { self.target = target }

    /// `now` (the current time) or an RFC 3339 time such as `2026-01-01T00:00:00Z`; `nil` otherwise.
    public init?(parsing text: String, now: Date = Date()) {
        if text == "now" {
            target = Timestamp(now.timeIntervalSince1970 * 1e9)
        } else if let t = RFC3339Nano.parse(text) {
            target = t
        } else {
            return nil
        }
    }
}
