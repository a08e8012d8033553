import Foundation
import TockModel

/// Time stamps as Telegraf's parsers read them (`internal.ParseTimestamp`): `unix`, `unix_ms`, `unix_us`, `unix_ns`
/// (a number, or a string holding one), or a Go reference-time layout (`2006-01-02T15:04:05Z07:00`) or its name
/// (`RFC3339`, `RFC1123Z`…).
enum GoTime {
    struct Failure: Error { var message: String }

    static let namedLayouts: [String: String] = [
        "ANSIC": "Mon Jan _2 15:04:05 2006",
        "UnixDate": "Mon Jan _2 15:04:05 MST 2006",
        "RubyDate": "Mon Jan 02 15:04:05 -0700 2006",
        "RFC822": "02 Jan 06 15:04 MST",
        "RFC822Z": "02 Jan 06 15:04 -0700",
        "RFC850": "Monday, 02-Jan-06 15:04:05 MST",
        "RFC1123": "Mon, 02 Jan 2006 15:04:05 MST",
        "RFC1123Z": "Mon, 02 Jan 2006 15:04:05 -0700",
        "RFC3339": "2006-01-02T15:04:05Z07:00",
        "RFC3339Nano": "2006-01-02T15:04:05.999999999Z07:00",
        "Stamp": "Jan _2 15:04:05",
        "StampMilli": "Jan _2 15:04:05.000",
        "StampMicro": "Jan _2 15:04:05.000000",
        "StampNano": "Jan _2 15:04:05.000000000",
        "DateTime": "2006-01-02 15:04:05",
        "DateOnly": "2006-01-02",
        "TimeOnly": "15:04:05",
    ]

    static func isUnixFormat(_ format: String) -> Bool { ["unix", "unix_ms", "unix_us", "unix_ns"].contains(format) }

    /// The layout a format names, or the format itself; empty when it holds no layout element at all.
    static func layout(named format: String) -> String {
        let layout = namedLayouts[format] ?? format
        return tokens(layout).contains { if case .literal = $0 { return false } else { return true } } ? layout : ""
    }

    static func zone(_ name: String) -> TimeZone? {
        switch name {
        case "", "UTC": TimeZone(identifier: "UTC")
        case "Local": TimeZone.current
        default: TimeZone(identifier: name)
        }
    }

    /// The nanoseconds since the epoch that `value` (a JSON number or string) stands for in `format`.
    static func timestamp(_ value: JSONValue, format: String, zone: TimeZone) throws(Failure) -> Timestamp {
        if isUnixFormat(format) {
            let number: Double
            switch value {
            case .number(let d): number = d
            case .string(let s):
                guard let d = Double(s.trimmingCharacters(in: .whitespaces)) else { throw Failure(message: "\"\(s)\" is not a number") }
                number = d
            default: throw Failure(message: "the time is neither a number nor a string")
            }
            let scale: Int64 = switch format {
            case "unix": 1_000_000_000
            case "unix_ms": 1_000_000
            case "unix_us": 1_000
            default: 1
            }
            guard number.isFinite, abs(number * Double(scale)) < 9.2e18 else { throw Failure(message: "\(number) is out of range") }
            // Whole units exactly, then the fraction: a float's 53 bits would blur nanoseconds since 1970.
            let whole = number.rounded(.towardZero)
            if abs(whole) < 9e15 {
                return Int64(whole) * scale + Int64(((number - whole) * Double(scale)).rounded())
            }
            return Timestamp((number * Double(scale)).rounded())
        }
        guard case .string(let text) = value else { throw Failure(message: "a time in layout \"\(format)\" must be a string") }
        return try parse(text, layout: layout(named: format), zone: zone)
    }

    enum Token: Equatable {
        case literal(String)
        case year4, year2, month2, month1, monthShort, monthLong, day2, day1, daySpace, weekdayShort, weekdayLong
        case hour24, hour12Pad, hour12, minute2, minute1, second2, second1, pmUpper, pmLower
        /// `.000` (exactly n digits) or `.999` (up to n digits).
        case fraction(digits: Int, exact: Bool)
        case zoneName, zoneZColon, zoneZ, zoneZHour, zoneColon, zoneNoColon, zoneHour
    }

