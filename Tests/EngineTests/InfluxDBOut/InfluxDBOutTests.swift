import Foundation
import Testing
import TICKScript
import TockModel
@testable import Engine

/// Runs `script` with `influxDB` as the task's InfluxDB and returns what the task logged.
@discardableResult
private func runWriting(_ script: String, _ points: [Point], to influxDB: RecordingInfluxDB,
                        beforeStop: (TaskRunner) -> Void = { _ in }) throws -> Collector {
    let c = Collector()
    var options = TaskRunner.Options(taskID: "out")
    options.influxDB = influxDB
    let runner = try TaskRunner(script: script, options: options, handlers: c.handlers)
    try runner.start()
    runner.write(points)
    beforeStop(runner)
    try runner.stop()
    return c
}

private func cpu(_ host: String, _ value: Double, at seconds: Int64) -> Point {
    Point(name: "cpu", tags: ["host": host], fields: ["value": .double(value)], time: seconds * second,
          database: "telegraf", retentionPolicy: "autogen")
}

@Suite("influxDBOut writes to InfluxDB as Kapacitor does, and keeps writes while InfluxDB is away")
struct InfluxDBOutTests {
    @Test("each point goes to its own database and retention policy unless the node names them")
    func destinations() throws {
        let influx = RecordingInfluxDB()
        try runWriting("stream|from().measurement('cpu')|influxDBOut()", [cpu("a", 1, at: 1)], to: influx)
        #expect(influx.writes.map(\.database) == ["telegraf"])
        #expect(influx.writes.map(\.retentionPolicy) == ["autogen"])

        let named = RecordingInfluxDB()
        try runWriting("""
            stream|from().measurement('cpu')
                |influxDBOut().database('derived').retentionPolicy('week').measurement('cpu_copy')
                    .tag('source', 'tock').tag('host', 'overridden').precision('s').writeConsistency('one')
            """, [cpu("a", 1, at: 1)], to: named)
        let write = try #require(named.writes.first)
        #expect(write.database == "derived")
        #expect(write.retentionPolicy == "week")
        #expect(write.precision == "s")
        #expect(write.writeConsistency == "one")
        #expect(write.points.map(\.name) == ["cpu_copy"])
        // Static tags replace the point's own of the same name (Kapacitor copies the point's tags, then the node's).
        #expect(write.points.first?.tags == ["host": "overridden", "source": "tock"])
    }

    @Test("points are sent in requests of `buffer` points, the rest when the task ends")
    func buffered() throws {
        let influx = RecordingInfluxDB()
        let points = (0..<7).map { cpu("a", Double($0), at: Int64($0)) }
        try runWriting("stream|from()|influxDBOut().buffer(3)", points, to: influx)
        #expect(influx.writes.map(\.points.count) == [3, 3, 1])
        #expect(influx.writtenPoints.map(\.time) == points.map(\.time))
    }

    @Test("the flush interval sends what waits without the task ending")
    func flushInterval() throws {
        let influx = RecordingInfluxDB()
        try runWriting("stream|from()|influxDBOut().flushInterval(50ms)", [cpu("a", 1, at: 1)], to: influx) { _ in
            eventually { influx.writes.count == 1 }
            #expect(influx.writes.count == 1, "the point was not flushed by the interval")
        }
        #expect(influx.writes.count == 1)
    }

    @Test("a batch is written as its points with the batch's tags, to the node's database")
    func batches() throws {
        let influx = RecordingInfluxDB()
        // The points at 15 s close each group's first window.
        let points = (0..<4).map { cpu($0 < 2 ? "a" : "b", Double($0), at: Int64($0)) } + [cpu("a", 0, at: 15), cpu("b", 0, at: 15)]
        try runWriting("""
            stream|from().groupBy('host')|window().period(10s).every(10s)|influxDBOut().database('windows')
            """, points, to: influx)
        let written = influx.writtenPoints
        #expect(written.count == 4)
        #expect(Set(written.compactMap { $0.tags["host"] }) == ["a", "b"])
        #expect(influx.writes.allSatisfy { $0.database == "windows" })
    }

    @Test(".create() creates the database (with its retention policy) before the first write")
    func create() throws {
        let influx = RecordingInfluxDB()
        try runWriting("stream|from()|influxDBOut().database('new').retentionPolicy('rp1').create()",
                       [cpu("a", 1, at: 1)], to: influx)
        #expect(influx.created.map(\.database) == ["new"])
        #expect(influx.created.map(\.retentionPolicy) == ["rp1"])
        #expect(influx.writesBeforeCreate == 0)
        #expect(influx.writes.count == 1)
    }

