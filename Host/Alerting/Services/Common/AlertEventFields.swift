import Engine
import TockModel

/// Kapacitor's alert event fields as its services read them.
extension AlertEvent {
    /// `event.Data.Result` as Go encodes `models.Result`: `{"series":[…]}`.
    var resultJSON: String { Series.result([data]) }

    /// Seconds since the epoch (`t.Unix()`).
    var unixSeconds: Int64 {
        let (q, r) = time.quotientAndRemainder(dividingBy: 1_000_000_000)
        return r < 0 ? q - 1 : q
    }

    /// Go's `time.RFC3339` (whole seconds, UTC): `2026-11-22T00:24:18Z`.
    var rfc3339: String { RFC3339Nano.format(unixSeconds * 1_000_000_000) }

    /// Go's `2006-01-02T15:04:05.000000000Z07:00` in UTC: always nine fraction digits.
    var rfc3339NineDigits: String {
        let seconds = RFC3339Nano.format(unixSeconds * 1_000_000_000).dropLast()
        let frac = String(time - unixSeconds * 1_000_000_000)
        return seconds + "." + String(repeating: "0", count: 9 - frac.count) + frac + "Z"
    }
}
