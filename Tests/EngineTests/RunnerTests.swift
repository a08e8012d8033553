import Foundation
import Testing
import TICKScript
import TockModel
@testable import Engine

/// A UDF-like node: hands each point to a background thread that posts it back doubled, and drains at stop.
final class AsyncDoubler: Node, @unchecked Sendable {
    private let queue = DispatchQueue(label: "async-doubler")
    func receive(_ message: Message, port: Int, output: any NodeOutput) throws {
        guard case .point(let p) = message else { return }
        queue.async {
            var doubled = p
            if case .int(let v)? = p.fields["v"] { doubled.fields["v"] = .int(v * 2) }
            output.post(.point(doubled))
        }
    }
    func stop(output: any NodeOutput) -> StopResult {
        // The last responses arrive after stop was called, as a UDF's do.
        queue.asyncAfter(deadline: .now() + .milliseconds(20)) { output.finish() }
        return .pending
    }
}

/// A node that fails the task on a point with `"fatal"`.
final class Failing: Node {
    func receive(_ message: Message, port: Int, output: any NodeOutput) throws {
        if case .point(let p) = message, p.fields["fatal"] != nil {
            output.fail(LambdaError("child process died"))
            return
        }
        output.emit(message)
    }
}

struct AsyncUDFs: UDFProvider {
    func info(for name: String) throws -> UDFInfo? {
        UDFInfo(wants: .stream, provides: .stream, options: [:])
    }
    func makeNode(name: String, taskID: String, nodeID: String, options: [UDFOption]) throws -> any Node {
        name == "doubler" ? AsyncDoubler() : Failing()
    }
}

@Suite("Task runner")
struct RunnerTests {
    @Test("posted messages from other threads are delivered before a pending node's children stop")
    func pendingStop() throws {
        let points = (1...100).map { point(fields: ["v": .int(Int64($0))], at: Int64($0)) }
        let (c, runner) = try run("stream|from()@doubler()|eval(lambda: \"v\" + 1).as('v')", points, udfs: AsyncUDFs())
        #expect(c.points.count == 100)
        let expected: [FieldValue?] = (1...100).map { FieldValue.int(Int64($0) * 2 + 1) }
        #expect(c.points.map { $0.fields["v"] } == expected)
        #expect(runner.stats().map(\.received) == [100, 100, 100, 100])
    }

    @Test("a node's failure ends the task with its error, named after the node")
    func failure() throws {
        let c = Collector()
        let runner = try TaskRunner(script: "stream|from()@failing()", options: .init(taskID: "t", udfProvider: AsyncUDFs()),
                                    handlers: c.handlers)
        try runner.start()
        runner.write([point(fields: ["v": .int(1)], at: 1), point(fields: ["fatal": .bool(true)], at: 2)])
        runner.write([point(fields: ["v": .int(3)], at: 3)])
        #expect(throws: TaskError.self) { try runner.stop() }
        #expect(runner.state.ended)
        #expect("\(runner.state.error!)" == "failing2: child process died")
        #expect(c.points.count == 1)
    }

    @Test("writes after the end are dropped, not blocking")
    func writesAfterEnd() throws {
        let (c, runner) = try run("stream|from()", [point(fields: ["v": .int(1)], at: 1)])
        runner.write([point(fields: ["v": .int(2)], at: 2)])
        #expect(c.points.count == 1)
    }

    @Test("stats while running come from the executor")
    func liveStats() throws {
        let runner = try TaskRunner(script: "stream|from()|window().period(10s).every(10s)", options: .init(taskID: "t"),
                                    handlers: Collector().handlers)
        try runner.start()
        runner.write((0..<25).map { point(fields: ["v": .int(Int64($0))], at: Int64($0)) })
        let stats = runner.stats()
        #expect(stats.map(\.received) == [25, 25, 25])
        #expect(stats[2].emitted == 2)
        #expect(runner.dot().contains("window2 [avg_exec_time_ns="))
        try runner.stop()
    }

    @Test("nodes keep Kapacitor's own counters: events per level on alert, failed expressions on eval")
    func nodeCounters() throws {
        let values: [Int64] = [1, 6, 9, 9, 2, -1]
        let points = values.enumerated().map { i, v in
            v < 0 ? point(fields: ["other": .int(0)], at: Int64(i)) : point(fields: ["v": .int(v)], at: Int64(i))
        }
        let (_, runner) = try run("""
            stream|from()|eval(lambda: "v" * 1).as('v')|alert().warn(lambda: "v" > 5).crit(lambda: "v" > 8)
            """, points)
        let stats = runner.stats()
        // 1 stays OK (no event); 6 WARNING, 9 and 9 CRITICAL (every event, not only changes); 2 the recovery.
        #expect(stats[3].counters == ["alerts_triggered": 4, "alerts_inhibited": 0, "oks_triggered": 1, "infos_triggered": 0,
                                      "warns_triggered": 1, "crits_triggered": 2])
        #expect(stats[2].counters == ["eval_errors": 1], "the point without \"v\" fails the expression")
        let alertLine = runner.dot().split(separator: "\n").first { $0.hasPrefix("alert3 [") } ?? ""
        #expect(alertLine.hasPrefix(#"alert3 [alerts_inhibited="0" alerts_triggered="4" avg_exec_time_ns="#),
                "the graph lists a node's statistics sorted by name, as kapacitor show does: \(alertLine)")
        #expect(alertLine.contains(#"crits_triggered="2" errors="0" in="5" infos_triggered="0" oks_triggered="1" out="4" warns_triggered="1" ];"#),
                "eval dropped one of the six points: \(alertLine)")
    }
}

/// Records the inbound port of every message.
final class PortRecorder: Node, @unchecked Sendable {
    nonisolated(unsafe) static var seen: [Int] = []
    func receive(_ message: Message, port: Int, output: any NodeOutput) throws {
        Self.seen.append(port)
        output.emit(message)
    }
}

@Suite("Node arguments become inbound ports")
struct PortTests {
    @Test("a node given other nodes as arguments receives them on ports 1…")
    func ports() throws {
        var registry = NodeRegistry.all
        registry["pair"] = NodeSpec(name: "pair", arguments: Signature(variadic: .node), wants: .stream, provides: .stream,
                                    make: { _ in PortRecorder() })
        let script = """
        var a = stream|from().measurement('a')
        var b = stream|from().measurement('b')
        a|pair(b)
        """
        let pipeline = try TaskBuilder(taskID: "t", registry: registry).build(try Program.parse(script))
        #expect(pipeline.nodes.map(\.id) == ["stream0", "from1", "from2", "pair3"])
        #expect(pipeline.nodes[3].parents == [1, 2])
        #expect(pipeline.dot(name: "t") == "digraph t {\nstream0 -> from1;\nstream0 -> from2;\nfrom1 -> pair3;\nfrom2 -> pair3;\n}\n")
        PortRecorder.seen = []
        let runner = TaskRunner(pipeline: pipeline, taskID: "t", handlers: Collector().handlers)
        try runner.start()
        runner.write([point("b", [:], ["v": .int(1)], at: 1), point("a", [:], ["v": .int(2)], at: 2)])
        try runner.stop()
        #expect(PortRecorder.seen == [1, 0])
    }
}
