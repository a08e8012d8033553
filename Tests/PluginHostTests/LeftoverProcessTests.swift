import Engine
import Foundation
import PluginHost
import Testing
import TockModel

/// What a UDF starts does not outlive it: `spawner.py` starts `sleep 1000` in its own process group and
/// another in a session of its own (`setsid`), both holding its stdout and stderr, and writes their pids
/// to a file. Whether the task stops or the UDF exits by itself, both must be gone afterwards.
@Suite("UDF grandchildren", .serialized)
struct LeftoverProcessTests {
    static func spawner(pidsFile: String, exitAfter: Int? = nil) throws -> Harness {
        var env = ["GRANDCHILD_PIDS": pidsFile]
        if let exitAfter { env["EXIT_AFTER"] = String(exitAfter) }
        return try Harness(Repo.pythonUDF("spawn", script: Repo.fixtures + "/spawner.py",
                                          extra: "  restart = \"stop\"\n", env: env))
    }

    @Test("stopping the task stops the UDF's grandchildren, in its group and in a session of their own")
    func stopStopsGrandchildren() throws {
        let pidsFile = temporaryPath("grandchildren")
        defer { try? FileManager.default.removeItem(atPath: pidsFile) }
        let (node, output) = try Self.spawner(pidsFile: pidsFile).node("spawn", nodeID: "spawn1")
        let grandchildren = try Grandchildren(file: pidsFile)
        defer { grandchildren.killAll() }
        #expect(grandchildren.running == grandchildren.all, "the fixture's grandchildren run while the task does")

        try node.receive(point(1, time: 1), port: 0, output: output)
        #expect(output.wait { $0.points.count == 1 })
        #expect(node.stop(output: output) == .pending)
        #expect(output.waitForEnd())
        #expect(output.failure == nil)
        #expect(output.finished)
        #expect(grandchildren.waitUntilGone().isEmpty, "still running after the task stopped")
    }

    @Test("a UDF that exits while its grandchildren hold its output open is reported, and they are stopped")
    func exitStopsGrandchildren() throws {
        let pidsFile = temporaryPath("grandchildren")
        defer { try? FileManager.default.removeItem(atPath: pidsFile) }
        let (node, output) = try Self.spawner(pidsFile: pidsFile, exitAfter: 2).node("spawn", nodeID: "spawn2")
        let grandchildren = try Grandchildren(file: pidsFile)
        defer { grandchildren.killAll() }

        for i in 1...2 { try node.receive(point(Double(i), time: Int64(i)), port: 0, output: output) }
        #expect(output.waitForEnd())
        let text = String(describing: try #require(output.failure))
        #expect(text.hasPrefix(#"UDF "spawn" (node spawn2) exited with status 3 after 2 points: exiting after 2 points"#))
        #expect(output.points.count == 2)
        #expect(grandchildren.waitUntilGone().isEmpty, "still running after the UDF exited")
    }
}

/// The pids `spawner.py` wrote, and whether those processes still run.
struct Grandchildren {
    let all: Set<Int32>

    init(file: String) throws {
        let text = try String(contentsOfFile: file, encoding: .utf8)
        all = Set(text.split(separator: "\n").compactMap { $0.split(separator: " ").last.flatMap { Int32($0) } })
        guard all.count == 2 else { throw CocoaError(.fileReadCorruptFile) }
    }

    /// Those that have not ended (a zombie has ended).
    var running: Set<Int32> { all.filter(isRunning) }

    /// Waits (up to a generous limit, so a host that leaves them fails the test instead of hanging it)
    /// until none runs; returns those still running.
    func waitUntilGone(seconds: Double = 15) -> Set<Int32> {
        let deadline = Date().addingTimeInterval(seconds)
        while !running.isEmpty && Date() < deadline { Thread.sleep(forTimeInterval: 0.05) }
        return running
    }

    /// Cleans up after a failed test.
    func killAll() { for pid in running { kill(pid, SIGKILL) } }
}

/// Whether `pid` names a process that has not ended (`/proc/PID/stat` exists and is not a zombie's).
func isRunning(_ pid: Int32) -> Bool {
    guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
          let close = stat.lastIndex(of: ")") else { return false }
    let state = stat[stat.index(after: close)...].trimmingCharacters(in: .whitespaces).first
    return state != "Z" && state != "X"
}
