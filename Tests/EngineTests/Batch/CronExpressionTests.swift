import Testing
import TockModel
@testable import Engine

/// `query().cron()`: the gorhill/cronexpr syntax and its next times (cases from cronexpr_test.go), in UTC.
@Suite struct CronExpressionTests {
    /// `yyyy-mm-dd hh:mm:ss` as a timestamp.
    func at(_ s: String) -> Timestamp { RFC3339Nano.parse(s.replacingOccurrences(of: " ", with: "T") + "Z")! }

    func next(_ expr: String, _ from: String) throws -> String? {
        try CronExpression(expr).next(after: at(from)).map { RFC3339Nano.format($0) }
    }

    @Test(arguments: [
        ("* * * * * * *", "2013-01-01 00:00:59", "2013-01-01T00:01:00Z"),
        ("* * * * * * *", "2016-02-28 23:59:59", "2016-02-29T00:00:00Z"),
        ("*/5 * * * * * *", "2013-01-01 00:00:00", "2013-01-01T00:00:05Z"),
        ("* * * * *", "2013-01-01 00:00:00", "2013-01-01T00:01:00Z"),
        ("* * * * *", "2012-12-31 23:59:00", "2013-01-01T00:00:00Z"),
        ("17-43/5 * * * *", "2013-01-01 00:30:00", "2013-01-01T00:32:00Z"),
        ("17-43/5 * * * *", "2013-01-01 00:50:00", "2013-01-01T01:17:00Z"),
        ("15-30/4,55 * * * *", "2013-01-01 00:16:00", "2013-01-01T00:19:00Z"),
        ("15-30/4,55 * * * *", "2012-12-31 23:55:00", "2013-01-01T00:15:00Z"),
        ("0 0 * * MON", "2013-01-28 00:00:00", "2013-02-04T00:00:00Z"),
        ("0 0 * * friday", "2013-12-30 00:30:00", "2014-01-03T00:00:00Z"),
        ("0 0 * * 6,7", "2013-01-01 00:00:00", "2013-01-05T00:00:00Z"),
        ("0 0 * * 6#5", "2013-09-02 00:00:00", "2013-11-30T00:00:00Z"),
        ("0 0 14W * *", "2013-03-31 00:00:00", "2013-04-15T00:00:00Z"),
        ("0 0 14W * *", "2013-08-31 00:00:00", "2013-09-13T00:00:00Z"),
        ("0 0 30W * *", "2013-03-02 00:00:00", "2013-03-29T00:00:00Z"),
        ("0 0 30W * *", "2013-09-02 00:00:00", "2013-09-30T00:00:00Z"),
        ("0 0 L * *", "2016-02-15 00:00:00", "2016-02-29T00:00:00Z"),
        ("0 0 LW * *", "2013-11-02 00:00:00", "2013-11-29T00:00:00Z"),
        ("0 0 29 2 *", "2013-08-29 09:28:00", "2016-02-29T00:00:00Z"),
        ("0 0 * * 5L", "2013-09-02 00:00:00", "2013-09-27T00:00:00Z"),
        ("@daily", "2013-09-02 08:44:30", "2013-09-03T00:00:00Z"),
        ("@hourly", "2013-09-02 08:44:30", "2013-09-02T09:00:00Z"),
        ("@weekly", "2013-09-02 08:44:30", "2013-09-08T00:00:00Z"),
        ("*/5 * * * *", "2013-09-02 08:44:32", "2013-09-02T08:45:00Z"),
    ])
    func nextTimes(expr: String, from: String, expected: String) throws {
        #expect(try next(expr, from) == expected)
    }

    @Test func bothDayFieldsRestrictedMeansEitherMatches() throws {
        // The 13th, or any Friday: 2013-09-06 is a Friday before the 13th.
        #expect(try next("0 0 13 * 5", "2013-09-01 00:00:00") == "2013-09-06T00:00:00Z")
    }

    @Test func successiveTimesOfAFiveMinuteSchedule() throws {
        let expr = try CronExpression("*/5 * * * *")
        var t = at("2013-09-02 08:44:32")
        var times: [String] = []
        for _ in 0..<5 {
            t = expr.next(after: t)!
            times.append(RFC3339Nano.format(t))
        }
        #expect(times == ["2013-09-02T08:45:00Z", "2013-09-02T08:50:00Z", "2013-09-02T08:55:00Z",
                          "2013-09-02T09:00:00Z", "2013-09-02T09:05:00Z"])
    }

    @Test func schedulesThatNeverFireAgainHaveNoNextTime() throws {
        #expect(try next("* * * * * 1980", "2013-08-31 00:00:00") == nil)
        #expect(try next("* * * * * 2050", "2013-08-31 00:00:00") == "2050-01-01T00:00:00Z")
        #expect(try next("0 0 30 2 *", "2013-08-31 00:00:00") == nil)
    }

    @Test func malformedExpressionsSayWhichField() {
        #expect(throws: CronError("cron expression \"* * *\" has 3 fields; it needs 5, 6 or 7")) { try CronExpression("* * *") }
        #expect(throws: CronError("syntax error in hour field: '24'")) { try CronExpression("0 24 * * *") }
        #expect(throws: CronError("syntax error in day-of-month field: '0'")) { try CronExpression("0 0 0 * *") }
        #expect(throws: CronError("invalid interval */0 in the minute field")) { try CronExpression("*/0 * * * *") }
        #expect(throws: CronError("syntax error in day-of-week field: '8'")) { try CronExpression("0 0 * * 8") }
        #expect(throws: CronError("syntax error in month field: 'foo'")) { try CronExpression("0 0 * foo *") }
    }
}
