/// RFC 3339 times with nanoseconds, spelled as Go's `time.RFC3339Nano` prints them (Kapacitor's JSON uses it):
/// UTC, `Z` suffix, fraction with trailing zeros removed and omitted when zero —
/// `2026-11-22T00:24:18Z`, `1971-01-01T00:00:10.5Z`.
public enum RFC3339Nano {
    /// Formats a timestamp in UTC.
    public static func format(_ t: Timestamp) -> String {
        let (days, nsOfDay) = floorDivMod(t, 86_400 * GoDuration.second)
        let (y, m, d) = civil(fromDays: days)
        let secOfDay = nsOfDay / GoDuration.second
        let frac = nsOfDay % GoDuration.second
        var s = ""
        s.reserveCapacity(30)
        if y < 0 { s += "-" }
        pad(&s, abs(y), 4)
        s += "-"; pad(&s, m, 2)
        s += "-"; pad(&s, d, 2)
        s += "T"; pad(&s, secOfDay / 3600, 2)
        s += ":"; pad(&s, (secOfDay / 60) % 60, 2)
        s += ":"; pad(&s, secOfDay % 60, 2)
        if frac != 0 {
            var digits = String(frac)
            digits = String(repeating: "0", count: 9 - digits.count) + digits
            while digits.last == "0" { digits.removeLast() }
            s += "." + digits
        }
        s += "Z"
        return s
    }

    /// Appends ``format(_:)``'s text as UTF-8 to `out`, building no string.
    public static func append(_ t: Timestamp, to out: inout [UInt8]) {
        let (days, nsOfDay) = floorDivMod(t, 86_400 * GoDuration.second)
        let (y, m, d) = civil(fromDays: days)
        let secOfDay = nsOfDay / GoDuration.second
        var frac = nsOfDay % GoDuration.second
        if y < 0 { out.append(UInt8(ascii: "-")) }
        let year = abs(y)
        if year > 9999 {
            out.append(contentsOf: String(year).utf8)
        } else {
            appendDigits(year, 4, to: &out)
        }
        out.append(UInt8(ascii: "-")); appendDigits(m, 2, to: &out)
        out.append(UInt8(ascii: "-")); appendDigits(d, 2, to: &out)
        out.append(UInt8(ascii: "T")); appendDigits(secOfDay / 3600, 2, to: &out)
        out.append(UInt8(ascii: ":")); appendDigits((secOfDay / 60) % 60, 2, to: &out)
        out.append(UInt8(ascii: ":")); appendDigits(secOfDay % 60, 2, to: &out)
        if frac != 0 {
            var width = 9
            while frac % 10 == 0 { frac /= 10; width -= 1 }
            out.append(UInt8(ascii: "."))
            appendDigits(frac, width, to: &out)
        }
        out.append(UInt8(ascii: "Z"))
    }

    /// Appends `v` (0 ≤ v < 10^width) in exactly `width` decimal digits.
    private static func appendDigits(_ v: Int64, _ width: Int, to out: inout [UInt8]) {
        var divisor: Int64 = 1
        for _ in 1..<width { divisor *= 10 }
        var v = v
        while divisor > 0 {
            out.append(0x30 + UInt8(v / divisor))
            v %= divisor
            divisor /= 10
        }
    }