    /// Splits a Go layout into its elements, longest first, as Go's `nextStdChunk` does.
    static func tokens(_ layout: String) -> [Token] {
        let table: [(String, Token)] = [
            ("January", .monthLong), ("Monday", .weekdayLong), ("2006", .year4), ("Z07:00", .zoneZColon), ("-07:00", .zoneColon),
            ("Z0700", .zoneZ), ("-0700", .zoneNoColon), ("Jan", .monthShort), ("Mon", .weekdayShort), ("MST", .zoneName),
            ("Z07", .zoneZHour), ("-07", .zoneHour), ("01", .month2), ("02", .day2), ("_2", .daySpace), ("03", .hour12Pad),
            ("04", .minute2), ("05", .second2), ("06", .year2), ("15", .hour24), ("PM", .pmUpper), ("pm", .pmLower),
            ("1", .month1), ("2", .day1), ("3", .hour12), ("4", .minute1), ("5", .second1),
        ]
        var result: [Token] = []
        var rest = Substring(layout)
        var literal = ""
        func flush() { if !literal.isEmpty { result.append(.literal(literal)); literal = "" } }
        outer: while !rest.isEmpty {
            if (rest.first == "." || rest.first == ","), let digit = rest.dropFirst().first, digit == "0" || digit == "9" {
                let run = rest.dropFirst().prefix { $0 == digit }
                let after = rest.dropFirst(1 + run.count).first
                // Go reads a fraction only when no other digit follows it.
                if after == nil || !after!.isNumber {
                    flush()
                    result.append(.fraction(digits: run.count, exact: digit == "0"))
                    rest = rest.dropFirst(1 + run.count)
                    continue
                }
            }
            for (text, token) in table where rest.hasPrefix(text) {
                flush()
                result.append(token)
                rest = rest.dropFirst(text.count)
                continue outer
            }
            literal.append(rest.removeFirst())
        }
        flush()
        return result
    }

    static let months = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December"]
    static let weekdays = ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"]

