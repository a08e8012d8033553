import LogTesting
import Logging
import Engine
import Foundation
import PluginHost
import TockModel

/// Paths of the repository, found from this file's location.
enum Repo {
    static let root: URL = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent()
    static func path(_ relative: String) -> String { root.appendingPathComponent(relative).path }
    static let fixtures = path("Tests/Fixtures/udfs")
    static let pythonPath = path("Protocol/python") + ":" + fixtures

    /// The real Python interpreter (not a pyenv shim script), found once.
    static let python: String = {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "-c", "import sys; print(sys.executable)"]
        let pipe = Pipe()
        process.standardOutput = pipe
        try? process.run()
        process.waitUntilExit()
        let out = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            .trimmingCharacters(in: .whitespacesAndNewlines)
        return out.isEmpty ? "python3" : out
    }()

    /// A `[udf.functions.NAME]` table running a Python script with the fixtures and the protocol on PYTHONPATH.
    /// The timeout is Kapacitor's default, 10s: Python must start and answer Info within it, also on a loaded CI machine.
    static func pythonUDF(_ name: String, script: String, timeout: String = "10s", extra: String = "",
                          env: [String: String] = [:]) -> String {
        var toml = """
        [udf.functions.\(name)]
          prog = "\(python)"
          args = ["-u", "\(script)"]
          timeout = "\(timeout)"
        \(extra)
          [udf.functions.\(name).env]
            PYTHONPATH = "\(pythonPath)"

        """
        for (k, v) in env.sorted(by: { $0.key < $1.key }) { toml += "    \(k) = \"\(v)\"\n" }
        return toml
    }
}

/// A task's side of a node, recording everything the node does to it.
final class RecordingOutput: NodeOutput, @unchecked Sendable {
    let taskID: String
    let nodeID: String
    private let lock = NSCondition()
    private var _messages: [Message] = []
    private var _logs: [(LogLevel, String)] = []
    private var _failure: (any Error)?
    private var _finished = false

    init(taskID: String = "task1", nodeID: String) {
        self.taskID = taskID
        self.nodeID = nodeID
    }

    func emit(_ message: Message) { post(message) }

    func post(_ message: Message) {
        lock.lock()
        _messages.append(message)
        lock.broadcast()
        lock.unlock()
    }

    func fail(_ error: any Error) {
        lock.lock()
        if _failure == nil { _failure = error }
        lock.broadcast()
        lock.unlock()
    }

    func finish() {
        lock.lock()
        _finished = true
        lock.broadcast()
        lock.unlock()
    }

    func publish(_ event: TaskEvent) {}

    func log(_ level: LogLevel, _ message: String) {
        lock.lock()
        _logs.append((level, message))
        lock.broadcast()
        lock.unlock()
    }

    /// Every line the node logged, with its metadata (`udf`, `stderr`, …).
    let recorder = LogRecorder()

    var logger: Logger {
        let recorder = self.recorder
        return .recording { [self] line in
            recorder.logger.log(level: Logger.Level(line.level), "\(line.message)",
                                metadata: line.metadata.mapValues { .string($0) })
            log(line.level, line.message)
        }
    }

    var messages: [Message] { lock.lock(); defer { lock.unlock() }; return _messages }
    var logs: [(LogLevel, String)] { lock.lock(); defer { lock.unlock() }; return _logs }
    var failure: (any Error)? { lock.lock(); defer { lock.unlock() }; return _failure }
    var finished: Bool { lock.lock(); defer { lock.unlock() }; return _finished }

    var points: [Point] {
        messages.compactMap { if case .point(let p) = $0 { return p } else { return nil } }
    }

    var batches: [Batch] {
        messages.compactMap { if case .batch(let b) = $0 { return b } else { return nil } }
    }

    /// Waits (up to a generous limit, so a broken host fails the test instead of hanging it) until
    /// `condition` holds.
    @discardableResult
    func wait(seconds: Double = 20, until condition: (RecordingOutput) -> Bool) -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while !condition(self) {
            lock.lock()
            _ = lock.wait(until: min(deadline, Date().addingTimeInterval(0.05)))
            lock.unlock()
            if Date() >= deadline { return condition(self) }
        }
        return true
    }

    /// Waits until the node has finished or failed.
    @discardableResult
    func waitForEnd() -> Bool { wait { $0.finished || $0.failure != nil } }
}

/// Builds a registry from TOML and runs one node the way a task would.
struct Harness {
    let registry: UDFRegistry

    init(_ toml: String) throws {
        registry = UDFRegistry(configuration: try UDFConfiguration.parse(toml))
    }

    func node(_ name: String, nodeID: String, taskID: String = "task1", options: [UDFOption] = []) throws -> (UDFNode, RecordingOutput) {
        let node = try registry.makeNode(name: name, taskID: taskID, nodeID: nodeID, options: options) as! UDFNode
        let output = RecordingOutput(taskID: taskID, nodeID: nodeID)
        try node.start(output: output)
        return (node, output)
    }
}

func point(_ value: Double, time: Int64, name: String = "cpu", tags: Tags = ["host": "a"],
           group: GroupID = .none, dimensions: Dimensions = .none) -> Message {
    .point(Point(name: name, tags: tags, fields: ["value": .double(value)], time: time,
                 database: "db", retentionPolicy: "rp", group: group, dimensions: dimensions))
}

extension Point {
    func double(_ key: String) -> Double? {
        if case .double(let d)? = fields[key] { return d }
        return nil
    }
}

/// A fresh path under the temporary directory.
func temporaryPath(_ name: String) -> String {
    NSTemporaryDirectory() + "tock-\(name)-\(UUID().uuidString.prefix(8))"
}
