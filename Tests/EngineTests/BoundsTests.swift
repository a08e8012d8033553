import Foundation
import Testing
import TICKScript
import TockModel
@testable import Engine

/// Durations and counts that would overflow time arithmetic or size an allocation are refused when the
/// task is built, at the offending argument; times a client chooses saturate instead of trapping.
@Suite("Bounds on durations and counts")
struct BoundsTests {
    static let range = "durations given to nodes must lie within ±876000h0m0s (36500d, about 100 years)"

    static let refused: [(script: String, error: String)] = [
        ("stream\n    |from()\n    |shift(2562047h)\n",
         "3:12: duration 2562047h0m0s is out of range: \(range)"),
        ("stream\n    |from()\n    |shift(-36501d)\n",
         "3:12: duration -876024h0m0s is out of range: \(range)"),
        ("stream\n    |from()\n    |window()\n        .period(36501d)\n",
         "4:17: duration 876024h0m0s is out of range: \(range)"),
        ("stream\n    |from()\n    |window()\n        .period(1m)\n        .every(10001w)\n",
         "5:16: duration 1680168h0m0s is out of range: \(range)"),
        ("var d = 2562047h\nstream\n    |from()\n        .truncate(d)\n",
         "4:19: duration 2562047h0m0s is out of range: \(range)"),
        ("stream\n    |from()\n    |window()\n        .periodCount(9223372036854775807)\n",
         "4:22: count 9223372036854775807 for window.periodCount is out of range: it must be between 0 and 1000000"),
        ("stream\n    |from()\n    |window()\n        .periodCount(10)\n        .everyCount(1000001)\n",
         "5:21: count 1000001 for window.everyCount is out of range: it must be between 0 and 1000000"),
        ("stream\n    |from()\n    |sample(5000000000)\n",
         "3:13: count 5000000000 for sample is out of range: it must be between 0 and 1000000"),
        ("stream\n    |from()\n    |window().period(1m)\n    |top(4611686018427387904, 'value')\n",
         "4:10: count 4611686018427387904 for top is out of range: it must be between 0 and 1000000"),
        ("stream\n    |from()\n    |movingAverage('value', 9999999)\n",
         "3:29: count 9999999 for movingAverage is out of range: it must be between 0 and 1000000"),
        ("stream\n    |from()\n    |alert()\n        .history(9223372036854775807)\n",
         "4:18: count 9223372036854775807 for alert.history is out of range: it must be between 0 and 1000000"),
    ]

    @Test("Out-of-range values are refused at their argument", arguments: refused)
    func refusedAtDefine(script: String, error: String) {
        #expect(buildError(script)?.description == error)
    }

    @Test("The largest accepted values build")
    func largestAccepted() {
        #expect(buildError("stream\n    |from()\n    |shift(36500d)\n    |shift(-36500d)\n") == nil)
        #expect(buildError("stream\n    |from()\n    |window()\n        .periodCount(1000000)\n        .everyCount(1000000)\n") == nil)
    }

