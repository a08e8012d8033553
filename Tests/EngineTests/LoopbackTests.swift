import Foundation
import Synchronization
import Testing
import TICKScript
import TockModel
@testable import Engine

/// An ingress that keeps what a loopback writes.
final class CapturingIngress: PointIngress {
    let taskDBRPs: [DBRP]
    let readsEveryDatabase: Bool
    private let written = Mutex<[Point]>([])
    init(_ dbrps: [DBRP], readsEveryDatabase: Bool = false) {
        taskDBRPs = dbrps
        self.readsEveryDatabase = readsEveryDatabase
    }
    var points: [Point] { written.withLock { $0 } }
    func write(_ points: [Point]) throws { written.withLock { $0 += points } }
}

/// `kapacitorLoopback()` as Kapacitor's kapacitor_loopback.go and pipeline/kapacitor_loopback.go.
@Suite("kapacitorLoopback")
struct LoopbackTests {
    func runWith(_ ingress: CapturingIngress, _ script: String, _ points: [Point]) throws {
        var builder = TaskBuilder(taskID: "t")
        builder.ingress = ingress
        let runner = TaskRunner(pipeline: try builder.build(try Program.parse(script)), taskID: "t", handlers: .init())
        try runner.start()
        runner.write(points)
        try runner.stop()
    }

    func build(_ script: String, ingress: CapturingIngress?) -> ScriptError? {
        var builder = TaskBuilder(taskID: "t")
        builder.ingress = ingress
        do {
            _ = try builder.build(try Program.parse(script))
            return nil
        } catch let e as ScriptError {
            return e
        } catch {
            Issue.record("\(error)")
            return nil
        }
    }

    @Test("a point is written with the node's database, retention policy, measurement and tags")
    func points() throws {
        let ingress = CapturingIngress([DBRP("telegraf", "autogen")])
        try runWith(ingress, """
            stream|from().measurement('cpu').groupBy('host')
                |kapacitorLoopback().database('derived').retentionPolicy('autogen').measurement('cpu_copy')
                    .tag('kapacitor', 'true').tag('host', 'replaced')
            """, [Point(name: "cpu", tags: ["host": "a", "cpu": "0"], fields: ["v": .double(1)], time: 5 * second,
                        database: "telegraf", retentionPolicy: "autogen")])
        let p = try #require(ingress.points.first)
        #expect(ingress.points.count == 1)
        #expect(p.name == "cpu_copy")
        #expect(p.database == "derived" && p.retentionPolicy == "autogen")
        #expect(p.tags == ["cpu": "0", "host": "replaced", "kapacitor": "true"])
        #expect(p.fields == ["v": .double(1)])
        #expect(p.time == 5 * second)
    }

    @Test("a batch's points keep the batch's name (Kapacitor applies .measurement() to points only) and their own tags")
    func batches() throws {
        let ingress = CapturingIngress([DBRP("telegraf", "autogen")])
        try runWith(ingress, """
            stream|from().measurement('cpu')|window().period(10s).every(10s)
                |kapacitorLoopback().database('derived').retentionPolicy('rp').measurement('ignored').tag('k', 'v')
            """, [1, 2, 11].map {
                Point(name: "cpu", tags: ["host": "h\($0)"], fields: ["v": .int($0)], time: $0 * second,
                      database: "telegraf", retentionPolicy: "autogen")
            })
        #expect(ingress.points.map(\.name) == ["cpu", "cpu"])
        #expect(ingress.points.map(\.tags) == [["host": "h1", "k": "v"], ["host": "h2", "k": "v"]])
        #expect(ingress.points.map(\.time) == [1 * second, 2 * second])
        #expect(ingress.points.allSatisfy { $0.database == "derived" && $0.retentionPolicy == "rp" && $0.group == .none })
    }

    @Test("refused when the task is defined", arguments: [
        ("|kapacitorLoopback().retentionPolicy('rp')", "kapacitorLoopback2: must specify a database"),
        ("|kapacitorLoopback().database('db')", "kapacitorLoopback2: must specify a retention policy"),
        ("|kapacitorLoopback().database('telegraf').retentionPolicy('autogen')",
         "kapacitorLoopback2: loop detected on dbrp: \"telegraf\".\"autogen\""),
    ])
    func refused(node: String, message: String) {
        let error = build("stream|from()\n    \(node)", ingress: CapturingIngress([DBRP("telegraf", "autogen")]))
        #expect(error?.message == message)
        #expect(error?.position.line == 2)
        #expect(error?.position.column == 5)
    }

