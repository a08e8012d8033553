import LogTesting
import Logging
import Foundation
import Testing
import TICKScript
import TockModel
@testable import Engine

/// Collects what a task produces, thread-safely.
final class Collector: @unchecked Sendable {
    private let lock = NSLock()
    private var _outputs: [(node: String, message: Message)] = []
    private var _events: [(node: String, event: TaskEvent)] = []
    private var _logs: [(LogLevel, String, String)] = []

    var outputs: [(node: String, message: Message)] { lock.withLock { _outputs } }
    var events: [(node: String, event: TaskEvent)] { lock.withLock { _events } }
    var logs: [(LogLevel, String, String)] { lock.withLock { _logs } }

    var handlers: TaskRunner.Handlers {
        TaskRunner.Handlers(
            event: { n, e in self.lock.withLock { self._events.append((n, e)) } },
            logger: .recording { line in self.lock.withLock { self._logs.append((line.level, line.metadata["node"] ?? "", line.message)) } },
            output: { n, m in self.lock.withLock { self._outputs.append((n, m)) } })
    }

    /// Batches emitted by leaves.
    var batches: [Batch] { outputs.compactMap { if case .batch(let b) = $0.message { b } else { nil } } }
    /// Points emitted by leaves.
    var points: [Point] { outputs.compactMap { if case .point(let p) = $0.message { p } else { nil } } }
}

let second = GoDuration.second

func point(_ name: String = "m", _ tags: Tags = [:], _ fields: Fields, at seconds: Int64) -> Point {
    Point(name: name, tags: tags, fields: fields, time: seconds * second, database: "db", retentionPolicy: "rp")
}

/// Runs `script` over `points` and returns what came out.
@discardableResult
func run(_ script: String, _ points: [Point], udfs: (any UDFProvider)? = nil) throws -> (Collector, TaskRunner) {
    let c = Collector()
    var options = TaskRunner.Options(taskID: "test", udfProvider: udfs)
    options.alertService = TestAlerting.service
    let runner = try TaskRunner(script: script, options: options, handlers: c.handlers)
    try runner.start()
    runner.write(points)
    try runner.stop()
    return (c, runner)
}

/// The ScriptError `script` fails to build with, or nil when it builds. Any other error is a test failure
/// of its own (and nil), so a test that expects a script error cannot pass on some other failure.
func buildError(_ script: String, udfs: (any UDFProvider)? = nil,
                sourceLocation: SourceLocation = #_sourceLocation) -> ScriptError? {
    do {
        var builder = TaskBuilder(taskID: "t", udfProvider: udfs)
        builder.alertService = TestAlerting.service
        _ = try builder.build(try Program.parse(script))
        return nil
    } catch let e as ScriptError {
        return e
    } catch {
        Issue.record("expected a ScriptError, got \(type(of: error)): \(error)", sourceLocation: sourceLocation)
        return nil
    }
}

func point(fields: Fields, at seconds: Int64) -> Point { point("m", [:], fields, at: seconds) }
