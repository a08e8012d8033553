import LogTesting
import Testing
import TICKScript
import TockModel
@testable import Engine

private func values(_ v: [Double], at times: [Int64], tags: Tags = [:], name: String = "cpu") -> [Point] {
    zip(v, times).map { point(name, tags, ["value": .double($0)], at: $1) }
}

private func times(_ b: Batch) -> [Int64] { b.points.map { $0.time / second } }

@Suite("Core nodes")
struct CoreNodeTests {
    @Test("from selects by measurement and where, and names nodes Kapacitor-style")
    func from() throws {
        let script = """
        stream
            |from()
                .measurement('cpu')
                .where(lambda: "value" > 2.0)
        """
        let points = values([1, 2, 3, 4], at: [1, 2, 3, 4]) + values([9], at: [5], name: "mem")
        let (c, runner) = try run(script, points)
        #expect(c.points.map(\.fields["value"]) == [.double(3), .double(4)])
        #expect(c.outputs.allSatisfy { $0.node == "from1" })
        #expect(runner.stats().map(\.received) == [5, 5])
        #expect(runner.stats().map(\.emitted) == [5, 2])
    }

    @Test("aligned window: batches [0s,10s) and [10s,20s) close when a later point arrives")
    func alignedWindow() throws {
        let script = "stream|from().measurement('cpu')|window().period(10s).every(10s).align()"
        let (c, _) = try run(script, values([1, 2, 3, 4, 5, 6], at: [1, 3, 9, 11, 15, 21]))
        #expect(c.batches.map { $0.tmax / second } == [10, 20])
        #expect(c.batches.map(times) == [[1, 3, 9], [11, 15]])
        #expect(c.outputs.allSatisfy { $0.node == "window2" })
    }

    @Test("unaligned window ends at first point + every, then at the closing point + every")
    func unalignedWindow() throws {
        let script = "stream|from().measurement('cpu')|window().period(10s).every(10s)"
        let (c, _) = try run(script, values([1, 2, 3, 4, 5, 6], at: [1, 3, 9, 11, 15, 21]))
        #expect(c.batches.map { $0.tmax / second } == [11, 21])
        #expect(c.batches.map(times) == [[1, 3, 9], [11, 15]])
    }

    @Test("overlapping windows: period 10s every 5s")
    func overlapping() throws {
        let script = "stream|from().measurement('cpu')|window().period(10s).every(5s).align()"
        let (c, _) = try run(script, values([1, 2, 3, 4, 5, 6], at: [1, 3, 9, 11, 15, 21]))
        #expect(c.batches.map { $0.tmax / second } == [5, 10, 15, 20])
        #expect(c.batches.map(times) == [[1, 3], [1, 3, 9], [9, 11], [11, 15]])
    }

    @Test("count window: the last 3 points every 2 points")
    func countWindow() throws {
        let script = "stream|from()|window().periodCount(3).everyCount(2)"
        let (c, _) = try run(script, values([1, 2, 3, 4, 5], at: [1, 2, 3, 4, 5]))
        #expect(c.batches.map(times) == [[1, 2], [2, 3, 4]])
        #expect(c.batches.map { $0.tmax / second } == [2, 4])
    }

    @Test("groupBy windows each group separately, with the group's tags")
    func groupBy() throws {
        let script = "stream|from().measurement('cpu').groupBy('host')|window().period(10s).every(10s).align()"
        let points = [
            point("cpu", ["host": "a", "cpu": "0"], ["value": .double(1)], at: 1),
            point("cpu", ["host": "b", "cpu": "0"], ["value": .double(2)], at: 2),
            point("cpu", ["host": "a", "cpu": "1"], ["value": .double(3)], at: 5),
            point("cpu", ["host": "a", "cpu": "0"], ["value": .double(4)], at: 12),
            point("cpu", ["host": "b", "cpu": "0"], ["value": .double(5)], at: 13),
        ]
        let (c, _) = try run(script, points)
        #expect(c.batches.map(\.group.rawValue) == ["host=a", "host=b"])
        #expect(c.batches.map(\.tags) == [["host": "a"], ["host": "b"]])
        #expect(c.batches.map(times) == [[1, 5], [2]])
        #expect(Series.json(.batch(c.batches[0])) ==
            #"{"name":"cpu","tags":{"host":"a"},"columns":["time","cpu","value"],"values":[["1970-01-01T00:00:01Z","0",1],["1970-01-01T00:00:05Z","1",3]]}"#)
    }

    @Test("groupBy node with * and exclude, byMeasurement")
    func groupByStar() throws {
        let script = "stream|from()|groupBy(*).exclude('cpu').byMeasurement()"
        let (c, _) = try run(script, [point("cpu", ["host": "a", "cpu": "0", "dc": "x"], ["v": .int(1)], at: 1)])
        #expect(c.points.first?.group.rawValue == "cpu\ndc=x,host=a")
        #expect(c.points.first?.dimensions == Dimensions(byName: true, tagNames: ["dc", "host"]))
    }

