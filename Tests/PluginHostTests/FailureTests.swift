import LogTesting
import Engine
import Foundation
import PluginHost
import Testing
import TockModel

/// Misbehaving UDFs (Tests/Fixtures/udfs) and the errors they produce. Timeouts are 2s (1s where the
/// timeout is the subject) so that a loaded machine does not change the story: Info gets the UDF's timeout too.
@Suite("UDF failures", .serialized)
struct FailureTests {
    static func udf(_ name: String, _ script: String, policy: String = "stop", extra: String = "",
                    env: [String: String] = [:]) -> String {
        Repo.pythonUDF(name, script: Repo.fixtures + "/" + script, extra: "  restart = \"\(policy)\"\n" + extra, env: env)
    }

    @Test("a crash ends the task with the exit status, the point count and the last stderr lines")
    func crash() throws {
        let harness = try Harness(Self.udf("avg", "crashy_avg.py", env: ["CRASH_AT": "3"]))
        let (node, output) = try harness.node("avg", nodeID: "avg2")
        for i in 1...3 { try node.receive(point(Double(i), time: Int64(i)), port: 0, output: output) }
        #expect(output.waitForEnd())
        let error = try #require(output.failure as? UDFError)
        let text = String(describing: error)
        #expect(text.hasPrefix(#"UDF "avg" (node avg2) exited with status 1 after 3 points: ZeroDivisionError: division by zero; last stderr: "#))
        #expect(text.contains("about to divide by zero at point 3"))
        #expect(error.stderrTail.last == "ZeroDivisionError: division by zero")
        #expect(error.stderrTail.contains("Traceback (most recent call last):"))
        #expect(output.points.count == 2)
        // The failure was reported once; data that still arrives is dropped without an error per message,
        // and stopping leaves the end to that report (the task ends with it).
        try node.receive(point(4, time: 4), port: 0, output: output)
        #expect(output.points.count == 2)
        #expect(node.stop(output: output) == .pending)
    }

    @Test("the Info request gives up after the UDF's timeout, not a fixed 10s")
    func infoTimeout() throws {
        let registry = UDFRegistry(configuration: try UDFConfiguration.parse(
            Repo.pythonUDF("mute", script: Repo.fixtures + "/mute.py", timeout: "1s")))
        let error = try #require(throws: UDFError.self) { try registry.info(for: "mute") }
        #expect(String(describing: error).hasPrefix(#"UDF "mute" did not answer the Info request within 1s"#))
    }

