import Foundation
import Testing
import TICKScript
import TockModel
@testable import Engine

/// Batch tasks end to end inside the engine: `query()` nodes querying on their schedule (against the test double),
/// and fed from a recording; what the nodes after them do with batches.
@Suite struct BatchTaskTests {
    func runner(_ script: String, mode: BatchSourceMode, influxDB: (any InfluxDBService)? = RecordingInfluxDB(),
                sections: ConfigSections = ConfigSections(), collector c: Collector) throws -> TaskRunner {
        var options = TaskRunner.Options(taskID: "t")
        options.influxDB = influxDB
        options.batchSourceMode = mode
        options.configSections = sections
        return try TaskRunner(script: script, options: options, handlers: c.handlers)
    }

    func batch(_ name: String = "cpu", host: String, _ values: [Double], at seconds: Int64) -> Batch {
        let tags: Tags = ["host": host]
        return Batch(name: name, group: GroupID("host=\(host)"), tags: tags, dimensions: Dimensions(tagNames: ["host"]),
                     tmax: t(seconds + Int64(values.count) - 1),
                     points: values.enumerated().map { BatchPoint(time: t(seconds + Int64($0.offset)), fields: ["v": .double($0.element)], tags: tags) })
    }

    @Test func aScheduledQueryThatFailsIsCountedAndTheNextRunStillHappens() throws {
        let rejected = InfluxDBError(.rejected(status: 0), "influxdb \"default\": error parsing query: found EOF, expected FROM")
        let influx = RecordingInfluxDB(answers: [
            .failure(rejected),
            .series([QuerySeries(name: "cpu", tags: ["host": "a"], columns: ["time", "mean"], values: [[.int(t(0)), .double(3)]])]),
        ])
        let c = Collector()
        let r = try runner("batch|query('SELECT mean(v) FROM db.rp.cpu').period(1m).every(50ms).groupBy('host')|httpOut('out')",
                           mode: .schedule, influxDB: influx, collector: c)
        try r.start()
        eventually { !c.batches.isEmpty }
        try r.stop()
        #expect(c.batches.first?.points.first?.fields == ["mean": .double(3)])
        #expect(c.batches.first?.group == GroupID("host=a"))
        let query = r.stats()[r.pipeline.batchQueries[0]]
        #expect(query.node == "query1")
        #expect(query.errors == 1)
        #expect(c.logs.contains { $0.0 == .error && $0.1 == "query1" && $0.2.contains("error parsing query: found EOF, expected FROM") })
        let texts = influx.queries.map(\.text)
        #expect(texts.count >= 2)
        #expect(texts.allSatisfy { $0.hasPrefix("SELECT mean(v) FROM db.rp.cpu WHERE time >= '") && $0.hasSuffix("' GROUP BY host") })
        // Each run covers its own minute: the windows move on.
        #expect(Set(texts).count == texts.count)
        #expect(c.events.contains { if case .httpOut(let e, _, _) = $0.event { e == "out" } else { false } })
    }

    @Test func withoutInfluxDBAScheduledBatchTaskDoesNotStart() throws {
        let c = Collector()
        let r = try runner("batch|query('SELECT v FROM m').every(1s)|httpOut('x')", mode: .schedule, influxDB: nil, collector: c)
        #expect(throws: NodeConfigurationError(
            "query1: InfluxDB not configured, cannot query InfluxDB for batch query (no [[influxdb]] section is enabled)")) { try r.start() }
    }

    @Test func recordedBatchesGoThroughAggregatesInOrder() throws {
        let c = Collector()
        let influx = RecordingInfluxDB()
        let r = try runner("batch|query('SELECT v FROM m').period(10s).every(10s).groupBy('host')|mean('v')",
                           mode: .recorded, influxDB: influx, collector: c)
        try r.start()
        r.feed([batch(host: "a", [1, 2, 3], at: 0), batch(host: "b", [10], at: 0)], toQuery: 0)
        r.feed([batch(host: "a", [5, 7], at: 10)], toQuery: 0)
        // An index that names no query node is ignored.
        r.feed([batch(host: "a", [100], at: 20)], toQuery: 1)
        try r.stop()
        #expect(c.points.map { $0.fields["mean"] } == [.double(2), .double(10), .double(6)])
        #expect(c.points.map { $0.tags["host"] } == ["a", "b", "a"])
        #expect(r.stats()[r.pipeline.batchQueries[0]].emitted == 3)
        // Recorded mode never asks InfluxDB.
        #expect(influx.queries.isEmpty)
    }

    @Test func eachRecordingEntryFeedsItsOwnQuery() throws {
        let c = Collector()
        let r = try runner("""
            var cpu = batch|query('SELECT v FROM cpu').every(10s)
            var mem = batch|query('SELECT v FROM mem').every(10s)
            cpu|join(mem).as('cpu', 'mem')|eval(lambda: "cpu.v" + "mem.v").as('sum')
            """, mode: .recorded, collector: c)
        try r.start()
        let cpu = Batch(name: "cpu", tmax: t(0), points: [BatchPoint(time: t(0), fields: ["v": .double(1)])])
        let mem = Batch(name: "mem", tmax: t(0), points: [BatchPoint(time: t(0), fields: ["v": .double(2)])])
        r.feed([cpu], toQuery: 0)
        r.feed([mem], toQuery: 1)
        try r.stop()
        #expect(c.batches.first?.points.first?.fields["sum"] == .double(3))
    }

    @Test func alertAllWarnsOnlyWhenEveryPointOfTheBatchMatches() throws {
        let c = Collector()
        let r = try runner("batch|query('SELECT v FROM m').every(10s).groupBy('host')|alert().crit(lambda: \"v\" > 5.0).all().id('{{ .Group }}')",
                           mode: .recorded, collector: c)
        try r.start()
        r.feed([batch(host: "a", [6, 7], at: 0)], toQuery: 0)
        r.feed([batch(host: "a", [6, 1], at: 10)], toQuery: 0)
        try r.stop()
        let alerts = c.events.compactMap { if case .alert(let json) = $0.event { json } else { nil } }
        #expect(alerts.count == 2)
        #expect(alerts.first?.contains(#""level":"CRITICAL""#) == true)
        #expect(alerts.last?.contains(#""level":"OK""#) == true)
    }

    @Test func aDeadmanOnABatchTaskWatchesTheQuery() throws {
        let c = Collector()
        let r = try runner("batch|query('SELECT v FROM m').every(1h)|deadman(1.0, 100ms)", mode: .recorded, collector: c)
        #expect(r.pipeline.dot(name: "t").contains("query1 -> noop3;"))
        try r.start()
        // No batch arrives: the deadman fires.
        eventually { !c.events.isEmpty }
        try r.stop()
        guard case .alert(let json)? = c.events.first?.event else {
            Issue.record("no deadman alert")
            return
        }
        #expect(json.contains(#""level":"CRITICAL""#))
    }

    @Test func theGlobalDeadmanOfABatchTaskWatchesEachQuery() throws {
        var sections = ConfigSections()
        sections.deadman.global = true
        sections.deadman.threshold = 1
        sections.deadman.interval = 10 * GoDuration.second
        let c = Collector()
        let r = try runner("batch|query('SELECT v FROM m').every(1h)|httpOut('x')", mode: .recorded, sections: sections, collector: c)
        #expect(r.pipeline.dot(name: "t") == "digraph t {\nquery1 -> httpOut2;\nstats3 -> derivative4;\nderivative4 -> alert5;\n}\n")
    }
}