    @Test("a list variable holding * groups by every tag, as Kapacitor's templates write `var groups = [*]`")
    func groupByListWithStar() throws {
        let script = "var groups = [*]\nstream|from().measurement('cpu').groupBy(groups)"
        let (c, _) = try run(script, [point("cpu", ["host": "a", "dc": "x"], ["v": .int(1)], at: 1)])
        #expect(c.points.first?.group.rawValue == "dc=x,host=a")
        let mixed = try run("var groups = ['host', *]\nstream|from().groupBy(groups)", [point("cpu", ["host": "a", "dc": "x"], ["v": .int(1)], at: 1)])
        #expect(mixed.0.points.first?.group.rawValue == "dc=x,host=a")
    }

    @Test("eval computes in order, later lambdas see earlier results; without keep only new fields remain")
    func eval() throws {
        let script = """
        stream|from()
            |eval(lambda: "value" * 2.0, lambda: "double" + 1.0, lambda: 'x' + "host")
                .as('double', 'plus', 'tagged')
                .tags('tagged')
        """
        let (c, _) = try run(script, [point("m", ["host": "a"], ["value": .double(10), "other": .int(1)], at: 1)])
        #expect(c.points.first?.fields == ["double": .double(20), "plus": .double(21)])
        #expect(c.points.first?.tags == ["host": "a", "tagged": "xa"])
    }

    @Test("eval keep() keeps everything, keep(list) only the listed fields")
    func evalKeep() throws {
        let all = try run("stream|from()|eval(lambda: \"a\" + 1).as('b').keep()", [point(fields: ["a": .int(1), "c": .bool(true)], at: 1)])
        #expect(all.0.points.first?.fields == ["a": .int(1), "b": .int(2), "c": .bool(true)])
        let listed = try run("stream|from()|eval(lambda: \"a\" + 1).as('b').keep('b', 'c')", [point(fields: ["a": .int(1), "c": .bool(true)], at: 1)])
        #expect(listed.0.points.first?.fields == ["b": .int(2), "c": .bool(true)])
    }

    @Test("eval errors drop the point and are counted; quiet() does not log them")
    func evalErrors() throws {
        let loud = try run("stream|from()|eval(lambda: \"missing\" * 2.0).as('x')", [point(fields: ["v": .double(1)], at: 1)])
        #expect(loud.0.points.isEmpty)
        #expect(loud.1.stats()[2].errors == 1)
        #expect(loud.0.logs.map(\.2) == ["no field or tag exists for missing"])
        let quiet = try run("stream|from()|eval(lambda: \"missing\" * 2.0).as('x').quiet()", [point(fields: ["v": .double(1)], at: 1)])
        #expect(quiet.0.logs.isEmpty)
        #expect(quiet.1.stats()[2].errors == 1)
    }

    @Test("where node filters; stateful lambdas are per group")
    func whereNode() throws {
        let script = "stream|from().groupBy('host')|where(lambda: count() <= 2)"
        let points = (1...4).flatMap { t in ["a", "b"].map { point("m", ["host": $0], ["v": .int(t)], at: t) } }
        let (c, _) = try run(script, points)
        #expect(c.points.map { "\($0.tags["host"]!)\($0.time / second)" } == ["a1", "b1", "a2", "b2"])
    }

    @Test("default sets missing fields and tags only; delete removes")
    func defaultAndDelete() throws {
        let script = "stream|from()|default().field('v', 0.0).field('n', 5).tag('dc', 'none')|delete().field('junk').tag('tmp')"
        let points = [
            point("m", ["dc": "x", "tmp": "1"], ["v": .double(3), "junk": .string("j")], at: 1),
            point("m", [:], ["n": .int(1)], at: 2),
        ]
        let (c, _) = try run(script, points)
        #expect(c.points.map(\.fields) == [["v": .double(3), "n": .int(5)], ["v": .double(0), "n": .int(1)]])
        #expect(c.points.map(\.tags) == [["dc": "x"], ["dc": "none"]])
    }

    @Test("stateDuration counts seconds in state and -1 outside; stateCount counts points")
    func stateNodes() throws {
        let script = """
        stream|from()
            |stateDuration(lambda: "v" > 10).unit(1s)
            |stateCount(lambda: "v" > 10).as('n')
        """
        let points = zip([5, 11, 12, 20, 3, 15], [0, 10, 20, 50, 60, 70]).map { point(fields: ["v": .int(Int64($0))], at: Int64($1)) }
        let (c, _) = try run(script, points)
        #expect(c.points.map { $0.fields["state_duration"] } == [-1, 0, 10, 40, -1, 0].map { .double($0) })
        #expect(c.points.map { $0.fields["n"] } == [-1, 1, 2, 3, -1, 1].map { .int($0) })
    }

