import TockModel

/// A cron schedule as Kapacitor's `query().cron()` reads it (the gorhill/cronexpr syntax).
///
/// Five fields are `minute hour day-of-month month day-of-week` (seconds 0, any year); six add the year at the end;
/// seven put the seconds first (`second minute hour day-of-month month day-of-week year`). Each field takes `*` or
/// `?`, values, ranges `a-b`, steps `*/n`, `a/n`, `a-b/n` and comma lists; months and days of the week take names
/// (`jan`, `monday`), day-of-week 7 is Sunday; day-of-month takes `L` (last day), `LW` (last weekday) and `15W`
/// (the weekday nearest the 15th, not leaving the month); day-of-week takes `5L` (last Friday) and `5#3` (third
/// Friday). When both day fields are restricted a day matching either runs, as crontab does. `@yearly`,
/// `@annually`, `@monthly`, `@weekly`, `@daily` and `@hourly` are shorthands. Years run 1970–2099.
///
/// Times are computed in UTC (Kapacitor uses the host's local zone; Tock's daemons run in UTC).
public struct CronExpression: Sendable, Hashable {
    var seconds: Set<Int>
    var minutes: Set<Int>
    var hours: Set<Int>
    var months: Set<Int>
    var years: Set<Int>
    var daysOfMonth: Set<Int> = []
    var workdaysOfMonth: Set<Int> = []
    var lastDayOfMonth = false
    var lastWorkdayOfMonth = false
    var domRestricted = true
    var daysOfWeek: Set<Int> = []
    /// `5#3`: (week - 1) * 7 + weekday.
    var specificWeekdays: Set<Int> = []
    var lastWeekdays: Set<Int> = []
    var dowRestricted = true

    /// The text as written.
    public let text: String

    /// Parses a cron expression; the error says which field is wrong.
    public init(_ text: String) throws(CronError) {
        self.text = text
        var normalized = text.trimmingSpaces
        let shorthands = ["@yearly": "0 0 0 1 1 * *", "@annually": "0 0 0 1 1 * *", "@monthly": "0 0 0 1 * * *",
                          "@weekly": "0 0 0 * * 0 *", "@daily": "0 0 0 * * * *", "@hourly": "0 0 * * * * *"]
        if let s = shorthands[normalized.lowercased()] { normalized = s }
        var fields = normalized.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\n" }).map(String.init)
        switch fields.count {
        case 5: fields = ["0"] + fields + ["*"]
        case 6: fields = ["0"] + fields
        case 7: break
        default:
            throw CronError("cron expression \"\(text)\" has \(fields.count) fields; it needs 5, 6 or 7")
        }
        seconds = try Self.generic(fields[0], .second)
        minutes = try Self.generic(fields[1], .minute)
        hours = try Self.generic(fields[2], .hour)
        months = try Self.generic(fields[4], .month)
        years = try Self.generic(fields[6], .year)
        try parseDaysOfMonth(fields[3])
        try parseDaysOfWeek(fields[5])
    }

    /// The first time after `t` (strictly) the schedule fires, on a whole second; `nil` when it never fires again
    /// (past 2099, or a date that does not exist such as 30 February).
    public func next(after t: Timestamp) -> Timestamp? {
        let second = GoDuration.second
        var (day, secondOfDay) = RFC3339Nano.floorDivMod(t, 86_400 * second)
        // The first whole second strictly after t.
        secondOfDay = secondOfDay / second + 1
        let sortedSeconds = seconds.sorted(), sortedMinutes = minutes.sorted(), sortedHours = hours.sorted()
        while true {
            let (y, m, _) = RFC3339Nano.civil(fromDays: day)
            if y > 2099 { return nil }
            if !years.contains(Int(y)) || !months.contains(Int(m)) {
                // Skip to the first day of the next month.
                let (ny, nm) = m == 12 ? (y + 1, 1) : (y, Int(m) + 1)
                day = RFC3339Nano.days(fromCivil: ny, nm, 1)
                secondOfDay = 0
                continue
            }
            if matchesDay(day) {
                if let s = Self.firstTime(atOrAfter: secondOfDay, sortedHours, sortedMinutes, sortedSeconds) {
                    return (day * 86_400 + Int64(s)) * second
                }
            }
            day += 1
            secondOfDay = 0
        }
    }

