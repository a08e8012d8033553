import LogTesting
import Logging
import Engine
import Foundation
import PluginHost
import Testing
import TockModel

/// UDFs shaped as Kapacitor ships its Python examples (Tests/Fixtures/udfs/kapacitor-examples, see its README),
/// on Tock's Kapacitor-compatible agent under Python 3: their snapshot answers a `str`, the agent then answers
/// with an error and ends. That is a warning naming the UDF with its stderr, never a failed task; the UDF is
/// started again without state.
@Suite("Kapacitor's example UDFs under Python 3", .serialized)
struct KapacitorExampleTests {
    static func example(_ name: String, _ file: String) -> String {
        Repo.pythonUDF(name, script: Repo.fixtures + "/kapacitor-examples/" + file)
    }

    static func points(_ output: RecordingOutput, _ field: String) -> [String] {
        output.points.map { "\($0.tags["host"] ?? "")=\($0.double(field) ?? .nan)" }
    }

    static func warnings(_ output: RecordingOutput) -> [String] {
        output.logs.filter { $0.0 == .warning }.map(\.1)
    }

    @Test("moving average per group; a failed snapshot is a warning, then the UDF restarts without state")
    func movingAverage() throws {
        let harness = try Harness(Self.example("movingAvg", "moving_avg.py"))
        let (node, output) = try harness.node("movingAvg", nodeID: "movingAvg2", options: [
            UDFOption(name: "field", values: [.string("value")]),
            UDFOption(name: "size", values: [.int(2)]),
            UDFOption(name: "as", values: [.string("avg")]),
        ])
        let dims = Dimensions(tagNames: ["host"])
        func send(_ host: String, _ value: Double, _ time: Int64) throws {
            try node.receive(point(value, time: time, tags: ["host": host], group: GroupID("host=" + host), dimensions: dims),
                             port: 0, output: output)
        }
        for (i, (host, value)) in [("a", 1.0), ("b", 10), ("a", 3), ("b", 20)].enumerated() { try send(host, value, Int64(i)) }
        #expect(output.wait { $0.points.count == 4 })
        #expect(Self.points(output, "avg") == ["a=1.0", "b=10.0", "a=2.0", "b=15.0"])

        // The snapshot's str fails in the agent: an error for whoever asked, naming the UDF and the request.
        do {
            _ = try node.snapshot()
            Issue.record("a snapshot answered with a str was accepted")
        } catch let error as UDFError {
            guard case .snapshotFailed(let message) = error.reason else {
                Issue.record("unexpected reason: \(error)")
                return
            }
            #expect(message.contains("request of type snapshot"))
            #expect(error.description.hasPrefix("UDF \"movingAvg\" (node movingAvg2) could not snapshot: "))
        }
        // The agent then ends: a warning with its last stderr lines (Python's TypeError), a restart without state.
        #expect(output.wait { Self.warnings($0).contains { $0.contains("restarting it without state") } })
        let restart = try #require(Self.warnings(output).first { $0.contains("restarting it without state") })
        #expect(restart.hasPrefix("UDF \"movingAvg\" (node movingAvg2) could not snapshot ("))
        #expect(restart.contains("TypeError"))
        #expect(Self.warnings(output).contains { $0.contains("could not snapshot") && $0.contains("the task goes on") })
        #expect(output.wait { $0.logs.contains { $0.1 == "UDF movingAvg restarted" } })
        #expect(node.restartCount == 1)
        // Without state: host a's window starts again (it would be (3 + 5) / 2 = 4 with its state).
        try send("a", 5, 4)
        #expect(output.wait { $0.points.count == 5 })
        #expect(Self.points(output, "avg").last == "a=5.0")
        #expect(output.failure == nil)
        #expect(node.stop(output: output) == .pending)
        #expect(output.waitForEnd() && output.finished && output.failure == nil)
        // Nothing was stored for the node: neither the failed snapshot nor one at stop.
        #expect(harness.registry.snapshots.snapshot(taskID: "task1", nodeID: "movingAvg2") == nil)
    }

    @Test("batch outliers: a batch comes back with the points outside the fences; its snapshot fails as a warning")
    func outliers() throws {
        let harness = try Harness(Self.example("outliers", "outliers.py"))
        let (node, output) = try harness.node("outliers", nodeID: "outliers3", options: [
            UDFOption(name: "field", values: [.string("value")]),
            UDFOption(name: "scale", values: [.float(1.5)]),
        ])
        // Sorted 1…10, 1000: median 6, Q1 3, Q3 9 (the example's quartiles), IQR 6: fences [-6, 18].
        let values: [Double] = [5, 1, 1000, 2, 3, 4, 6, 7, 8, 9, 10]
        func batch(_ tmax: Int64) -> Message {
            .batch(Batch(name: "cpu", group: GroupID("host=a"), tags: ["host": "a"], dimensions: Dimensions(tagNames: ["host"]),
                         tmax: tmax, points: values.enumerated().map { i, v in
                             BatchPoint(time: Int64(i), fields: ["value": .double(v)], tags: ["host": "a"])
                         }))
        }
        try node.receive(batch(100), port: 0, output: output)
        #expect(output.wait { $0.batches.count == 1 })
        let out = try #require(output.batches.first)
        #expect(out.points.map { $0.fields["value"] } == [.double(1000)])
        #expect(out.points.map(\.time) == [2])
        #expect(out.name == "cpu" && out.tmax == 100 && out.tags == ["host": "a"])

        #expect(throws: UDFError.self) { try node.snapshot() }
        #expect(output.wait { $0.logs.contains { $0.1 == "UDF outliers restarted" } })
        try node.receive(batch(200), port: 0, output: output)
        #expect(output.wait { $0.batches.count == 2 })
        #expect(output.batches.last?.tmax == 200)
        #expect(output.batches.last?.points.map { $0.fields["value"] } == [.double(1000)])
        _ = node.stop(output: output)
        #expect(output.waitForEnd() && output.failure == nil)
    }

