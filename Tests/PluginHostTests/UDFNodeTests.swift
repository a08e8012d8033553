import Engine
import Foundation
import PluginHost
import Testing
import TockModel

@Suite("@name() nodes over stdio and sockets", .serialized)
struct UDFNodeTests {
    static let avg = Repo.pythonUDF("avg", script: Repo.fixtures + "/crashy_avg.py")

    @Test("Info is fetched at load and cached per UDF name")
    func info() throws {
        let harness = try Harness(Self.avg)
        let info = try #require(try harness.registry.info(for: "avg"))
        #expect(info == UDFInfo(wants: .stream, provides: .stream,
                                options: ["field": [.string], "size": [.int], "as": [.string]]))
        #expect(try harness.registry.info(for: "avg") == info)
        #expect(try harness.registry.info(for: "unknown") == nil)
    }

    @Test("a stream point goes out as one point request; the answer comes back as a stream point")
    func streamPath() throws {
        let harness = try Harness(Self.avg)
        let (node, output) = try harness.node("avg", nodeID: "avg2", options: [
            UDFOption(name: "field", values: [.string("value")]),
            UDFOption(name: "size", values: [.int(3)]),
            UDFOption(name: "as", values: [.string("mean")]),
        ])
        let dims = Dimensions(tagNames: ["host"])
        for (i, v) in [1.0, 2, 3, 4].enumerated() {
            try node.receive(point(v, time: Int64(i + 1) * 1_000_000_000, tags: ["host": "a", "dc": "x"],
                                   group: GroupID("host=a"), dimensions: dims), port: 0, output: output)
        }
        #expect(output.wait { $0.points.count == 4 })
        let points = output.points
        #expect(points.map { $0.double("mean") } == [1, 1.5, 2, 3])
        #expect(points.map(\.fields.count) == [1, 1, 1, 1])
        #expect(points.map(\.time) == [1, 2, 3, 4].map { $0 * 1_000_000_000 })
        let first = try #require(points.first)
        #expect(first.name == "cpu")
        #expect(first.tags == ["host": "a", "dc": "x"])
        #expect(first.database == "db")
        #expect(first.retentionPolicy == "rp")
        #expect(first.dimensions == dims)
        #expect(first.group == GroupID("host=a"))

        // A snapshot asked for is stored; stopping takes none of its own.
        let snapshot = try node.snapshot()
        #expect(String(decoding: snapshot, as: UTF8.self) == #"{"values": [2.0, 3.0, 4.0]}"#)
        // (The reader thread stores it just after handing it to the caller.)
        #expect(output.wait { _ in harness.registry.snapshots.snapshot(taskID: "task1", nodeID: "avg2") == snapshot })
        harness.registry.snapshots.save([], taskID: "task1", nodeID: "avg2")
        #expect(node.stop(output: output) == .pending)
        #expect(output.waitForEnd())
        #expect(output.finished)
        #expect(output.failure == nil)
        #expect(harness.registry.snapshots.snapshot(taskID: "task1", nodeID: "avg2") == [])
    }

    @Test("options reach Init with their exact types, repeated options included")
    func optionTypes() throws {
        let harness = try Harness(Repo.pythonUDF("echo", script: Repo.fixtures + "/options_echo.py"))
        let (node, output) = try harness.node("echo", nodeID: "echo1", options: [
            UDFOption(name: "b", values: [.bool(true)]),
            UDFOption(name: "i", values: [.int(-3)]),
            UDFOption(name: "f", values: [.float(2.5)]),
            UDFOption(name: "s", values: [.string("x")]),
            UDFOption(name: "d", values: [.duration(90 * GoDuration.second)]),
            UDFOption(name: "pair", values: [.int(7), .string("y")]),
            UDFOption(name: "i", values: [.int(4)]),
        ])
        try node.receive(point(0, time: 0), port: 0, output: output)
        #expect(output.wait { $0.points.count == 8 })
        let seen = output.points.map { p -> String in
            guard case .string(let t)? = p.fields["type"], case .string(let v)? = p.fields["value"] else { return "?" }
            return "\(p.name):\(t):\(v)"
        }
        #expect(seen == ["b:BOOL:True", "i:INT:-3", "f:DOUBLE:2.5", "s:STRING:x", "d:DURATION:90000000000",
                         "pair:INT:7", "pair:STRING:y", "i:INT:4"])
        _ = node.stop(output: output)
        #expect(output.waitForEnd())
    }

    @Test("options the UDF does not declare, or cannot receive, are refused before it starts")
    func badOptions() throws {
        let harness = try Harness(Repo.pythonUDF("echo", script: Repo.fixtures + "/options_echo.py"))
        #expect {
            _ = try harness.registry.makeNode(name: "echo", taskID: "t", nodeID: "echo1",
                                              options: [UDFOption(name: "colour", values: [.string("red")])])
        } throws: { error in
            String(describing: error) == #"UDF "echo" (node echo1) cannot take an option: colour is not declared in its Info"#
        }
        #expect {
            _ = try harness.registry.makeNode(name: "echo", taskID: "t", nodeID: "echo1",
                                              options: [UDFOption(name: "s", values: [.regex("^a")])])
        } throws: { error in
            String(describing: error).hasPrefix(
                #"UDF "echo" (node echo1) cannot take an option: option s: a UDF option takes bool, int, float, string or duration values"#)
        }
        #expect {
            _ = try harness.registry.makeNode(name: "nothere", taskID: "t", nodeID: "n1", options: [])
        } throws: { error in
            String(describing: error) == #"UDF "nothere" (node n1) is not configured (no [udf.functions.nothere] table)"#
        }
    }

    static let batch = Batch(
        name: "cpu", group: GroupID("cpu\nhost=a"), tags: ["host": "a"], dimensions: Dimensions(byName: true, tagNames: ["host"]),
        tmax: 10_000, points: [
            BatchPoint(time: 1_000, fields: ["value": .double(1)], tags: ["host": "a", "core": "0"]),
            BatchPoint(time: 2_000, fields: ["value": .double(2)], tags: ["host": "a", "core": "1"]),
            BatchPoint(time: 3_000, fields: ["value": .double(6)], tags: ["host": "a", "core": "2"]),
        ])

    @Test("a batch goes out as begin, points, end and comes back as one Batch")
    func batchToBatch() throws {
        let harness = try Harness(Repo.pythonUDF("double", script: Repo.fixtures + "/batch_stats.py", env: ["PROVIDES": "batch"]))
        let (node, output) = try harness.node("double", nodeID: "double3")
        try node.receive(.batch(Self.batch), port: 0, output: output)
        try node.receive(.batch(Self.batch), port: 0, output: output)
        #expect(output.wait { $0.batches.count == 2 })
        let b = try #require(output.batches.first)
        #expect(b.name == "cpu")
        #expect(b.tags == ["host": "a"])
        #expect(b.tmax == 10_000)
        #expect(b.byName)
        #expect(b.group == GroupID("cpu\nhost=a"))
        #expect(b.points.map(\.time) == [1_000, 2_000, 3_000])
        #expect(b.points.map { $0.fields["value"] } == [.double(2), .double(4), .double(12)])
        #expect(b.points.map { $0.tags["core"] } == ["0", "1", "2"])
        _ = node.stop(output: output)
        #expect(output.waitForEnd())
        #expect(output.finished)
    }

    @Test("a batch-in, stream-out UDF emits stream points")
    func batchToStream() throws {
        let harness = try Harness(Repo.pythonUDF("stats", script: Repo.fixtures + "/batch_stats.py", env: ["PROVIDES": "stream"]))
        let info = try #require(try harness.registry.info(for: "stats"))
        #expect(info.wants == .batch && info.provides == .stream)
        let (node, output) = try harness.node("stats", nodeID: "stats1")
        try node.receive(.batch(Self.batch), port: 0, output: output)
        #expect(output.wait { $0.points.count == 1 })
        let p = try #require(output.points.first)
        #expect(p.name == "cpu")
        #expect(p.time == 10_000)
        #expect(p.fields == ["count": .int(3), "mean": .double(3)])
        #expect(p.tags == ["host": "a"])
        #expect(p.group == GroupID("host=a"))
        _ = node.stop(output: output)
        #expect(output.waitForEnd())
    }

    @Test("a socket UDF: one connection for Info, one per node")
    func socketUDF() throws {
        let path = temporaryPath("sock")
        let server = Process()
        server.executableURL = URL(fileURLWithPath: Repo.python)
        server.arguments = ["-u", Repo.fixtures + "/socket_echo.py", path]
        server.environment = ["PYTHONPATH": Repo.pythonPath]
        try server.run()
        defer {
            // Foundation starts children with SIGTERM blocked; SIGKILL always works.
            kill(server.processIdentifier, SIGKILL)
            server.waitUntilExit()
            try? FileManager.default.removeItem(atPath: path)
        }
        let harness = try Harness("""
        [udf.functions.echo]
          socket = "\(path)"
          timeout = "2s"
        """)
        #expect(try harness.registry.info(for: "echo") == UDFInfo(wants: .stream, provides: .stream, options: [:]))
        let (node, output) = try harness.node("echo", nodeID: "echo1")
        #expect(node.processID == nil)
        for i in 0..<3 { try node.receive(point(Double(i), time: Int64(i)), port: 0, output: output) }
        #expect(output.wait { $0.points.count == 3 })
        #expect(output.points.map { $0.double("value") } == [0, 1, 2])
        _ = node.stop(output: output)
        #expect(output.waitForEnd())
        #expect(output.finished)
        #expect(output.failure == nil)
    }
}
