import TockModel

/// Go's `time.Time.Format(layout)` for a UTC time: the reference time `Mon Jan 2 15:04:05 MST 2006`
/// spelled as wanted (`2006-01-02 15:04:05`, `Jan _2 3:04PM`, `2006-01-02T15:04:05.000Z07:00`).
enum GoTimeFormat {
    private static let months = ["January", "February", "March", "April", "May", "June", "July",
                                 "August", "September", "October", "November", "December"]
    private static let weekdays = ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"]

    static func format(_ t: Timestamp, layout: String) -> String {
        let (days, nsOfDay) = RFC3339Nano.floorDivMod(t, 86_400 * GoDuration.second)
        let (year, month, day) = RFC3339Nano.civil(fromDays: days)
        let seconds = nsOfDay / GoDuration.second
        let nanos = nsOfDay % GoDuration.second
        let hour = seconds / 3600, minute = (seconds / 60) % 60, second = seconds % 60
        let weekday = Int(RFC3339Nano.floorDivMod(days + 4, 7).1)  // 1970-01-01 was a Thursday
        let yearDay = days - RFC3339Nano.days(fromCivil: year, 1, 1) + 1

        func pad(_ v: Int64, _ w: Int, _ fill: Character = "0") -> String {
            let s = String(v)
            return String(repeating: fill, count: max(0, w - s.count)) + s
        }
        let l = Array(layout)
        var out = ""
        var i = 0
        func has(_ token: String) -> Bool {
            let t = Array(token)
            return i + t.count <= l.count && Array(l[i..<(i + t.count)]) == t
        }
        func take(_ token: String, _ text: String) -> Bool {
            guard has(token) else { return false }
            i += token.count
            out += text
            return true
        }
        let hour12 = hour % 12 == 0 ? 12 : hour % 12
        while i < l.count {
            let c = l[i]
            switch c {
            case "J":
                if take("January", months[Int(month) - 1]) || take("Jan", String(months[Int(month) - 1].prefix(3))) { continue }
            case "M":
                if take("Monday", weekdays[weekday]) || take("Mon", String(weekdays[weekday].prefix(3))) || take("MST", "UTC") { continue }
            case "0":
                if take("002", pad(yearDay, 3)) || take("01", pad(month, 2)) || take("02", pad(day, 2))
                    || take("03", pad(hour12, 2)) || take("04", pad(minute, 2)) || take("05", pad(second, 2))
                    || take("06", pad(year % 100, 2)) { continue }
            case "1":
                if take("15", pad(hour, 2)) || take("1", String(month)) { continue }
            case "2":
                if take("2006", pad(year, 4)) || take("2", String(day)) { continue }
            case "_":
                if has("_2006") { out += "_"; i += 1; continue }
                if take("__2", pad(yearDay, 3, " ")) || take("_2", pad(day, 2, " ")) { continue }
            case "3":
                if take("3", String(hour12)) { continue }
            case "4":
                if take("4", String(minute)) { continue }
            case "5":
                if take("5", String(second)) { continue }
            case "P":
                if take("PM", hour >= 12 ? "PM" : "AM") { continue }
            case "p":
                if take("pm", hour >= 12 ? "pm" : "am") { continue }
            case "-":
                if take("-070000", "+000000") || take("-07:00:00", "+00:00:00") || take("-0700", "+0000")
                    || take("-07:00", "+00:00") || take("-07", "+00") { continue }
            case "Z":
                if take("Z070000", "Z") || take("Z07:00:00", "Z") || take("Z0700", "Z") || take("Z07:00", "Z") || take("Z07", "Z") { continue }
            case ".", ",":
                if i + 1 < l.count, l[i + 1] == "0" || l[i + 1] == "9" {
                    let digit = l[i + 1]
                    var j = i + 1
                    while j < l.count && l[j] == digit { j += 1 }
                    if j >= l.count || !l[j].isNumber {
                        let n = j - i - 1
                        var frac = String(pad(nanos, 9).prefix(n))
                        if digit == "9" {
                            while frac.last == "0" { frac.removeLast() }
                            out += frac.isEmpty ? "" : String(c) + frac
                        } else {
                            out += String(c) + frac
                        }
                        i = j
                        continue
                    }
                }
            default:
                break
            }
            out.append(c)
            i += 1
        }
        return out
    }
}
