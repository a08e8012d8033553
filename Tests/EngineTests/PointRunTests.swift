import Testing
import TockModel
@testable import Engine

/// Written points travel a chain of stream nodes as runs (one call per node for many points); these specify that a
/// run has exactly the effect of the same points one at a time.
@Suite("Runs of points along a stream chain")
struct PointRunTests {
    static let script = "stream|from().measurement('cpu')|groupBy('host')|window().period(10s).every(10s)|mean('v')"

    /// 3 hosts × 40 s, one point per host per second, plus points of another measurement that from() drops.
    static var points: [Point] {
        var out: [Point] = []
        for t in 0..<40 {
            for h in 0..<3 {
                out.append(point("cpu", ["host": "h\(h)"], ["v": .double(Double(t * 10 + h))], at: Int64(t)))
                out.append(point("mem", ["host": "h\(h)"], ["v": .double(-1)], at: Int64(t)))
            }
        }
        return out
    }

    static func summary(_ c: Collector) -> [String] {
        c.points.map { "\($0.group.rawValue) \($0.time / second) \($0.fields["mean"]?.numeric ?? .nan)" }
    }

    @Test("one write of all points gives the same means, in the same order, as one write per point")
    func oneRunEqualsPointByPoint() throws {
        let (all, allRunner) = try run(Self.script, Self.points)

        let single = Collector()
        let runner = try TaskRunner(script: Self.script, options: .init(taskID: "test"), handlers: single.handlers)
        try runner.start()
        for p in Self.points { runner.write([p]) }
        try runner.stop()

        // Windows [0,10), [10,20), [20,30) of each host close; the last stays open. Host h0's first mean is
        // (0+10+…+90)/10 = 45.
        #expect(Self.summary(all).count == 9)
        #expect(Self.summary(all).first == "host=h0 10 45.0")
        #expect(Self.summary(all) == Self.summary(single))
        let stats = allRunner.stats()
        #expect(stats.map(\.received) == runner.stats().map(\.received))
        #expect(stats[1].received == 240 && stats[1].emitted == 120)   // from() keeps cpu only
    }

    @Test("equal tags stored apart share a group; different tags never do")
    func groupsByValueNotStorage() throws {
        var points: [Point] = []
        for t in 0..<11 {
            // A fresh Tags value per point (no shared storage), two hosts whose values differ only in the last byte.
            points.append(point("cpu", Tags([("host", "a1")]), ["v": .double(1)], at: Int64(t)))
            points.append(point("cpu", Tags([("host", "a2")]), ["v": .double(3)], at: Int64(t)))
        }
        let (c, _) = try run(Self.script, points)
        #expect(Self.summary(c) == ["host=a1 10 1.0", "host=a2 10 3.0"])
    }

    @Test("two branches off the stream see the points interleaved, as one at a time")
    func branchesInterleave() throws {
        let script = "var s = stream\ns|from().measurement('cpu')|eval(lambda: \"v\" * 2.0).as('a')\ns|from().measurement('cpu')|eval(lambda: \"v\" * 3.0).as('b')"
        let points = (0..<3).map { point("cpu", [:], ["v": .double(Double($0))], at: Int64($0)) }
        let (c, _) = try run(script, points)
        let seen = c.points.map { p in p.fields.map { "\($0.key)=\($0.value.numeric ?? .nan)" }.joined() }
        #expect(seen == ["a=0.0", "b=0.0", "a=2.0", "b=3.0", "a=4.0", "b=6.0"])
    }
}
