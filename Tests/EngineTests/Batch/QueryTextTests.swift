import Testing
import TICKScript
import TockModel
@testable import Engine

/// The InfluxQL a `query()` node sends: the user's statement with the time bounds, `GROUP BY` and `fill` Kapacitor
/// adds (`query.go`: `NewQuery`, `Dimensions`, `Fill`, `SetStartTime`/`SetStopTime`).
@Suite struct QueryTextTests {
    func text(_ properties: String, query: String = "SELECT mean(usage) FROM telegraf.autogen.cpu",
              start: Int64 = 0, stop: Int64 = 60) throws -> String {
        try plan("batch|query('''\(query) ''')\(properties)").query(start: t(start), stop: t(stop)).text
    }

    @Test func timeBoundsAreAddedAsRFC3339Literals() throws {
        #expect(try text(".every(1m)") ==
            "SELECT mean(usage) FROM telegraf.autogen.cpu WHERE time >= '2026-01-01T00:00:00Z' AND time < '2026-01-01T00:01:00Z'")
    }

    @Test func anExistingConditionKeepsItsTextAndGetsTheBoundsAfterIt() throws {
        #expect(try text(".every(1m)", query: "SELECT usage FROM cpu WHERE host = 'serverA' AND dc = 'slc'") ==
            "SELECT usage FROM cpu WHERE host = 'serverA' AND dc = 'slc' AND time >= '2026-01-01T00:00:00Z' AND time < '2026-01-01T00:01:00Z'")
    }

    @Test func aConditionWithATopLevelOrIsParenthesizedSoTheBoundsApplyToAllOfIt() throws {
        #expect(try text(".every(1m)", query: "SELECT usage FROM cpu WHERE host = 'a' OR host = 'b'") ==
            "SELECT usage FROM cpu WHERE (host = 'a' OR host = 'b') AND time >= '2026-01-01T00:00:00Z' AND time < '2026-01-01T00:01:00Z'")
        // An OR inside parentheses is already grouped.
        #expect(try text(".every(1m)", query: "SELECT usage FROM cpu WHERE host = 'a' AND (dc = 'x' OR dc = 'y')") ==
            "SELECT usage FROM cpu WHERE host = 'a' AND (dc = 'x' OR dc = 'y') AND time >= '2026-01-01T00:00:00Z' AND time < '2026-01-01T00:01:00Z'")
    }

    @Test func groupByTagsStarAndTimeAsInfluxQLPrintsThem() throws {
        let bounds = "WHERE time >= '2026-01-01T00:00:00Z' AND time < '2026-01-01T00:01:00Z'"
        #expect(try text(".every(1m).groupBy(time(10s), 'host', 'cpu')") ==
            "SELECT mean(usage) FROM telegraf.autogen.cpu \(bounds) GROUP BY time(10s, 0s), host, cpu")
        #expect(try text(".every(1m).groupBy(*)") == "SELECT mean(usage) FROM telegraf.autogen.cpu \(bounds) GROUP BY *")
        #expect(try text(".every(1m).groupBy(time(1h, 90m), 'region name', 'default')") ==
            "SELECT mean(usage) FROM telegraf.autogen.cpu \(bounds) GROUP BY time(1h, 90m), \"region name\", \"default\"")
        #expect(try text(".every(1m).groupBy(time(1w))") ==
            "SELECT mean(usage) FROM telegraf.autogen.cpu \(bounds) GROUP BY time(1w, 0s)")
    }

    @Test func theUsersGroupByIsReplacedAndTheirOrderByAndLimitKept() throws {
        #expect(try text(".every(1m).groupBy('host')", query: "SELECT usage FROM cpu WHERE a = 1 GROUP BY dc ORDER BY time DESC LIMIT 5") ==
            "SELECT usage FROM cpu WHERE a = 1 AND time >= '2026-01-01T00:00:00Z' AND time < '2026-01-01T00:01:00Z' GROUP BY host ORDER BY time DESC LIMIT 5")
        #expect(try text(".every(1m)", query: "SELECT usage FROM cpu GROUP BY dc") ==
            "SELECT usage FROM cpu WHERE time >= '2026-01-01T00:00:00Z' AND time < '2026-01-01T00:01:00Z'")
    }

    @Test func fillOptions() throws {
        let base = "SELECT mean(usage) FROM telegraf.autogen.cpu WHERE time >= '2026-01-01T00:00:00Z' AND time < '2026-01-01T00:01:00Z' GROUP BY time(10s, 0s)"
        #expect(try text(".every(1m).groupBy(time(10s)).fill('none')") == base + " fill(none)")
        #expect(try text(".every(1m).groupBy(time(10s)).fill('previous')") == base + " fill(previous)")
        #expect(try text(".every(1m).groupBy(time(10s)).fill('linear')") == base + " fill(linear)")
        #expect(try text(".every(1m).groupBy(time(10s)).fill(0)") == base + " fill(0)")
        #expect(try text(".every(1m).groupBy(time(10s)).fill(-1.5)") == base + " fill(-1.5)")
        // null is InfluxQL's default: it prints no fill clause.
        #expect(try text(".every(1m).groupBy(time(10s)).fill('null')") == base)
        // The statement's own fill stays unless the node sets one.
        #expect(try text(".every(1m).groupBy(time(10s))", query: "SELECT mean(usage) FROM telegraf.autogen.cpu fill(3)") == base + " fill(3)")
        #expect(try text(".every(1m).groupBy(time(10s)).fill('none')", query: "SELECT mean(usage) FROM telegraf.autogen.cpu fill(3)") == base + " fill(none)")
    }

    @Test func alignGroupOffsetsTheTimeBucketsToTheQueryStart() throws {
        // start = 00:00:25: 25s mod 1m.
        #expect(try text(".every(1m).alignGroup().groupBy(time(1m))", start: 25, stop: 85) ==
            "SELECT mean(usage) FROM telegraf.autogen.cpu WHERE time >= '2026-01-01T00:00:25Z' AND time < '2026-01-01T00:01:25Z' GROUP BY time(1m, 25s)")
        // Without alignGroup the offset given (or 0s) is used whatever the start.
        #expect(try text(".every(1m).groupBy(time(1m, 5s))", start: 25, stop: 85).hasSuffix("GROUP BY time(1m, 5s)"))
    }

    @Test func fractionalBoundsKeepTheirNanoseconds() throws {
        let p = try plan("batch|query('SELECT x FROM m').every(1s)")
        #expect(p.query(start: t(0) + 500_000_000, stop: t(1) + 1).text ==
            "SELECT x FROM m WHERE time >= '2026-01-01T00:00:00.5Z' AND time < '2026-01-01T00:00:01.000000001Z'")
    }

    @Test func stringsCommentsAndSubqueriesDoNotSplitTheStatement() throws {
        #expect(try text(".every(1m)", query: "SELECT usage FROM cpu WHERE host = 'a group by b' AND r =~ /where|fill/") ==
            "SELECT usage FROM cpu WHERE host = 'a group by b' AND r =~ /where|fill/ AND time >= '2026-01-01T00:00:00Z' AND time < '2026-01-01T00:01:00Z'")
        #expect(try text(".every(1m)", query: "SELECT max(m) FROM (SELECT mean(usage) AS m FROM cpu WHERE x = 1 GROUP BY host)") ==
            "SELECT max(m) FROM (SELECT mean(usage) AS m FROM cpu WHERE x = 1 GROUP BY host) WHERE time >= '2026-01-01T00:00:00Z' AND time < '2026-01-01T00:01:00Z'")
        #expect(try text(".every(1m)", query: "SELECT a / b FROM cpu") ==
            "SELECT a / b FROM cpu WHERE time >= '2026-01-01T00:00:00Z' AND time < '2026-01-01T00:01:00Z'")
    }

    @Test func kapacitorsRefusals() throws {
        // integrations/batcher_test.go TestBatch_InvalidQuery.
        #expect(buildError("batch|query('SELECT value FROM db.rp.m; DROP DATABASE _internal').every(1s)")?.message ==
            "query1: query must be a single select statement, got 2 statements")
        #expect(buildError("batch|query('DROP DATABASE _internal').every(1s)")?.message ==
            "query1: query is not a select statement \"DROP DATABASE _internal\"")
        #expect(buildError("batch|query('SELECT value FROM m WHERE a = \\'x').every(1s)")?.message.hasPrefix(
            "query1: failed to parse InfluxQL query: unterminated string") == true)
        #expect(buildError("batch|query('SELECT value FROM m').every(1s).cron('* * * * *')")?.message ==
            "query1: must not set both 'every' and 'cron' properties")
        #expect(buildError("batch|query('SELECT value FROM m').period(1m)")?.message ==
            "query1: must define one of 'every' or 'cron'")
        #expect(buildError("batch|query('SELECT value FROM m').every(1s).groupBy(time(1s), time(2s))")?.message ==
            "query1: groupBy cannot have more than one time dimension")
        #expect(buildError("batch|query('SELECT value FROM m').every(1s).fill('zero')")?.message ==
            "query1: unexpected fill option zero")
        #expect(buildError("batch|query('SELECT value FROM m').every(1s).groupBy(time(1s, 2s, 3s))")?.message ==
            "time() function expects 1 or 2 args, got 3")
        #expect(buildError("batch|query('SELECT value FROM m').cron('61 * * * *')")?.message ==
            "query1: syntax error in minute field: '61'")
        #expect(buildError("stream|from()|query('SELECT 1')")?.message == "query() can only follow batch")
    }

    @Test func sourcesAreTheFromMeasurementsDatabasesAndRetentionPolicies() throws {
        #expect(try plan("batch|query('SELECT x FROM \"telegraf\".\"default\".cpu, db2..mem').every(1s)").sources ==
            [DBRP("telegraf", "default"), DBRP("db2", "")])
    }
}