    /// Parses `YYYY-MM-DDTHH:MM:SS[.fraction](Z|±HH:MM)`; `nil` when the text is not such a time.
    public static func parse(_ text: String) -> Timestamp? {
        let b = Array(text.utf8)
        var i = 0
        func number(_ n: Int) -> Int64? {
            guard i + n <= b.count else { return nil }
            var v: Int64 = 0
            for k in i..<(i + n) {
                guard b[k] >= 48, b[k] <= 57 else { return nil }
                v = v * 10 + Int64(b[k] - 48)
            }
            i += n
            return v
        }
        func expect(_ c: UInt8...) -> Bool {
            guard i < b.count, c.contains(b[i]) else { return false }
            i += 1
            return true
        }
        guard let y = number(4), expect(45), let mo = number(2), expect(45), let d = number(2),
              expect(84, 116, 32), let h = number(2), expect(58), let mi = number(2), expect(58),
              let s = number(2)
        else { return nil }
        guard (1...12).contains(mo), (1...31).contains(d), h < 24, mi < 60, s < 61 else { return nil }
        var frac: Int64 = 0
        if i < b.count, b[i] == 46 {
            i += 1
            var n = 0
            while i < b.count, b[i] >= 48, b[i] <= 57 {
                if n < 9 { frac = frac * 10 + Int64(b[i] - 48) }
                n += 1
                i += 1
            }
            guard n > 0 else { return nil }
            for _ in n..<max(n, 9) { frac *= 10 }
        }
        var offset: Int64 = 0
        if expect(90, 122) {
            offset = 0
        } else if i < b.count, b[i] == 43 || b[i] == 45 {
            let sign: Int64 = b[i] == 45 ? -1 : 1
            i += 1
            guard let oh = number(2), expect(58), let om = number(2) else { return nil }
            offset = sign * (oh * 3600 + om * 60)
        } else {
            return nil
        }
        guard i == b.count else { return nil }
        let days = days(fromCivil: y, Int(mo), Int(d))
        let seconds = days * 86_400 + h * 3600 + mi * 60 + s - offset
        // Outside the nanosecond range (1677-2262), as Go's UnixNano would wrap: not a time here.
        let (ns, overflow) = seconds.multipliedReportingOverflow(by: GoDuration.second)
        let (time, past) = ns.addingReportingOverflow(frac)
        return overflow || past ? nil : time
    }

    /// Year, month (1–12) and day (1–31) of the day `days` after 1970-01-01 (proleptic Gregorian).
    public static func civil(fromDays days: Int64) -> (year: Int64, month: Int64, day: Int64) {
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365
        let y = yoe + era * 400
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = doy - (153 * mp + 2) / 5 + 1
        let m = mp < 10 ? mp + 3 : mp - 9
        return (m <= 2 ? y + 1 : y, m, d)
    }

    /// Days from 1970-01-01 to the given date (proleptic Gregorian).
    public static func days(fromCivil year: Int64, _ month: Int, _ day: Int) -> Int64 {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let m = Int64(month)
        let doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + Int64(day) - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }

    /// Floor division and the matching non-negative remainder.
    public static func floorDivMod(_ a: Int64, _ b: Int64) -> (Int64, Int64) {
        var q = a / b
        var r = a % b
        if r < 0 { q -= 1; r += b }
        return (q, r)
    }

    private static func pad(_ s: inout String, _ v: Int64, _ width: Int) {
        let digits = String(v)
        if digits.count < width { s += String(repeating: "0", count: width - digits.count) }
        s += digits
    }
}

extension GoDuration {
    /// Rounds `t` down to a multiple of `d` counted from Go's zero time (year 1), as Go's `Time.Truncate`
    /// does; for durations that divide a day this is the same as counting from the Unix epoch.
    public static func truncate(_ t: Timestamp, _ d: Int64) -> Timestamp {
        guard d > 0 else { return t }
        // Nanoseconds from 0001-01-01 to 1970-01-01, modulo d (the product overflows Int64).
        let a = 62_135_596_800 % d, b = second % d
        let offset = d.dividingFullWidth(a.multipliedFullWidth(by: b)).remainder
        let (_, r) = RFC3339Nano.floorDivMod(t % d + offset, d)
        let (down, overflow) = t.subtractingReportingOverflow(r)
        return overflow ? t : down  // only within d of Int64.min, where no multiple of d is below t
    }

    /// Rounds `t` to the nearest multiple of `d` since the Unix epoch (halfway rounds up), as `round()` on `from`.
    public static func round(_ t: Timestamp, _ d: Int64) -> Timestamp {
        guard d > 0 else { return t }
        let down = truncate(t, d)
        guard (t - down) * 2 >= d else { return down }
        let (up, overflow) = down.addingReportingOverflow(d)
        return overflow ? down : up  // within d of Int64.max: the multiple below is the one that exists
    }
}