    /// The first second of the day at or after `from` whose hour, minute and second all match.
    private static func firstTime(atOrAfter from: Int64, _ hours: [Int], _ minutes: [Int], _ seconds: [Int]) -> Int? {
        for h in hours where (h + 1) * 3600 > from {
            for mi in minutes where h * 3600 + (mi + 1) * 60 > from {
                for s in seconds where h * 3600 + mi * 60 + s >= from {
                    return h * 3600 + mi * 60 + s
                }
            }
        }
        return nil
    }

    private func matchesDay(_ day: Int64) -> Bool {
        if !domRestricted && !dowRestricted { return true }
        let (y, m, d) = RFC3339Nano.civil(fromDays: day)
        let dom = Int(d)
        let first = RFC3339Nano.days(fromCivil: y, Int(m), 1)
        let next = m == 12 ? RFC3339Nano.days(fromCivil: y + 1, 1, 1) : RFC3339Nano.days(fromCivil: y, Int(m) + 1, 1)
        let lastDom = Int(next - first)
        if domRestricted {
            if daysOfMonth.contains(dom) { return true }
            if lastDayOfMonth && dom == lastDom { return true }
            if lastWorkdayOfMonth && dom == Self.workday(lastDom, first: first, last: lastDom) { return true }
            for w in workdaysOfMonth where w <= lastDom && Self.workday(w, first: first, last: lastDom) == dom { return true }
        }
        if dowRestricted {
            let weekday = Self.weekday(day)
            if daysOfWeek.contains(weekday) { return true }
            if specificWeekdays.contains((dom - 1) / 7 * 7 + weekday) { return true }
            if lastWeekdays.contains(weekday) && dom + 7 > lastDom { return true }
        }
        return false
    }

    /// 0 = Sunday; 1970-01-01 was a Thursday.
    static func weekday(_ day: Int64) -> Int { Int(RFC3339Nano.floorDivMod(day + 4, 7).1) }

    /// The weekday nearest day `dom` of the month that starts on day `first`, not leaving the month.
    static func workday(_ dom: Int, first: Int64, last: Int) -> Int {
        switch weekday(first + Int64(dom - 1)) {
        case 6: return dom > 1 ? dom - 1 : dom + 2
        case 0: return dom < last ? dom + 1 : dom - 2
        default: return dom
        }
    }

    // MARK: Parsing

    enum Field: String {
        case second, minute, hour, dayOfMonth = "day-of-month", month, dayOfWeek = "day-of-week", year

        var range: ClosedRange<Int> {
            switch self {
            case .second, .minute: 0...59
            case .hour: 0...23
            case .dayOfMonth: 1...31
            case .month: 1...12
            case .dayOfWeek: 0...6
            case .year: 1970...2099
            }
        }

        func value(_ token: String) -> Int? {
            switch self {
            case .month:
                let names = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"]
                let full = ["january", "february", "march", "april", "may", "june", "july", "august", "september",
                            "october", "november", "december"]
                if let i = names.firstIndex(of: token) ?? full.firstIndex(of: token) { return i + 1 }
            case .dayOfWeek:
                let names = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"]
                let full = ["sunday", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday"]
                if let i = names.firstIndex(of: token) ?? full.firstIndex(of: token) { return i }
                if token == "7" || token == "07" { return 7 }
            default: break
            }
            guard !token.isEmpty, token.count <= 4, token.allSatisfy({ $0.isASCII && $0.isNumber }), let v = Int(token),
                  range.contains(v) else { return nil }
            if self != .year && token.count > 2 { return nil }
            return v
        }
    }