    @Test("A percentile outside 0...100 is refused at the node")
    func percentile() {
        #expect(buildError("stream\n    |from()\n    |window().period(1m)\n    |percentile('value', 101.0)\n")?.description
            == "4:5: percentile3: percentile needs a number between 0 and 100, got 101.0")
    }

    static let extremes: [Int64] = [Int64.max - 1, Int64.min + 1, Int64.max, Int64.min]

    @Test("shift saturates at the ends of Int64 instead of overflowing")
    func shiftSaturates() throws {
        let points = Self.extremes.map { Point(name: "m", tags: [:], fields: ["value": .int(1)], time: $0, database: "db", retentionPolicy: "rp") }
        let (forward, _) = try run("stream\n    |from()\n    |shift(36500d)\n", points)
        #expect(forward.points.map(\.time) == [Int64.max, Int64.min + 1 + ValueBounds.maximumDuration, Int64.max, Int64.min + ValueBounds.maximumDuration])
        let (back, _) = try run("stream\n    |from()\n    |shift(-36500d)\n", points)
        #expect(back.points.map(\.time) == [Int64.max - 1 - ValueBounds.maximumDuration, Int64.min, Int64.max - ValueBounds.maximumDuration, Int64.min])
    }

    @Test("Windows, truncation, rounding, derivatives and state durations take points at the ends of Int64")
    func extremeTimesEverywhere() throws {
        let times: [Int64] = [Int64.min, Int64.min + 1, 0, Int64.max - 1, Int64.max]
        let points = times.map { Point(name: "m", tags: [:], fields: ["value": .double(1)], time: $0, database: "db", retentionPolicy: "rp") }
        let scripts = [
            "stream\n    |from()\n    |window().period(36500d).every(36500d).align()\n",
            "stream\n    |from()\n    |window().period(36500d).every(1s).fillPeriod().align()\n",
            "stream\n    |from()\n    |window().period(36500d)\n",
            "stream\n    |from()\n        .truncate(7s)\n",
            "stream\n    |from()\n        .round(36500d)\n",
            "stream\n    |from()\n    |derivative('value')\n",
            "stream\n    |from()\n    |stateDuration(lambda: \"value\" > 0)\n",
            "stream\n    |from()\n    |window().period(36500d).every(36500d)\n    |holtWinters('value', 10, 0, 36500d)\n",
            "stream\n    |from()\n    |eval(lambda: humanBytes(\"value\" * 1000000000000000000000000000000.0)).as('b')\n",
        ]
        for script in scripts {
            // Completing is the assertion: an overflow traps the whole test process.
            let (collector, _) = try run(script, points)
            #expect(collector.outputs.count <= points.count * 2, "\(script)")
        }
    }

    @Test("Saturating arithmetic clamps at both ends and is exact inside")
    func saturating() {
        #expect(Int64.max.saturatingAdd(1) == .max)
        #expect(Int64.min.saturatingAdd(-1) == .min)
        #expect(Int64.min.saturatingSubtract(1) == .min)
        #expect(Int64.max.saturatingSubtract(-1) == .max)
        #expect(Int64(40).saturatingAdd(2) == 42)
        #expect((Int64.max / 2).saturatingMultiply(3) == .max)
        #expect((Int64.max / 2).saturatingMultiply(-3) == .min)
        #expect(Int64(-6).saturatingMultiply(7) == -42)
    }

    @Test("A count window of the largest count allocates only for the points it holds")
    func bigCountWindow() throws {
        let points = (0..<3).map { point(fields: ["value": .int($0)], at: $0) }
        let (collector, _) = try run("stream\n    |from()\n    |window().periodCount(1000000).everyCount(1)\n", points)
        #expect(collector.batches.map(\.points.count) == [1, 2, 3])
    }
}

/// Lambdas nested to the limit build and run on a task's executor; deeper ones reach the builder only
/// through template variables, which the builder measures again.
@Suite("Deep lambdas in the engine")
struct DeepLambdaTests {
    @Test("A lambda of 195 chained ORs compiles and evaluates")
    func deepChain() throws {
        let terms = (0..<195).map { "\"value\" == \($0)" }
        let script = "stream\n    |from()\n    |where(lambda: " + terms.joined(separator: " OR ") + ")\n"
        let points = [point(fields: ["value": .int(194)], at: 1), point(fields: ["value": .int(195)], at: 2)]
        let (collector, _) = try run(script, points)
        #expect(collector.points.map(\.time) == [1 * second])
    }

    @Test("A lambda variable substituted into a deep lambda is measured again")
    func substitutedDepth() throws {
        let inner = Array(repeating: "TRUE", count: 190).joined(separator: " AND ")
        let script = "var x = lambda: \(inner)\nstream\n    |from()\n    |where(lambda: " + String(repeating: "!", count: 100) + "x)\n"
        #expect(buildError(script)?.description
            == "4:12: lambda nested deeper than \(Program.maximumDepth) levels once its variables are substituted")
    }
}
