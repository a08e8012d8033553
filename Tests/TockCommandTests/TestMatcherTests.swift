@testable import tock
import Engine
import Foundation
import Server
import Testing
import TockModel

/// `tock test`'s comparison of expected and actual influxDBOut writes, alerts and series, on values made here.
@Suite("tock test: the matcher")
struct TestMatcherTests {
    func location() -> TestLocation { TestLocation(file: "t.yaml", line: 1, column: 1, path: "") }

    func write(_ fields: Fields, tags: Tags = ["host": "a"], time: Timestamp = 1_000_000_000) -> (InfluxWrite, Point) {
        let p = Point(name: "cpu_copy", tags: tags, fields: fields, time: time, database: "", retentionPolicy: "")
        return (InfluxWrite(database: "copies", retentionPolicy: "week", points: [p]), p)
    }

    func expected(_ fields: [(String, TestValue)], tags: [(String, String)] = [("host", "a")], time: Timestamp? = 1_000_000_000,
                  database: String? = "copies") -> ExpectedWrite {
        ExpectedWrite(database: database, retentionPolicy: "week", measurement: "cpu_copy", tags: tags, fields: fields,
                      time: time, location: location())
    }

    @Test func aWriteThatMatchesHasNoDifferences() {
        let (w, p) = write(["used": .double(75.0000001), "count": .int(3)])
        let matcher = TestMatcher(expect: Expectations(tolerance: 1e-6))
        #expect(matcher.writeDifferences(expected([("used", .number(75)), ("count", .number(3))]), w, p).isEmpty)
    }

    @Test func eachDifferenceOfAWriteIsNamed() {
        let (w, p) = write(["used": .double(75), "extra": .string("x")], tags: ["host": "b"], time: 2_000_000_000)
        let matcher = TestMatcher(expect: Expectations(tolerance: 0.01))
        let differences = matcher.writeDifferences(
            expected([("used", .number(74)), ("missing", .bool(true))], database: "other"), w, p)
        #expect(differences == [
            "database is \"copies\", expected \"other\"",
            "tags are {host=b}, expected {host=a}",
            "field used is 75.0, expected 74 (tolerance 0.01)",
            "field missing is absent, expected true",
            "unexpected field extra=\"x\"",
            "time is 1970-01-01T00:00:02Z, expected 1970-01-01T00:00:01Z",
        ])
    }

    @Test func numbersMatchWithinTheToleranceAndTimesByInstant() throws {
        let matcher = TestMatcher(expect: Expectations(tolerance: 0.5))
        #expect(matcher.matches(.number(10), JSON.double(10.4)))
        #expect(!matcher.matches(.number(10), JSON.double(10.6)))
        #expect(matcher.matches(.string("2016-01-01T00:00:00Z"), JSON.string("2016-01-01T00:00:00.000Z")))
        #expect(!matcher.matches(.string("10"), JSON.int(10)))
        #expect(!matcher.matches(.bool(true), JSON.string("true")))
    }

    @Test func anAlertIsComparedByItsGivenPartsOnly() throws {
        let json = try JSON.parse(Array("""
            {"id":"cpu:a","message":"cpu:a is CRITICAL","time":"2016-01-01T00:00:20Z","level":"CRITICAL",
             "data":{"series":[{"name":"cpu","tags":{"host":"a"},"columns":["time","used"],"values":[["2016-01-01T00:00:20Z",95]]}]}}
            """.utf8))
        let matcher = TestMatcher(expect: Expectations())
        var e = AlertExpectation(location: location())
        e.level = "CRITICAL"
        #expect(matcher.alertDifferences(e, json).isEmpty)
        e.message = "WARNING"
        e.fields = [("used", .number(90)), ("idle", .number(5))]
        e.tags = [("host", "b")]
        #expect(matcher.alertDifferences(e, json) == [
            "message \"cpu:a is CRITICAL\" does not contain \"WARNING\"",
            "tag host is \"a\", expected \"b\"",
            "field used is 95, expected 90 (tolerance 1e-09)",
            "field idle is absent (the alert's data has time, used), expected 5",
        ])
    }
}