    /// The values of one entry of a list (`*`, `5`, `1-5`, `*/15`, `5/10`, `1-30/2`), or `nil` when it is none of those.
    private static func entry(_ raw: String, _ field: Field) throws(CronError) -> (values: [Int], all: Bool)? {
        let s = raw.lowercased()
        if s == "*" || s == "?" { return (Array(field.range), true) }
        var base = s
        var step = 1
        if let slash = s.firstIndex(of: "/") {
            base = String(s[..<slash])
            guard let n = Int(s[s.index(after: slash)...]), n >= 1, n <= field.range.upperBound else {
                throw CronError("invalid interval \(s) in the \(field.rawValue) field")
            }
            step = n
        }
        let first: Int, last: Int
        if base == "*" {
            (first, last) = (field.range.lowerBound, field.range.upperBound)
        } else if let dash = base.firstIndex(of: "-") {
            guard let a = field.value(String(base[..<dash])), let b = field.value(String(base[base.index(after: dash)...])) else { return nil }
            (first, last) = (a, b)
        } else {
            guard let a = field.value(base) else { return nil }
            (first, last) = (a, s.contains("/") ? field.range.upperBound : a)
        }
        guard first <= last else { return ([], false) }
        return (Array(stride(from: first, through: last, by: step)), false)
    }

    private static func entries(_ s: String, _ field: Field) throws(CronError) -> [String] {
        let items = s.split(separator: ",").map(String.init)
        if items.isEmpty { throw CronError("\(field.rawValue) field: missing directive") }
        return items
    }

    private static func generic(_ s: String, _ field: Field) throws(CronError) -> Set<Int> {
        var values = Set<Int>()
        for item in try entries(s, field) {
            guard let e = try entry(item, field) else {
                throw CronError("syntax error in \(field.rawValue) field: '\(item)'")
            }
            values.formUnion(e.values)
        }
        return values
    }

    private mutating func parseDaysOfMonth(_ s: String) throws(CronError) {
        for item in try Self.entries(s, .dayOfMonth) {
            if let e = try Self.entry(item, .dayOfMonth) {
                daysOfMonth.formUnion(e.values)
                if e.all { domRestricted = false }
                continue
            }
            let lower = item.lowercased()
            if lower == "l" {
                lastDayOfMonth = true
            } else if lower == "lw" {
                lastWorkdayOfMonth = true
            } else if lower.hasSuffix("w"), let d = Field.dayOfMonth.value(String(lower.dropLast())) {
                workdaysOfMonth.insert(d)
            } else {
                throw CronError("syntax error in day-of-month field: '\(item)'")
            }
        }
    }

    private mutating func parseDaysOfWeek(_ s: String) throws(CronError) {
        for item in try Self.entries(s, .dayOfWeek) {
            // Day-of-week 7 is Sunday (ranges may end at it).
            if let e = try Self.entry(item, .dayOfWeek) {
                daysOfWeek.formUnion(e.values.map { $0 % 7 })
                if e.all { dowRestricted = false }
                continue
            }
            let lower = item.lowercased()
            if lower.hasSuffix("l"), let d = Field.dayOfWeek.value(String(lower.dropLast())) {
                lastWeekdays.insert(d % 7)
            } else if let hash = lower.firstIndex(of: "#"), let d = Field.dayOfWeek.value(String(lower[..<hash])),
                      let week = Int(lower[lower.index(after: hash)...]), (1...5).contains(week) {
                specificWeekdays.insert((week - 1) * 7 + d % 7)
            } else {
                throw CronError("syntax error in day-of-week field: '\(item)'")
            }
        }
    }
}

/// A cron expression that does not parse.
public struct CronError: Error, Sendable, Hashable, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

extension String {
    var trimmingSpaces: String {
        var s = Substring(self)
        while let c = s.first, c.isWhitespace { s.removeFirst() }
        while let c = s.last, c.isWhitespace { s.removeLast() }
        return String(s)
    }
}