    @Test("a UDF that stops answering fails after the keepalive timeout")
    func keepalive() throws {
        // Python has to start and answer Info within the timeout too: 5s keeps a loaded machine out of the story.
        let harness = try Harness(Repo.pythonUDF("quiet", script: Repo.fixtures + "/silent.py", timeout: "5s",
                                                 extra: "  restart = \"stop\"\n", env: ["SILENT_AFTER": "2"]))
        let (node, output) = try harness.node("quiet", nodeID: "quiet1")
        for i in 1...2 { try node.receive(point(Double(i), time: Int64(i)), port: 0, output: output) }
        #expect(output.waitForEnd())
        let text = String(describing: try #require(output.failure))
        #expect(text == #"UDF "quiet" (node quiet1) did not answer a keepalive within 5s after 2 points; last stderr: going quiet after 2 points"#)
        #expect(output.points.count == 1)
    }

    @Test("bytes that are not a response fail the UDF", arguments: [
        ("proto", "sent a malformed frame after 1 point: a 5-byte response that does not decode"),
        ("varint", "sent a malformed frame after 1 point: too many bytes when decoding varint, larger than 32bit uint"),
        ("huge", "sent a frame of 100000000 bytes, over the limit of 1048576 bytes (max-frame-size) after 1 point"),
    ])
    func garbage(mode: String, expected: String) throws {
        let harness = try Harness(Self.udf("junk", "garbage.py", extra: "  max-frame-size = 1048576\n", env: ["GARBAGE": mode]))
        let (node, output) = try harness.node("junk", nodeID: "junk1")
        try node.receive(point(1, time: 1), port: 0, output: output)
        #expect(output.waitForEnd())
        let text = String(describing: try #require(output.failure))
        #expect(text.hasPrefix(#"UDF "junk" (node junk1) "# + expected))
        #expect(text.hasSuffix("; last stderr: writing \(mode) garbage"))
    }

    @Test("an ErrorResponse ends the task with the UDF's message")
    func errorResponse() throws {
        let harness = try Harness(Self.udf("picky", "error_response.py", env: ["ERROR_AT": "2"]))
        let (node, output) = try harness.node("picky", nodeID: "picky1")
        for i in 1...2 { try node.receive(point(Double(i), time: Int64(i)), port: 0, output: output) }
        #expect(output.waitForEnd())
        #expect(String(describing: try #require(output.failure)) ==
            #"UDF "picky" (node picky1) sent an error after 2 points: error processing request of type point: field 'value' is negative; last stderr: rejecting point 2"#)
    }

    @Test("Info that lies: Init rejects an option the Info declared")
    func lyingInfo() throws {
        let harness = try Harness(Self.udf("liar", "liar.py"))
        let info = try #require(try harness.registry.info(for: "liar"))
        #expect(info.options["mode"] == [.string])
        #expect {
            _ = try harness.node("liar", nodeID: "liar1", options: [UDFOption(name: "mode", values: [.string("fast")])])
        } throws: { error in
            String(describing: error) ==
                #"UDF "liar" (node liar1) failed to initialize: unknown option mode; last stderr: init rejected: unknown option mode"#
        }
        #expect {
            _ = try harness.node("liar", nodeID: "liar2", options: [UDFOption(name: "alpha", values: [.int(1)])])
        } throws: { error in
            String(describing: error).hasPrefix(#"UDF "liar" (node liar2) failed to initialize: alpha must be a DOUBLE, got INT"#)
        }
        // With the options it really takes, it starts.
        let (node, output) = try harness.node("liar", nodeID: "liar3", options: [UDFOption(name: "size", values: [.int(3)])])
        _ = node.stop(output: output)
        #expect(output.waitForEnd())
        #expect(output.finished)
    }

    @Test("a UDF that exits before answering Info fails the load with its stderr")
    func exitsAtStart() throws {
        let harness = try Harness(Self.udf("early", "exit_at_start.py"))
        #expect {
            _ = try harness.registry.info(for: "early")
        } throws: { error in
            String(describing: error) == #"UDF "early" exited with status 3: config file /etc/nowhere.conf not found"#
        }
    }

