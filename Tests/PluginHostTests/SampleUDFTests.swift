import Engine
import Foundation
import PluginHost
import Testing
import TockModel

/// The sample UDFs (SampleUDFs/, Kapacitor-compatible, on Tock's Python agent) run by the host.
@Suite("Sample UDFs end to end", .serialized)
struct SampleUDFTests {
    static func sample(_ name: String, _ file: String, timeout: String = "10s") -> String {
        Repo.pythonUDF(name, script: Repo.path("SampleUDFs/" + file), timeout: timeout)
    }

    @Test("movingAvg in a TICKscript task: the mean of the last 2 values per group")
    func movingAverageTask() throws {
        let registry = UDFRegistry(configuration: try UDFConfiguration.parse(Self.sample("movingAvg", "moving_avg.py")))
        let collected = Collected()
        let runner = try TaskRunner(
            script: """
            dbrp "db"."rp"
            stream
              |from().measurement('cpu').groupBy('host')
              @movingAvg().field('value').size(2).as('avg')
            """,
            options: .init(taskID: "ma", udfProvider: registry),
            handlers: .init(output: { _, message in collected.append(message) }))
        try runner.start()
        let lines: [(String, Double)] = [("a", 1), ("b", 10), ("a", 3), ("b", 20), ("a", 5)]
        runner.write(lines.enumerated().map { i, line in
            Point(name: "cpu", tags: ["host": line.0], fields: ["value": .double(line.1)], time: Int64(i + 1),
                  database: "db", retentionPolicy: "rp")
        })
        try runner.stop()
        let points = collected.messages.compactMap { if case .point(let p) = $0 { return p } else { return nil } }
        #expect(points.map { "\($0.tags["host"]!)=\($0.double("avg")!)" } == ["a=1.0", "b=10.0", "a=2.0", "b=15.0", "a=4.0"])
        #expect(points.map(\.group) == ["host=a", "host=b", "host=a", "host=b", "host=a"].map(GroupID.init))
        #expect(points.allSatisfy { $0.fields.count == 1 })
        // No snapshot is taken when the task stops (Kapacitor's snapshotter runs on its interval only).
        #expect(registry.snapshots.snapshot(taskID: "ma", nodeID: "movingAvg2") == nil)
    }

    @Test("outliers: a batch comes back with only the points outside the Tukey fences")
    func outliers() throws {
        let harness = try Harness(Self.sample("outliers", "outliers.py"))
        #expect(try harness.registry.info(for: "outliers")?.wants == .batch)
        let (node, output) = try harness.node("outliers", nodeID: "outliers3", options: [
            UDFOption(name: "field", values: [.string("value")]),
            UDFOption(name: "scale", values: [.float(1.5)]),
        ])
        // Q1 = 2.5, Q3 = 7.5, IQR = 5: fences [-5, 15]; only 100 is outside.
        let values: [Double] = [5, 1, 100, 2, 3, 4, 6, 7, 8]
        let batch = Batch(name: "cpu", group: GroupID("host=a"), tags: ["host": "a"], dimensions: Dimensions(tagNames: ["host"]),
                          tmax: 100, points: values.enumerated().map { i, v in
                              BatchPoint(time: Int64(i), fields: ["value": .double(v)], tags: ["host": "a"])
                          })
        try node.receive(.batch(batch), port: 0, output: output)
        #expect(output.wait { $0.batches.count == 1 })
        let out = try #require(output.batches.first)
        #expect(out.points.map { $0.fields["value"] } == [.double(100)])
        #expect(out.points.map(\.time) == [2])
        #expect(out.name == "cpu" && out.tmax == 100 && out.tags == ["host": "a"] && out.group == GroupID("host=a"))
        _ = node.stop(output: output)
        #expect(output.waitForEnd() && output.failure == nil)
    }