    /// Parses `text` against a Go layout; a time without a zone is in `zone`.
    static func parse(_ text: String, layout: String, zone: TimeZone) throws(Failure) -> Timestamp {
        var input = Substring(text)
        var year = 1970, month = 1, day = 1, hour = 0, minute = 0, second = 0, nanos = 0
        var pm: Bool?
        var offset: Int?
        func fail() -> Failure { Failure(message: "cannot parse \"\(text)\" as \"\(layout)\"") }
        func number(_ min: Int, _ max: Int) throws(Failure) -> Int {
            let digits = input.prefix(max).prefix { $0.isASCII && $0.isNumber }
            guard digits.count >= min, let n = Int(digits) else { throw fail() }
            input = input.dropFirst(digits.count)
            return n
        }
        func fraction() throws(Failure) -> Int {
            let run = input.prefix { $0.isASCII && $0.isNumber }
            guard !run.isEmpty else { throw fail() }
            input = input.dropFirst(run.count)
            let padded = String((run + "000000000").prefix(9))
            return Int(padded) ?? 0
        }
        func word(_ names: [String], short: Bool) throws(Failure) -> Int {
            for (i, name) in names.enumerated() {
                let candidate = short ? String(name.prefix(3)) : name
                if input.lowercased().hasPrefix(candidate.lowercased()) {
                    input = input.dropFirst(candidate.count)
                    return i
                }
            }
            throw fail()
        }
        func signedOffset(colon: Bool, minutes: Bool) throws(Failure) -> Int {
            guard let sign = input.first, sign == "+" || sign == "-" else { throw fail() }
            input = input.dropFirst()
            let h = try number(2, 2)
            var m = 0
            if minutes {
                if colon { guard input.first == ":" else { throw fail() }; input = input.dropFirst() }
                m = try number(2, 2)
            }
            return (sign == "-" ? -1 : 1) * (h * 3600 + m * 60)
        }
        let tokens = Self.tokens(layout)
        for (index, token) in tokens.enumerated() {
            switch token {
            case .literal(let literal):
                guard input.hasPrefix(literal) else { throw fail() }
                input = input.dropFirst(literal.count)
            case .year4: year = try number(4, 4)
            case .year2:
                let y = try number(2, 2)
                year = y >= 69 ? 1900 + y : 2000 + y
            case .month2: month = try number(2, 2)
            case .month1: month = try number(1, 2)
            case .monthShort: month = try word(months, short: true) + 1
            case .monthLong: month = try word(months, short: false) + 1
            case .day2: day = try number(2, 2)
            case .day1: day = try number(1, 2)
            case .daySpace:
                if input.first == " " { input = input.dropFirst() }
                day = try number(1, 2)
            case .weekdayShort: _ = try word(weekdays, short: true)
            case .weekdayLong: _ = try word(weekdays, short: false)
            case .hour24: hour = try number(2, 2)
            case .hour12Pad: hour = try number(2, 2)
            case .hour12: hour = try number(1, 2)
            case .minute2: minute = try number(2, 2)
            case .minute1: minute = try number(1, 2)
            case .second2, .second1:
                second = try token == .second2 ? number(2, 2) : number(1, 2)
                // Go accepts a fraction after the seconds even when the layout has none.
                let next = index + 1 < tokens.count ? tokens[index + 1] : nil
                if case .fraction? = next { break }
                if let sep = input.first, sep == "." || sep == ",", let d = input.dropFirst().first, d.isASCII, d.isNumber {
                    input = input.dropFirst()
                    nanos = try fraction()
                }
            case .fraction(let digits, let exact):
                if exact {
                    guard let sep = input.first, sep == "." || sep == "," else { throw fail() }
                    input = input.dropFirst()
                    let run = input.prefix { $0.isASCII && $0.isNumber }
                    guard run.count == digits else { throw fail() }
                    nanos = try fraction()
                } else if let sep = input.first, sep == "." || sep == "," {
                    input = input.dropFirst()
                    nanos = try fraction()
                }
            case .pmUpper, .pmLower:
                let marker = input.prefix(2).uppercased()
                guard marker == "AM" || marker == "PM" else { throw fail() }
                pm = marker == "PM"
                input = input.dropFirst(2)
            case .zoneName:
                let name = input.prefix { $0.isLetter || $0 == "+" || $0 == "-" || $0.isNumber }
                guard name.count >= 3 else { throw fail() }
                input = input.dropFirst(name.count)
                if name == "UTC" || name == "GMT" || name == "Z" { offset = 0 }
                else if let known = TimeZone(abbreviation: String(name)) { offset = known.secondsFromGMT() }
            case .zoneZColon, .zoneZ, .zoneZHour:
                if input.first == "Z" { input = input.dropFirst(); offset = 0 }
                else { offset = try signedOffset(colon: token == .zoneZColon, minutes: token != .zoneZHour) }
            case .zoneColon: offset = try signedOffset(colon: true, minutes: true)
            case .zoneNoColon: offset = try signedOffset(colon: false, minutes: true)
            case .zoneHour: offset = try signedOffset(colon: false, minutes: false)
            }
        }
        guard input.isEmpty else { throw Failure(message: "cannot parse \"\(text)\" as \"\(layout)\": extra text \"\(input)\"") }
        if let pm {
            guard (1...12).contains(hour) else { throw fail() }
            hour = hour % 12 + (pm ? 12 : 0)
        }
        guard (1...12).contains(month), (1...31).contains(day), hour < 24, minute < 60, second < 61 else {
            throw Failure(message: "\"\(text)\": a value is out of range")
        }
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = offset.flatMap { TimeZone(secondsFromGMT: $0) } ?? zone
        guard let date = calendar.date(from: DateComponents(year: year, month: month, day: day, hour: hour, minute: minute, second: second)),
              calendar.component(.day, from: date) == day else {
            throw Failure(message: "\"\(text)\": day out of range")
        }
        return Timestamp(date.timeIntervalSince1970.rounded()) * 1_000_000_000 + Timestamp(nanos)

    }
}