    @Test("mirror over a Unix socket (the agent's server mode): a failed snapshot ends one connection, the node dials again")
    func mirrorSocket() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("kmirror-\(getpid())-\(UInt32.random(in: 0...UInt32.max)).sock").path
        let server = Process()
        server.executableURL = URL(fileURLWithPath: Repo.python)
        server.arguments = ["-u", Repo.fixtures + "/kapacitor-examples/mirror.py", path]
        server.environment = ["PYTHONPATH": Repo.pythonPath]
        try server.run()
        defer {
            kill(server.processIdentifier, SIGKILL)
            server.waitUntilExit()
            try? FileManager.default.removeItem(atPath: path)
        }
        let harness = try Harness("""
        [udf.functions.mirror]
          socket = "\(path)"
          timeout = "10s"
        """)
        let (node, output) = try harness.node("mirror", nodeID: "mirror1")
        for i in 0..<20 { try node.receive(point(Double(i), time: Int64(i)), port: 0, output: output) }
        #expect(output.wait { $0.points.count == 20 })
        #expect(throws: UDFError.self) { try node.snapshot() }
        #expect(output.wait { $0.logs.contains { $0.1 == "UDF mirror restarted" } })
        for i in 20..<40 { try node.receive(point(Double(i), time: Int64(i)), port: 0, output: output) }
        #expect(output.wait { $0.points.count == 40 }, "logs: \(output.logs.map(\.1))")
        #expect(output.points.map { $0.double("value")! } == (0..<40).map(Double.init))
        #expect(Self.warnings(output).contains { $0.hasPrefix("UDF \"mirror\" (node mirror1) could not snapshot") })
        _ = node.stop(output: output)
        #expect(output.waitForEnd() && output.failure == nil)
        // The server outlived the connection that failed.
        #expect(server.isRunning)
    }

    @Test("a periodic snapshot answered with a str is a warning; the task is not failed and keeps its output")
    func periodicSnapshotInATask() throws {
        let toml = "[task]\n  snapshot-interval = \"1s\"\n" + Self.example("movingAvg", "moving_avg.py")
        let registry = UDFRegistry(configuration: try UDFConfiguration.parse(toml))
        let collected = Collected()
        let logs = Collected.Logs()
        let runner = try TaskRunner(
            script: """
            stream
              |from().measurement('cpu').groupBy('host')
              @movingAvg().field('value').size(2).as('avg')
            """,
            options: .init(taskID: "ma", udfProvider: registry),
            handlers: .init(logger: .recording { logs.append($0.level, $0.message) },
                            output: { _, message in collected.append(message) }))
        try runner.start()
        runner.write([Point(name: "cpu", tags: ["host": "a"], fields: ["value": .double(1)], time: 1)])
        // Wait for a snapshot (every second) to fail and the UDF to come back.
        let deadline = Date().addingTimeInterval(20)
        while !logs.contains("UDF movingAvg restarted") && Date() < deadline { Thread.sleep(forTimeInterval: 0.05) }
        #expect(logs.contains("UDF movingAvg restarted"))
        runner.write([Point(name: "cpu", tags: ["host": "a"], fields: ["value": .double(3)], time: 2)])
        // Two more intervals: no further snapshot request, so no further restart.
        Thread.sleep(forTimeInterval: 2.2)
        try runner.stop()
        let averages = collected.messages.compactMap { if case .point(let p) = $0 { p.double("avg") } else { nil } }
        // The second average starts again from nothing (2.0 had the state survived).
        #expect(averages == [1, 3])
        #expect(logs.entries.contains { $0.0 == .warning && $0.1.contains("could not snapshot") })
        #expect(!logs.entries.contains { $0.0 == .error })
        // Asked once on the interval, not again after it failed: one failure, one restart.
        #expect(logs.entries.filter { $0.1 == "UDF movingAvg restarted" }.count == 1)
    }
}

extension Collected {
    /// Log lines of a task, from any thread.
    final class Logs: @unchecked Sendable {
        private let lock = NSLock()
        private var _entries: [(LogLevel, String)] = []
        func append(_ level: LogLevel, _ message: String) { lock.lock(); _entries.append((level, message)); lock.unlock() }
        var entries: [(LogLevel, String)] { lock.lock(); defer { lock.unlock() }; return _entries }
        func contains(_ message: String) -> Bool { entries.contains { $0.1 == message } }
    }
}
