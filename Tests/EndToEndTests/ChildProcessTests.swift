import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// `tock run` and `tock serve` with UDFs: what a UDF starts does not outlive it, a UDF failure under
/// `restart = "stop"` fails the run once, and a live stream is processed as it arrives.
@Suite("Child processes end to end", .serialized)
struct ChildProcessTests {
    static let python = "/usr/bin/env"
    static let fixtures = TockBinary.root + "/Tests/Fixtures/udfs"

    /// A `[udf.functions.NAME]` table running a fixture with `restart = "stop"`.
    static func udf(_ name: String, _ script: String, env: [String: String] = [:], timeout: String = "10s") -> String {
        var toml = """
        [udf.functions.\(name)]
          prog = "/usr/bin/env"
          args = ["python3", "-u", "\(fixtures)/\(script)"]
          timeout = "\(timeout)"
          restart = "stop"
          [udf.functions.\(name).env]
            PYTHONPATH = "\(TockBinary.root)/Protocol/python:\(fixtures)"

        """
        for (k, v) in env.sorted(by: { $0.key < $1.key }) { toml += "    \(k) = \"\(v)\"\n" }
        return toml
    }

    static func write(_ text: String, to path: String) throws -> String {
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    static func points(_ count: Int, from first: Int = 1) -> String {
        (first..<(first + count)).map { "cpu,host=a value=\($0) \($0)\n" }.joined()
    }

    // MARK: Grandchildren

    @Test("after `tock run` exits, the UDF's grandchildren (its group and a setsid session) are gone")
    func runLeavesNothing() throws {
        let dir = try DaemonProcess.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let pidsFile = dir + "/pids"
        let config = try Self.write("[udf]\n" + Self.udf("spawn", "spawner.py", env: ["GRANDCHILD_PIDS": pidsFile]), to: dir + "/tock.conf")
        let script = try Self.write("dbrp \"db\".\"rp\"\nstream|from().measurement('cpu')@spawn()\n", to: dir + "/spawn.tick")
        let input = try Self.write(Self.points(3), to: dir + "/in.lp")

        let result = try Spawned.run(["run", script, "--input", input, "--config", config, "--quiet"])
        let grandchildren = try Grandchildren(file: pidsFile)
        defer { grandchildren.killAll() }
        #expect(result.status == 0, "stderr: \(result.stderr)")
        #expect(result.stdout.split(separator: "\n").count == 3)
        #expect(grandchildren.waitUntilGone().isEmpty, "still running after tock run exited")
    }

    @Test("a daemon task's UDF grandchildren are gone after the task is disabled, and after SIGTERM")
    func daemonLeavesNothing() async throws {
        let dir = try DaemonProcess.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let config = try Self.write(
            "[udf]\n" + Self.udf("spawnA", "spawner.py", env: ["GRANDCHILD_PIDS": dir + "/pidsA"])
                + Self.udf("spawnB", "spawner.py", env: ["GRANDCHILD_PIDS": dir + "/pidsB"]),
            to: dir + "/tock.conf")
        let a = try Self.write("dbrp \"db\".\"rp\"\nstream|from().measurement('cpu')@spawnA()|httpOut('out')\n", to: dir + "/a.tick")
        let b = try Self.write("dbrp \"db\".\"rp\"\nstream|from().measurement('cpu')@spawnB()|httpOut('out')\n", to: dir + "/b.tick")
        let daemon = try await DaemonProcess(dataDirectory: dir, config: config)
        defer { daemon.kill9() }
        for (id, tick) in [("a", a), ("b", b)] {
            let defined = try daemon.cli(["define", id, "-tick", tick])
            #expect(defined.status == 0, "\(defined.stderr)")
            let enabled = try daemon.cli(["enable", id])
            #expect(enabled.status == 0, "\(enabled.stderr)")
        }
        let first = try Grandchildren(file: dir + "/pidsA", waiting: 20)
        let second = try Grandchildren(file: dir + "/pidsB", waiting: 20)
        defer { first.killAll(); second.killAll() }
        #expect(first.running == first.all)
        #expect(second.running == second.all)

        #expect(try daemon.cli(["disable", "a"]).status == 0)
        #expect(first.waitUntilGone().isEmpty, "still running after the task was disabled")
        #expect(second.running == second.all, "the other task's UDF keeps its children")

        #expect(daemon.stop() == 0)
        #expect(second.waitUntilGone().isEmpty, "still running after the daemon stopped")
    }

    // MARK: tock run tells the truth

    @Test("a UDF crash in one of two branches fails `tock run` once, keeping what the UDF returned before")
    func crashInOneBranch() throws {
        let dir = try DaemonProcess.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let config = try Self.write("[udf]\n" + Self.udf("avg", "crashy_avg.py", env: ["CRASH_AT": "5"]), to: dir + "/tock.conf")
        let script = try Self.write("""
            dbrp "db"."rp"
            var data = stream|from().measurement('cpu')
            data@avg().field('value').size(1).as('avg')
            data|where(lambda: "value" > 0)

            """, to: dir + "/two.tick")
        let input = try Self.write(Self.points(5_000), to: dir + "/in.lp")

        let result = try Spawned.run(["run", script, "--input", input, "--config", config])
        #expect(result.status == 1, "stderr: \(result.stderr)")
        let failures = result.stderr.split(separator: "\n").filter { $0.contains("exited with status 1") }
        #expect(failures.count == 1, "stderr: \(result.stderr.prefix(4000))")
        #expect(failures.first?.contains("ZeroDivisionError: division by zero") == true)
        // The four points the UDF averaged before crashing on the fifth are in the output.
        let averaged = result.stdout.split(separator: "\n").filter { $0.contains("\"avg\"") }
        #expect(averaged.count == 4, "stdout: \(result.stdout.prefix(2000))")
        for value in 1...4 { #expect(averaged.contains { $0.contains("[\"1970-01-01T00:00:00.00000000\(value)Z\",\(value)]") }) }
    }

    @Test("`tock run --input -` prints results for the first points while its input is still open")
    func streamsStandardInput() throws {
        let dir = try DaemonProcess.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let script = try Self.write("dbrp \"db\".\"rp\"\nstream|from().measurement('cpu')|eval(lambda: \"value\" * 2.0).as('double')\n",
                                    to: dir + "/double.tick")
        let run = try Spawned(["run", script, "--input", "-"])
        defer { run.kill() }
        run.send(Self.points(2))
        let first = run.readStdout(lines: 2, seconds: 30)
        #expect(first.count == 2, "no output while the input is open; stderr: \(run.stderrText)")
        #expect(first.first?.contains("\"double\"") == true)
        #expect(run.isRunning, "tock run stays up while its input is open")
        run.send(Self.points(1, from: 3))
        #expect(run.readStdout(lines: 1, seconds: 30).count == 1)
        run.closeInput()
        #expect(run.wait(seconds: 30) == 0)
    }
}

/// The pids `spawner.py` wrote, and whether those processes still run.
struct Grandchildren {
    let all: Set<Int32>

    /// Reads the file, waiting up to `waiting` seconds for it to appear.
    init(file: String, waiting: Double = 0) throws {
        let deadline = Date().addingTimeInterval(waiting)
        while !FileManager.default.fileExists(atPath: file) && Date() < deadline { Thread.sleep(forTimeInterval: 0.05) }
        let text = try String(contentsOfFile: file, encoding: .utf8)
        all = Set(text.split(separator: "\n").compactMap { $0.split(separator: " ").last.flatMap { Int32($0) } })
        guard all.count == 2 else { throw HarnessError("\(file) does not hold two pids: \(text)") }
    }

    /// Those that have not ended (a zombie has ended).
    var running: Set<Int32> { all.filter(isRunning) }

    /// Waits (up to a generous limit) until none runs; returns those still running.
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

/// A `tock` process with pipes on its stdin, stdout and stderr, read as they come; killed when a test
/// gives up on it, so a hanging `tock` fails the test instead of hanging the suite.
final class Spawned: @unchecked Sendable {
    let process = Process()
    private let input = Pipe()
    private let lock = NSCondition()
    private var stdoutBytes = Data()
    private var stderrBytes = Data()
    private var stdoutConsumed = 0
    private var openStreams = 2

    init(_ args: [String]) throws {
        process.executableURL = URL(fileURLWithPath: TockBinary.path)
        process.arguments = args
        process.currentDirectoryURL = URL(fileURLWithPath: TockBinary.root)
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        process.standardInput = input
        try process.run()
        for (handle, isStdout) in [(out.fileHandleForReading, true), (err.fileHandleForReading, false)] {
            Thread { [self] in
                while true {
                    let data = handle.availableData
                    lock.lock()
                    if data.isEmpty { openStreams -= 1 } else if isStdout { stdoutBytes += data } else { stderrBytes += data }
                    lock.broadcast()
                    lock.unlock()
                    if data.isEmpty { return }
                }
            }.start()
        }
    }

    /// Runs `tock args…` to its end (killing it after `seconds`).
    static func run(_ args: [String], seconds: Double = 120) throws -> TockBinary.Result {
        let spawned = try Spawned(args)
        spawned.closeInput()
        let status = spawned.wait(seconds: seconds)
        return TockBinary.Result(status: status ?? -1, stdout: spawned.stdoutText,
                                 stderr: spawned.stderrText + (status == nil ? "\n[killed after \(seconds)s]" : ""))
    }

    var isRunning: Bool { process.isRunning }
    var stdoutText: String { lock.lock(); defer { lock.unlock() }; return String(decoding: stdoutBytes, as: UTF8.self) }
    var stderrText: String { lock.lock(); defer { lock.unlock() }; return String(decoding: stderrBytes, as: UTF8.self) }

    func send(_ text: String) { input.fileHandleForWriting.write(Data(text.utf8)) }
    func closeInput() { try? input.fileHandleForWriting.close() }

    /// The next `lines` complete stdout lines, or fewer when they did not come within `seconds`.
    func readStdout(lines wanted: Int, seconds: Double) -> [String] {
        let deadline = Date().addingTimeInterval(seconds)
        lock.lock()
        defer { lock.unlock() }
        while true {
            let fresh = stdoutBytes.dropFirst(stdoutConsumed)
            let complete = fresh.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false).dropLast()
            if complete.count >= wanted || Date() >= deadline || openStreams == 0 {
                let taken = complete.prefix(wanted)
                stdoutConsumed += taken.reduce(0) { $0 + $1.count + 1 }
                return taken.map { String(decoding: $0, as: UTF8.self) }
            }
            _ = lock.wait(until: min(deadline, Date().addingTimeInterval(0.1)))
        }
    }

    /// Waits for the exit and both streams' ends; `nil` (after killing it) when that took over `seconds`.
    func wait(seconds: Double) -> Int32? {
        let deadline = Date().addingTimeInterval(seconds)
        lock.lock()
        while (process.isRunning || openStreams > 0) && Date() < deadline {
            _ = lock.wait(until: min(deadline, Date().addingTimeInterval(0.05)))
        }
        lock.unlock()
        guard !process.isRunning else {
            kill()
            return nil
        }
        process.waitUntilExit()
        return process.terminationStatus
    }

    func kill() {
        if process.isRunning { Glibc.kill(process.processIdentifier, SIGKILL) }
    }
}
