import Testing
import TICKScript
import TockModel
@testable import Engine

/// When a `query()` node runs and which time range each run covers (Kapacitor's `timeTicker`, `cronTicker`,
/// `QueryNode.Queries` and `doQuery`), with the clock given by the test.
@Suite struct BatchScheduleTests {
    let s = GoDuration.second

    @Test func everyRunsAnIntervalAfterStartAndQueriesThePeriodBeforeTheRunLessTheOffset() throws {
        let p = try plan("batch|query('SELECT x FROM m').period(1m).every(10s).offset(5s)")
        let first = try #require(p.firstRun(startingAt: t(0) + 300_000_000))
        #expect(first == t(10) + 300_000_000)
        let w = p.window(forRun: t(100))
        #expect(w.start == t(35) && w.stop == t(95))
    }

    @Test func alignWaitsForTheNextMultipleOfEvery() throws {
        let p = try plan("batch|query('SELECT x FROM m').period(1m).every(10s).align()")
        #expect(p.firstRun(startingAt: t(3) + 1) == t(10))
        #expect(p.firstRun(startingAt: t(10)) == t(20))
        // Next rounds to every, as Go's Round: half up.
        #expect(p.next(after: t(12)) == t(20))
        #expect(p.next(after: t(15)) == t(30))
    }

    @Test func missedRunsAreSkippedNotQueuedUp() throws {
        let p = try plan("batch|query('SELECT x FROM m').period(1m).every(10s)")
        // The run at 10s finished at 45s: the runs at 20s and 30s and 40s are gone; the next is 50s.
        #expect(p.run(after: t(10), now: t(45)) == t(50))
        #expect(p.run(after: t(10), now: t(12)) == t(20))
        // Exactly on a due time: that one is past.
        #expect(p.run(after: t(10), now: t(20)) == t(30))
    }

    @Test func cronRunsAtTheScheduleTimes() throws {
        let p = try plan("batch|query('SELECT x FROM m').period(1h).cron('*/15 * * * *')")
        #expect(p.firstRun(startingAt: t(0) + 1) == t(15 * 60))
        #expect(p.run(after: t(15 * 60), now: t(15 * 60) + 2) == t(30 * 60))
        #expect(p.run(after: t(15 * 60), now: t(50 * 60)) == t(60 * 60))
        #expect(p.every == nil)
    }

    @Test func queriesOverARangeAreOnePerRunAsRecordBatchListsThem() throws {
        let p = try plan("batch|query('SELECT x FROM m').period(20s).every(10s).offset(1s)")
        let qs = p.queries(from: t(0), to: t(40))
        #expect(qs.map(\.start) == [t(-11), t(-1), t(9), t(19)])
        #expect(qs.map(\.stop) == [t(9), t(19), t(29), t(39)])
        #expect(qs[0].query.text == "SELECT x FROM m WHERE time >= '2025-12-31T23:59:49Z' AND time < '2026-01-01T00:00:09Z'")
        // Runs whose query would end after now are left out.
        #expect(p.queries(from: t(0), to: t(40), now: t(25)).count == 2)
        // A cron schedule lists its own times.
        let c = try plan("batch|query('SELECT x FROM m').period(1m).cron('*/2 * * * *')")
        #expect(c.queries(from: t(0), to: t(6 * 60)).map(\.stop) == [t(120), t(240), t(360)])
    }

    @Test func theClusterIsCheckedAgainstTheConfiguredOnes() throws {
        let influx = RecordingInfluxDB(clusters: ["default", "remote"])
        #expect(try batchPipeline("batch|query('SELECT x FROM m').every(1s).cluster('remote')", influxDB: influx)
            .queryPlans[0].cluster == "remote")
        #expect(throws: ScriptError.self) {
            try batchPipeline("batch|query('SELECT x FROM m').every(1s).cluster('nowhere')", influxDB: influx)
        }
        #expect(buildErrorWith(influx, "batch|query('SELECT x FROM m').every(1s).cluster('nowhere')") ==
            "query1: no InfluxDB cluster named \"nowhere\" is configured (.cluster('nowhere'))")
    }

    @Test func batchQueriesAreTheQueryNodesInCreationOrder() throws {
        let p = try batchPipeline("""
            var a = batch|query('SELECT x FROM a').every(1s)
            var b = batch|query('SELECT y FROM b').every(2s)
            a|join(b).as('a', 'b')|httpOut('x')
            """)
        #expect(p.batchQueries.map { p.nodes[$0].id } == ["query1", "query2"])
        #expect(p.queryPlans.map(\.every) == [s, 2 * s])
        #expect(p.isBatch)
        // The graph leaves out the batch source, as Kapacitor's.
        #expect(!p.dot(name: "t").contains("batch0"))
        #expect(p.dot(name: "t").contains("query1 -> join3;"))
    }

    func buildErrorWith(_ influx: any InfluxDBService, _ script: String) -> String? {
        do {
            _ = try batchPipeline(script, influxDB: influx)
            return nil
        } catch {
            return (error as? ScriptError)?.message
        }
    }
}