    @Test("writes that fail while InfluxDB is down are retried and arrive in order, with one error counted")
    func retriesWhileDown() throws {
        // The first three attempts find InfluxDB down; then it is back.
        let influx = RecordingInfluxDB { attempt, _ in
            attempt < 3 ? InfluxDBError(.unreachable, "InfluxDB default: connection refused") : nil
        }
        let c = try runWriting("stream|from()|influxDBOut().buffer(1)", (0..<5).map { cpu("a", Double($0), at: Int64($0)) },
                               to: influx) { _ in
            // Backoff is 1 s, 2 s, 4 s: wait for the recovery instead of ending the task (which would drop the rest).
            eventually(timeout: 20) { influx.writtenPoints.count == 5 }
            #expect(influx.writtenPoints.count == 5)
        }
        #expect(influx.writtenPoints.map(\.time) == (0..<5).map { Int64($0) * second })
        let errors = c.logs.filter { $0.0 == .error }.map(\.2)
        #expect(errors.count == 1)
        #expect(errors.first?.contains("connection refused") == true)
        #expect(errors.first?.contains("retrying") == true)
        #expect(c.logs.contains { $0.0 == .info && $0.2.contains("takes writes again") })
    }

    @Test("a write InfluxDB refuses is dropped with InfluxDB's message; the others still go")
    func rejected() throws {
        let influx = RecordingInfluxDB { _, write in
            write.points.first?.tags["host"] == "bad"
                ? InfluxDBError(.rejected(status: 400), "InfluxDB default: field type conflict") : nil
        }
        let c = try runWriting("stream|from()|influxDBOut().buffer(1)",
                               [cpu("a", 1, at: 1), cpu("bad", 2, at: 2), cpu("c", 3, at: 3)], to: influx)
        #expect(influx.writtenPoints.compactMap { $0.tags["host"] } == ["a", "c"])
        #expect(c.logs.contains { $0.0 == .error && $0.2.contains("field type conflict") })
    }

    @Test("while InfluxDB stays down, at most the retry buffer's points are kept; the task's end drops the rest at once")
    func boundedWhileDown() throws {
        let influx = RecordingInfluxDB { _, _ in InfluxDBError(.unreachable, "InfluxDB default: connection refused") }
        let capacity = InfluxDBWriter.capacity(buffer: 10)
        let points = (0..<(capacity + 5_000)).map { cpu("a", 1, at: Int64($0)) }
        let started = Date()
        let c = try runWriting("stream|from()|influxDBOut().buffer(10)", points, to: influx)
        // The end does not wait through the backoff: one more attempt, then everything left is dropped.
        #expect(Date().timeIntervalSince(started) < 25)
        #expect(influx.writes.isEmpty)
        let errors = c.logs.filter { $0.0 == .error }.map(\.2)
        #expect(errors.contains { $0.contains("retry buffer is full (\(capacity) points)") })
        #expect(errors.contains { $0.contains("at the end of the task, dropping") })
        // Every point is either dropped for the bound or at the end: none is kept or lost silently.
        let dropped = errors.compactMap { message -> Int? in
            guard let r = message.range(of: #"dropp(ed|ing) (\d+) points"#, options: .regularExpression) else { return nil }
            return Int(message[r].split(separator: " ")[1])
        }.reduce(0, +)
        #expect(dropped == points.count)
    }

    @Test("define-time errors carry the property's line:column", arguments: [
        ("stream|from()\n    |influxDBOut().buffer(0)", "must be at least 1 point", 2, 19),
        ("stream|from()\n    |influxDBOut().flushInterval(0s)", "flushInterval() must be positive", 2, 19),
        ("stream|from()\n    |influxDBOut().precision('x')", "must be one of n, u, ms, s, m, h", 2, 19),
        ("stream|from()\n    |influxDBOut().writeConsistency('some')", "must be one of any, one, quorum, all", 2, 19),
        ("stream|from()\n    |influxDBOut().cluster('elsewhere')", "unknown InfluxDB cluster \"elsewhere\"", 2, 19),
    ])
    func defineErrors(script: String, message: String, line: Int, column: Int) throws {
        var builder = TaskBuilder(taskID: "t")
        builder.influxDB = RecordingInfluxDB()
        #expect(throws: ScriptError.self) { try builder.build(try Program.parse(script)) }
        do {
            _ = try builder.build(try Program.parse(script))
        } catch let error as ScriptError {
            #expect(error.message.contains(message), "\(error.message)")
            #expect(error.position.line == line)
            #expect(error.position.column == column)
        }
    }

    @Test("without an InfluxDB the node is refused, saying what to configure")
    func noInfluxDB() throws {
        let error = try #require(buildError("stream|from()|influxDBOut().database('x')"))
        #expect(error.message.contains("no InfluxDB cluster configured"))
        #expect(error.message.contains("[[influxdb]]"))
    }
}