    @Test("a program that does not exist")
    func missingProgram() throws {
        let harness = try Harness("""
        [udf.functions.nope]
          prog = "/nonexistent/udf"
          timeout = "500ms"
        """)
        #expect {
            _ = try harness.registry.info(for: "nope")
        } throws: { error in
            String(describing: error) ==
                #"UDF "nope" could not be started: cannot start /nonexistent/udf: No such file or directory"#
        }
    }

    @Test("restart policy: the UDF comes back, restores its snapshot and carries on")
    func restartResumesFromSnapshot() throws {
        let marker = temporaryPath("marker")
        defer { try? FileManager.default.removeItem(atPath: marker) }
        let harness = try Harness(Self.udf("avg", "crashy_avg.py", policy: "restart",
                                           env: ["CRASH_AT": "6", "CRASH_MARKER": marker]))
        let (node, output) = try harness.node("avg", nodeID: "avg2", options: [UDFOption(name: "size", values: [.int(3)])])
        for i in 1...4 { try node.receive(point(Double(i * 10), time: Int64(i)), port: 0, output: output) }
        #expect(output.wait { $0.points.count == 4 })
        // State [20, 30, 40] is saved; point 5 changes it after the snapshot, point 6 crashes the process.
        let snapshot = try node.snapshot()
        #expect(String(decoding: snapshot, as: UTF8.self) == #"{"values": [20.0, 30.0, 40.0]}"#)
        try node.receive(point(50, time: 5), port: 0, output: output)
        #expect(output.wait { $0.points.count == 5 })
        try node.receive(point(60, time: 6), port: 0, output: output)
        #expect(output.wait { $0.logs.contains { $0.1 == "UDF avg restarted" } })
        #expect(node.restartCount == 1)
        try node.receive(point(70, time: 7), port: 0, output: output)
        #expect(output.wait { $0.points.count == 6 })
        // Restored [20, 30, 40] + 70: the mean of 30, 40, 70. Point 6 was in flight and is lost.
        #expect(output.points.map { $0.double("avg") } == [10, 15, 20, 30, 40, 140.0 / 3])
        #expect(output.points.map(\.time) == [1, 2, 3, 4, 5, 7])
        let logs = output.logs.map(\.1)
        #expect(logs.contains { $0.hasPrefix(#"UDF "avg" (node avg2) exited with status 1 after 6 points: ZeroDivisionError"#)
            && $0.hasSuffix("; restarting in 100ms (restart 1)") })
        // stderr is read on its own thread and may trail the data.
        #expect(output.wait { $0.logs.contains { $0.1 == "UDF avg: restored 3 values" } })
        #expect(output.failure == nil)
        _ = node.stop(output: output)
        #expect(output.waitForEnd())
        #expect(output.finished)
        #expect(harness.registry.restartCounts(taskID: "task1") == ["avg2": 1])
    }

    @Test("a crash's log line names the UDF and carries its last stderr lines as metadata (udf, stderr)")
    func crashLogMetadata() throws {
        let marker = temporaryPath("marker")
        defer { try? FileManager.default.removeItem(atPath: marker) }
        let harness = try Harness(Self.udf("avg", "crashy_avg.py", policy: "restart",
                                           env: ["CRASH_AT": "2", "CRASH_MARKER": marker]))
        let (node, output) = try harness.node("avg", nodeID: "avg2")
        for i in 1...2 { try node.receive(point(Double(i), time: Int64(i)), port: 0, output: output) }
        #expect(output.wait { $0.logs.contains { $0.1 == "UDF avg restarted" } })
        let crash = try #require(output.recorder.lines.first { $0.level == .error && $0.message.contains("restarting in") })
        #expect(crash.metadata["udf"] == "avg")
        let stderr = try #require(crash.metadata["stderr"])
        #expect(stderr.split(separator: "\n").last == "ZeroDivisionError: division by zero")
        #expect(stderr.contains("Traceback (most recent call last):"))
        // The message still says it all for a reader of plain lines.
        #expect(crash.message.contains("ZeroDivisionError: division by zero"))
        // The UDF's own stderr lines are logged with its name as metadata too.
        // (stderr is read on its own thread and may trail the data.)
        #expect(output.wait { out in out.recorder.lines.contains { $0.message.hasPrefix("UDF avg: ") && $0.metadata["udf"] == "avg" } })
        _ = node.stop(output: output)
        #expect(output.waitForEnd())
    }

    @Test("restart policy with a UDF that keeps failing keeps restarting, and stop ends it")
    func restartLoopStops() throws {
        let harness = try Harness(Self.udf("avg", "crashy_avg.py", policy: "restart", extra: "  restart-max-backoff = \"200ms\"\n",
                                           env: ["CRASH_AT": "1"]))
        let (node, output) = try harness.node("avg", nodeID: "avg9")
        try node.receive(point(1, time: 1), port: 0, output: output)
        #expect(output.wait { _ in node.restartCount >= 1 })
        // Each restarted process crashes on its first point again; the node keeps coming back.
        try node.receive(point(2, time: 2), port: 0, output: output)
        #expect(output.wait { _ in node.restartCount >= 2 })
        let result = node.stop(output: output)
        if result == .pending { #expect(output.waitForEnd()) }
        #expect(output.failure == nil)
        #expect(output.points.isEmpty)
    }
}