    @Test("httpOut publishes the last value per group, in first-seen order")
    func httpOut() throws {
        let script = "stream|from().groupBy('host')|httpOut('out')"
        let points = [
            point("m", ["host": "b"], ["v": .int(1)], at: 1),
            point("m", ["host": "a"], ["v": .int(2)], at: 2),
            point("m", ["host": "b"], ["v": .int(3)], at: 3),
        ]
        let (c, _) = try run(script, points)
        #expect(c.events.count == 3)
        guard case .httpOut(let endpoint, let row, let result)? = c.events.last?.event else {
            Issue.record("the last event is not an httpOut update")
            return
        }
        #expect(endpoint == "out")
        // Each update carries only the row that changed…
        #expect(row == #"{"name":"m","tags":{"host":"b"},"columns":["time","v"],"values":[["1970-01-01T00:00:03Z",3]]}"#)
        // …and the live result, whose whole document is built when read.
        #expect(result.json ==
            #"{"series":[{"name":"m","tags":{"host":"b"},"columns":["time","v"],"values":[["1970-01-01T00:00:03Z",3]]},{"name":"m","tags":{"host":"a"},"columns":["time","v"],"values":[["1970-01-01T00:00:02Z",2]]}]}"#)
        let rows = c.events.compactMap { if case .httpOut(_, let row, _) = $0.event { return row } else { return nil } }
        #expect(rows.map { $0.contains(#""host":"b""#) } == [true, false, true])
    }

    @Test("log writes the series JSON at its level and passes data on")
    func log() throws {
        let (c, _) = try run("stream|from()|log().level('WARN').prefix('P')", [point(fields: ["v": .int(1)], at: 1)])
        #expect(c.logs.map(\.0) == [.warning])
        #expect(c.logs.first?.2 == #"P {"name":"m","columns":["time","v"],"values":[["1970-01-01T00:00:01Z",1]]}"#)
        #expect(c.points.count == 1)
    }

    @Test("a node logs through the task's swift-log Logger: the task's metadata is kept, the node's name is added")
    func logMetadata() throws {
        let recorder = LogRecorder()
        var logger = recorder.logger
        logger[metadataKey: "task"] = "cpu"
        let runner = try TaskRunner(script: "stream|from()|log().level('ERROR')", options: .init(taskID: "cpu"),
                                    handlers: TaskRunner.Handlers(logger: logger))
        try runner.start()
        runner.write([point(fields: ["v": .int(1)], at: 1)])
        try runner.stop()
        let line = try #require(recorder.lines.first)
        #expect(line.level == .error)
        #expect(line.metadata == ["task": "cpu", "node": "log2"])
        #expect(line.message.hasPrefix(#"{"name":"m""#))
    }

    @Test("a `log()` level is DEBUG, INFO, WARN (or WARNING) or ERROR in any case; anything else is refused")
    func logLevels() throws {
        for (word, level) in [("debug", LogLevel.debug), ("Info", .info), ("WARNING", .warning), ("error", .error)] {
            let (c, _) = try run("stream|from()|log().level('\(word)')", [point(fields: ["v": .int(1)], at: 1)])
            #expect(c.logs.map(\.0) == [level])
        }
        #expect(throws: (any Error).self) {
            try TaskRunner(script: "stream|from()|log().level('LOUD')", options: .init(taskID: "t"), handlers: .init())
        }
    }

    @Test("combine pairs the points of one time that match each lambda; ungrouped, no tag stays unprefixed")
    func combine() throws {
        let script = """
        stream|from()
            |combine(lambda: "kind" == 'a', lambda: "kind" == 'b').as('first', 'second')
        """
        let points = [
            point("m", ["kind": "a"], ["v": .int(1)], at: 1),
            point("m", ["kind": "b"], ["v": .int(2)], at: 1),
            point("m", ["kind": "a"], ["v": .int(3)], at: 2),
        ]
        let (c, _) = try run(script, points)
        #expect(c.points.count == 1)
        #expect(c.points.first?.fields == ["first.v": .int(1), "second.v": .int(2)])
        #expect(c.points.first?.tags == ["first.kind": "a", "second.kind": "b"])
    }

    @Test("from truncates times; dbrp gates which points reach the task")
    func truncateAndDBRP() throws {
        let script = """
        dbrp "db"."rp"
        stream|from().truncate(10s)
        """
        var other = point(fields: ["v": .int(9)], at: 3)
        other.database = "elsewhere"
        let (c, _) = try run(script, [point(fields: ["v": .int(1)], at: 17), other])
        #expect(c.points.map { $0.time / second } == [10])
    }

    @Test("DOT lists the nodes and edges")
    func dot() throws {
        let pipeline = try TaskBuilder(taskID: "t").build(try Program.parse("stream|from()|window().period(1m)|httpOut('x')"))
        #expect(pipeline.dot(name: "t") == "digraph t {\nstream0 -> from1;\nfrom1 -> window2;\nwindow2 -> httpOut3;\n}\n")
    }
}
