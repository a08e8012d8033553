/// Durations in nanoseconds, spelled as Go's `time.Duration` prints them (Kapacitor shows them that way).
public enum GoDuration {
    public static let nanosecond: Int64 = 1
    public static let microsecond: Int64 = 1_000
    public static let millisecond: Int64 = 1_000_000
    public static let second: Int64 = 1_000_000_000
    public static let minute: Int64 = 60 * second
    public static let hour: Int64 = 60 * minute

    /// Parses a Go duration (`time.ParseDuration`: `10s`, `1h30m`, `500ms`, `1.5s`, `300us`, `-2m`, `0`) into
    /// nanoseconds; with `days`, also InfluxQL's `d` and `w` units (`2d`, `1w`), as TICKscript vars take them.
    /// `nil` when `text` is not a duration.
    public static func parse(_ text: String, days: Bool = false) -> Int64? {
        var chars = Substring(text)
        var negative = false
        if chars.first == "-" || chars.first == "+" {
            negative = chars.first == "-"
            chars = chars.dropFirst()
        }
        if chars == "0" { return 0 }
        if chars.isEmpty { return nil }
        var total: Double = 0
        while !chars.isEmpty {
            let number = chars.prefix { $0.isASCII && ($0.isNumber || $0 == ".") }
            guard !number.isEmpty, number != ".", let value = Double(number) else { return nil }
            chars = chars.dropFirst(number.count)
            let unitText = chars.prefix { !($0.isASCII && ($0.isNumber || $0 == ".")) }
            chars = chars.dropFirst(unitText.count)
            let unit: Double
            switch unitText {
            case "ns": unit = 1
            case "us", "µs", "μs": unit = 1e3
            case "u" where days: unit = 1e3
            case "ms": unit = 1e6
            case "s": unit = 1e9
            case "m": unit = 60e9
            case "h": unit = 3600e9
            case "d" where days: unit = 86_400e9
            case "w" where days: unit = 604_800e9
            default: return nil
            }
            total += value * unit
        }
        guard total < 9.2e18 else { return nil }
        let ns = Int64(total.rounded())
        return negative ? -ns : ns
    }

    /// Formats like Go's `Duration.String()`: `5m0s`, `1h30m0s`, `1.5s`, `300ms`, `0s`.
    public static func format(_ ns: Int64) -> String {
        if ns == 0 { return "0s" }
        let negative = ns < 0
        let u = ns.magnitude
        var out: String
        if u < UInt64(second) {
            // Sub-second: use the largest unit that keeps an integer part.
            let (unit, name): (UInt64, String) =
                u < UInt64(microsecond) ? (1, "ns") : u < UInt64(millisecond) ? (UInt64(microsecond), "µs") : (UInt64(millisecond), "ms")
            out = fraction(u, unit: unit) + name
        } else {
            let h = u / UInt64(hour)
            let m = (u / UInt64(minute)) % 60
            let sNs = u % UInt64(minute)
            out = ""
            if h > 0 { out += "\(h)h" }
            if h > 0 || m > 0 { out += "\(m)m" }
            out += fraction(sNs, unit: UInt64(second)) + "s"
        }
        return negative ? "-" + out : out
    }

    private static func fraction(_ v: UInt64, unit: UInt64) -> String {
        let whole = v / unit
        var rest = v % unit
        if rest == 0 { return "\(whole)" }
        var digits = ""
        var scale = unit / 10
        while rest > 0 && scale > 0 {
            digits.append(Character(String(rest / scale)))
            rest %= scale
            scale /= 10
        }
        return "\(whole).\(digits)"
    }
}
