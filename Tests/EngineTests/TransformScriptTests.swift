import Testing
import TICKScript
import TockModel
@testable import Engine

/// Transformation nodes driven by real TICKscripts through the builder and the task runner.
@Suite("Transformations in scripts")
struct TransformScriptTests {
    func cpu(_ v: Double, at s: Int64, host: String = "a") -> Point {
        point("cpu", ["host": host], ["value": .double(v)], at: s)
    }

    @Test("window then mean: 1, 2, 3, 4 in [0s, 10s) give 2.5 at 10s")
    func windowMean() throws {
        let script = """
        stream
            |from().measurement('cpu')
            |window().period(10s).every(10s).align()
            |mean('value')
        """
        let (c, _) = try run(script, [cpu(1, at: 1), cpu(2, at: 3), cpu(3, at: 5), cpu(4, at: 7), cpu(9, at: 11)])
        #expect(c.points.count == 1)
        #expect(c.points.first?.fields == ["mean": .double(2.5)])
        #expect(c.points.first?.time == 10 * second)
    }

    @Test("grouped window then count and top: per-group int counts; top keeps the host tag")
    func countAndTop() throws {
        let script = """
        var w = stream
            |from().measurement('cpu').groupBy('host')
            |window().period(10s).every(10s).align()
        w|count('value').as('n')
        stream
            |from().measurement('cpu')
            |window().period(10s).every(10s).align()
            |top(1, 'value')
        """
        let points = [cpu(1, at: 1), cpu(5, at: 2, host: "b"), cpu(3, at: 4), cpu(0, at: 12), cpu(0, at: 12, host: "b")]
        let (c, _) = try run(script, points)
        let counts = c.points.filter { $0.fields["n"] != nil }
        #expect(Set(counts.map { "\($0.tags["host"] ?? "")=\($0.fields["n"]!)" }) == ["a=int(2)", "b=int(1)"])
        #expect(counts.allSatisfy { $0.time == 10 * second })
        let tops = c.batches.flatMap(\.points)
        #expect(tops.map { $0.fields["top"] } == [.double(5)])
        #expect(tops.first?.tags["host"] == "b")
    }

    @Test("derivative of (0s, 10) then (10s, 20) is 1.0 per second")
    func derivative() throws {
        let script = "stream|from().measurement('cpu')|derivative('value')"
        let (c, _) = try run(script, [cpu(10, at: 0), cpu(20, at: 10)])
        #expect(c.points.map { $0.fields["value"] } == [.double(1)])
    }

    @Test("join of two measurements within 1s tolerance, then eval of their ratio")
    func joinEval() throws {
        let script = """
        var errors = stream|from().measurement('errors')
        var requests = stream|from().measurement('requests')
        errors
            |join(requests)
                .as('errors', 'requests')
                .tolerance(1s)
            |eval(lambda: "errors.value" / "requests.value")
                .as('rate')
        """
        let points = [
            point("errors", [:], ["value": .double(5)], at: 10),
            point("requests", [:], ["value": .double(100)], at: 10),
            point("errors", [:], ["value": .double(1)], at: 20),
            point("requests", [:], ["value": .double(4)], at: 20),
        ]
        let (c, _) = try run(script, points)
        #expect(c.points.map { $0.fields["rate"] } == [.double(0.05), .double(0.25)])
        #expect(c.points.map(\.name) == ["errors", "errors"])
    }

    @Test("union of two measurements renamed, in time order")
    func union() throws {
        let script = """
        var a = stream|from().measurement('a')
        var b = stream|from().measurement('b')
        a|union(b).rename('both')
        """
        let points = [
            point("a", [:], ["v": .int(1)], at: 1), point("b", [:], ["v": .int(2)], at: 2),
            point("a", [:], ["v": .int(3)], at: 3), point("b", [:], ["v": .int(4)], at: 4),
        ]
        let (c, _) = try run(script, points)
        #expect(c.points.map { $0.fields["v"] } == [.int(1), .int(2), .int(3), .int(4)])
        #expect(c.points.allSatisfy { $0.name == "both" })
    }

    @Test("argument types are checked: percentile's field must be a string")
    func badArgument() {
        #expect(buildError("stream|from()|window().period(1s).every(1s)|percentile(1, 50.0)") != nil)
        #expect(buildError("stream|from()|window().period(1s).every(1s)|percentile('v', 50)") == nil)
        #expect(buildError("stream|from()|join()") != nil)
    }
}