    @Test("tTest: the first window fills the history, a shifted second window gets a tiny p-value")
    func tTest() throws {
        // tTest's agent answers no keepalive while its first window waits for scipy to load, which takes
        // long on a loaded machine: a generous timeout keeps this test about the t-test.
        let harness = try Harness(Self.sample("tTest", "ttest.py", timeout: "120s"))
        let (node, output) = try harness.node("tTest", nodeID: "tTest4", options: [
            UDFOption(name: "field", values: [.string("hotend")]),
            UDFOption(name: "size", values: [.int(100)]),
            UDFOption(name: "alpha", values: [.float(0.001)]),
        ])
        func window(_ values: [Double], tmax: Int64) -> Message {
            .batch(Batch(name: "temperatures", tmax: tmax, points: values.enumerated().map { i, v in
                BatchPoint(time: tmax - 100 + Int64(i), fields: ["hotend": .double(v)])
            }))
        }
        try node.receive(window([10, 12, 11, 13, 9, 11, 10, 12], tmax: 1_000), port: 0, output: output)
        try node.receive(window([20, 22, 21, 23, 19, 21, 20, 22], tmax: 2_000), port: 0, output: output)
        #expect(output.wait { $0.points.count == 1 }, "\(output.logs.map(\.1)) \(String(describing: output.failure))")
        let p = try #require(output.points.first)
        #expect(p.name == "temperatures")
        #expect(p.time == 2_000)
        // Welch's t-test of mean 11 against mean 21, both with sample variance 12/7 and n = 8 (scipy).
        #expect(abs(p.double("t")! - -15.275252316519465) < 1e-9)
        #expect(abs(p.double("pvalue")! - 4.0002064812379315e-10) < 1e-15)
        _ = node.stop(output: output)
        #expect(output.waitForEnd() && output.failure == nil)
    }

    @Test("mirror over stdio echoes points unchanged")
    func mirrorStdio() throws {
        let harness = try Harness(Self.sample("mirror", "mirror.py"))
        let (node, output) = try harness.node("mirror", nodeID: "mirror1")
        var sent: [Point] = []
        for i in 0..<200 {
            let fields: Fields = ["f": .double(Double(i)), "i": .int(Int64(i)), "s": .string("x"), "b": .bool(i % 2 == 0)]
            let tags: Tags = ["k": "v\(i % 3)"]
            sent.append(Point(name: "m", tags: tags, fields: fields, time: Int64(i), database: "db", retentionPolicy: "rp"))
        }
        for p in sent { try node.receive(.point(p), port: 0, output: output) }
        #expect(output.wait { $0.points.count == 200 })
        #expect(output.points == sent)
        _ = node.stop(output: output)
        #expect(output.waitForEnd() && output.failure == nil)
    }

    @Test("mirror over a Unix socket: one server, one connection per node")
    func mirrorSocket() throws {
        let path = temporaryPath("mirror.sock")
        let server = Process()
        server.executableURL = URL(fileURLWithPath: Repo.python)
        server.arguments = ["-u", Repo.path("SampleUDFs/mirror.py"), "--socket", path]
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
          timeout = "2s"
        """)
        let nodes = try (1...2).map { try harness.node("mirror", nodeID: "mirror\($0)") }
        for (n, (node, output)) in nodes.enumerated() {
            for i in 0..<50 { try node.receive(point(Double(i + n * 100), time: Int64(i)), port: 0, output: output) }
        }
        for (n, (node, output)) in nodes.enumerated() {
            #expect(output.wait { $0.points.count == 50 })
            #expect(output.points.map { $0.double("value")! } == (0..<50).map { Double($0 + n * 100) })
            _ = node.stop(output: output)
            #expect(output.waitForEnd() && output.failure == nil)
        }
    }
}

final class Collected: @unchecked Sendable {
    private let lock = NSLock()
    private var _messages: [Message] = []
    func append(_ m: Message) { lock.lock(); _messages.append(m); lock.unlock() }
    var messages: [Message] { lock.lock(); defer { lock.unlock() }; return _messages }
}