    @Test("a loop through the script's own dbrp statement is refused too")
    func scriptDBRP() {
        let error = build("dbrp \"own\".\"rp\"\nstream|from()|kapacitorLoopback().database('own').retentionPolicy('rp')",
                          ingress: CapturingIngress([]))
        #expect(error?.message == "kapacitorLoopback2: loop detected on dbrp: \"own\".\"rp\"")
    }

    @Test("a task that reads every database cannot loop back: its output would reach it again")
    func readsEverything() {
        let error = build("stream|from()|kapacitorLoopback().database('x').retentionPolicy('y')",
                          ingress: CapturingIngress([], readsEveryDatabase: true))
        #expect(error?.message.hasPrefix("kapacitorLoopback2: loop detected on dbrp: \"x\".\"y\": the task reads every database") == true)
    }

    @Test("nothing can follow the node, and a runner without an ingress refuses it")
    func edges() {
        let child = build("stream|from()|kapacitorLoopback().database('x').retentionPolicy('y')|log()",
                          ingress: CapturingIngress([DBRP("a", "b")]))
        #expect(child?.message == "kapacitorLoopback2 has no outgoing edge; log cannot follow it")
        let none = build("stream|from()|kapacitorLoopback().database('x').retentionPolicy('y')", ingress: nil)
        #expect(none?.message == "kapacitorLoopback2: kapacitorLoopback needs the engine's ingress, which this runner does not provide")
    }
}

/// `trickle()` and `noOp()` as Kapacitor's trickle.go and noop.go.
@Suite("trickle and noOp")
struct TrickleNoOpTests {
    @Test("trickle turns each batch point into a point of the batch's name and group, without database")
    func trickle() throws {
        let (c, _) = try run("""
            stream|from().measurement('cpu').groupBy('host')|window().period(10s).every(10s)|trickle()
            """, [
                Point(name: "cpu", tags: ["host": "a", "core": "1"], fields: ["v": .int(1)], time: 1 * second, database: "db", retentionPolicy: "rp"),
                Point(name: "cpu", tags: ["host": "a", "core": "2"], fields: ["v": .int(2)], time: 2 * second, database: "db", retentionPolicy: "rp"),
                Point(name: "cpu", tags: ["host": "a", "core": "1"], fields: ["v": .int(3)], time: 12 * second, database: "db", retentionPolicy: "rp"),
            ])
        let points = c.points
        #expect(points.map(\.time) == [1 * second, 2 * second])
        #expect(points.map { $0.fields["v"] } == [.int(1), .int(2)])
        #expect(points.map(\.tags) == [["core": "1", "host": "a"], ["core": "2", "host": "a"]])
        #expect(points.allSatisfy { $0.name == "cpu" && $0.database == "" && $0.retentionPolicy == "" })
        #expect(points.allSatisfy { $0.dimensions == Dimensions(tagNames: ["host"]) && $0.group == GroupID("host=a") })
    }

    @Test("trickle needs a batch edge")
    func trickleOnStream() {
        let error = buildError("stream|from()\n  |trickle()")
        #expect(error?.message == "trickle needs a batch edge but from1 provides a stream; window() or query() needed before trickle")
        #expect(error?.position.line == 2)
    }

    @Test("noOp hands on points, batches, barriers and deletions unchanged")
    func noOp() throws {
        let node = try #require(NodeRegistry.all["noOp"]).make(flowConfiguration("noOp"))
        let out = SignalRecordingOutput()
        let p = hostPoint("a", at: 1)
        let b = Barrier(group: hostGroup("a"), time: 2 * second)
        try node.receive(.point(p), port: 0, output: out)
        try node.barrier(b, port: 0, output: out)
        try node.deleteGroup(hostGroup("a"), port: 0, output: out)
        #expect(out.emitted == [.message(.point(p)), .barrier(b), .deleteGroup(hostGroup("a"))])
    }

    @Test("cloud autoscalers and queryFlux are refused by name at define time", arguments: [
        ("stream|from()\n  |ec2Autoscale()", "ec2Autoscale() is not supported by Tock: it has no AWS EC2 autoscaling service", 2, 3),
        ("stream|from()\n  |k8sAutoscale().cluster('c')", "k8sAutoscale() is not supported by Tock: it has no Kubernetes autoscaling service", 2, 3),
        ("stream|from()|swarmAutoscale()", "swarmAutoscale() is not supported by Tock: it has no Docker Swarm autoscaling service", 1, 14),
        ("batch\n  |queryFlux('from(bucket: \"b\")')", "queryFlux() is not supported by Tock: it has no Flux (InfluxDB 2) query client", 2, 3),
    ])
    func unsupported(script: String, message: String, line: Int, column: Int) {
        let error = buildError(script)
        #expect(error?.message == message)
        #expect(error?.position.line == line)
        #expect(error?.position.column == column)
    }
}
