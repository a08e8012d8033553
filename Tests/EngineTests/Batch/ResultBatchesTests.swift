import Testing
import TockModel
@testable import Engine

/// A query result as batches (Kapacitor's `ResultToBufferedBatches` and the stop time `doQuery` sets).
@Suite struct ResultBatchesTests {
    @Test func oneBatchPerSeriesGroupedByItsTags() throws {
        let p = try plan("batch|query('SELECT mean(v) FROM m').every(10s).groupBy('host')")
        let series = [
            QuerySeries(name: "cpu", tags: ["host": "a"], columns: ["time", "mean", "max"],
                        values: [[.int(t(1)), .double(1.5), nil], [.int(t(3)), .double(2), .double(4)]]),
            QuerySeries(name: "cpu", tags: ["host": "b"], columns: ["time", "mean"], values: [[.int(t(2)), .double(7)]]),
        ]
        let batches = p.batches(series, start: t(0), stop: t(10))
        #expect(batches.count == 2)
        #expect(batches[0].name == "cpu")
        #expect(batches[0].group == GroupID("host=a"))
        #expect(batches[0].dimensions == Dimensions(tagNames: ["host"]))
        #expect(batches[0].tags == ["host": "a"])
        // Null cells are left out; each point carries the series' tags.
        #expect(batches[0].points == [
            BatchPoint(time: t(1), fields: ["mean": .double(1.5)], tags: ["host": "a"]),
            BatchPoint(time: t(3), fields: ["mean": .double(2), "max": .double(4)], tags: ["host": "a"]),
        ])
        // Without time() in GROUP BY the batch ends at its last point.
        #expect(batches[0].tmax == t(3))
        #expect(batches[1].tmax == t(2))
    }

    @Test func groupedByTimeTheBatchEndsAtTheQueryStop() throws {
        let p = try plan("batch|query('SELECT mean(v) FROM m').every(10s).groupBy(time(5s))")
        let b = p.batches([QuerySeries(name: "m", columns: ["time", "mean"], values: [[.int(t(0)), .double(1)], [.int(t(5)), .double(2)]])],
                          start: t(0), stop: t(10))
        #expect(b[0].tmax == t(10))
        #expect(b[0].group == GroupID(""))
    }

    @Test func rowsWithoutFieldsAreDroppedAndAnEmptySeriesEndsAtStop() throws {
        let p = try plan("batch|query('SELECT v FROM m').every(10s)")
        let b = p.batches([QuerySeries(name: "m", columns: ["time", "v"], values: [[.int(t(1)), nil]])], start: t(0), stop: t(10))
        #expect(b[0].points.isEmpty)
        #expect(b[0].tmax == t(10))
    }

    @Test func groupByMeasurementPutsTheNameInTheGroup() throws {
        let p = try plan("batch|query('SELECT v FROM m').every(10s).groupBy('host').groupByMeasurement()")
        let b = p.batches([QuerySeries(name: "cpu", tags: ["host": "a"], columns: ["time", "v"], values: [[.int(t(1)), .double(1)]])],
                          start: t(0), stop: t(10))
        #expect(b[0].group == GroupID("cpu\nhost=a"))
        #expect(b[0].byName)
    }

    @Test func stringAndBoolCellsStayAsTheyAre() throws {
        let p = try plan("batch|query('SELECT v FROM m').every(10s)")
        let b = p.batches([QuerySeries(name: "m", columns: ["time", "s", "ok"], values: [[.int(t(1)), .string("x"), .bool(true)]])],
                          start: t(0), stop: t(10))
        #expect(b[0].points[0].fields == ["s": .string("x"), "ok": .bool(true)])
    }
}
