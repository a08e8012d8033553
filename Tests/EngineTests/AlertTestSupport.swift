import LogTesting
import Logging
import Foundation
import Testing
import TICKScript
import TockModel
@testable import Engine

/// A NodeOutput that records what an alert node emits, publishes and logs.
final class AlertRecordingOutput: NodeOutput, @unchecked Sendable {
    let taskID: String
    let nodeID: String
    private let lock = NSLock()
    private var _emitted: [Message] = []
    private var _alerts: [String] = []
    private var _logs: [String] = []
    private let finishedSignal = DispatchSemaphore(value: 0)

    init(taskID: String = "cpu_alert", nodeID: String = "alert2") {
        self.taskID = taskID
        self.nodeID = nodeID
    }

    var emitted: [Message] { lock.withLock { _emitted } }
    var alerts: [String] { lock.withLock { _alerts } }
    var logs: [String] { lock.withLock { _logs } }

    /// The `level` of every published alert, in order.
    var levels: [String] {
        alerts.map { json in
            let range = json.range(of: "\"level\":\"")!
            return String(json[range.upperBound...].prefix { $0 != "\"" })
        }
    }

    func emit(_ message: Message) { lock.withLock { _emitted.append(message) } }
    func post(_ message: Message) { emit(message) }
    func fail(_ error: any Error) { lock.withLock { _logs.append("FAIL \(error)") } }
    func finish() { finishedSignal.signal() }
    func publish(_ event: TaskEvent) {
        if case .alert(let json) = event { lock.withLock { _alerts.append(json) } }
    }
    func log(_ level: LogLevel, _ message: String) { lock.withLock { _logs.append("\(level.rawValue) \(message)") } }
    var logger: Logger { .recording { [self] line in log(line.level, line.message) } }

    /// Stops `node` and waits (at most `seconds`) until its handlers have delivered everything.
    func stopAndDrain(_ node: any Node, seconds: Double = 20, sourceLocation: SourceLocation = #_sourceLocation) {
        guard node.stop(output: self) == .pending else { return }
        if finishedSignal.wait(timeout: .now() + seconds) == .timedOut {
            Issue.record("the node's handlers did not drain within \(seconds) s", sourceLocation: sourceLocation)
        }
    }
}

enum AlertFixtures {
    static let second = GoDuration.second

    /// A predicate `"value" > threshold`.
    static func above(_ threshold: Double) -> LevelSelector.Condition {
        { p in (p.fields["value"]?.numeric ?? 0) > threshold }
    }

    /// A predicate `"value" < threshold`.
    static func below(_ threshold: Double) -> LevelSelector.Condition {
        { p in (p.fields["value"]?.numeric ?? 0) < threshold }
    }

    static func point(_ value: Double, at seconds: Int64 = 0, tags: Tags = [:], group: [String] = []) -> Message {
        let dims = Dimensions(tagNames: group)
        return .point(Point(
            name: "cpu", tags: tags, fields: ["value": .double(value)], time: seconds * second,
            group: GroupID(name: "cpu", tags: tags, dimensions: dims), dimensions: dims))
    }

    /// Feeds `values` (one per second) to `node` and returns the output.
    static func run(_ node: AlertNode, _ values: [Double], output: AlertRecordingOutput = AlertRecordingOutput()) throws -> AlertRecordingOutput {
        for (i, v) in values.enumerated() {
            try node.receive(point(v, at: Int64(i)), port: 0, output: output)
        }
        return output
    }

    static func options(_ configure: (inout AlertOptions) throws -> Void = { _ in }) throws -> AlertOptions {
        var o = try AlertOptions()
        try configure(&o)
        return o
    }

    static func configuration(_ properties: [(String, [Value])]) -> NodeConfiguration {
        var configuration = NodeConfiguration(
            id: "alert2", position: SourcePosition(line: 3, column: 6), inputType: .stream, arguments: [],
            properties: properties.enumerated().map { i, p in (p.0, p.1, SourcePosition(line: 4 + i, column: 10)) })
        configuration.alertService = TestAlerting.service
        return configuration
    }

    static func temporaryDirectory() throws -> URL {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("tock-alert-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        return dir
    }
}

/// An alert service that keeps the events its sinks are given for their handlers (inhibited ones aside), and the
/// contexts and handler specs they were opened with.
final class RecordingAlertService: AlertService, AlertSink, @unchecked Sendable {
    private let lock = NSLock()
    private var _events: [AlertEvent] = []
    private var _opened: [(context: AlertNodeContext, handlers: [AlertHandlerSpec])] = []
    private var _closed = 0
    var events: [AlertEvent] { lock.withLock { _events } }
    /// The events' JSON lines, as a handler's body.
    var bodies: [[UInt8]] { events.map { Array(($0.json + "\n").utf8) } }
    var opened: [(context: AlertNodeContext, handlers: [AlertHandlerSpec])] { lock.withLock { _opened } }
    var closed: Int { lock.withLock { _closed } }

    func check(_ handler: AlertHandlerSpec) throws {}
    func open(_ node: AlertNodeContext, handlers: [AlertHandlerSpec]) throws -> any AlertSink {
        lock.withLock { _opened.append((node, handlers)) }
        return self
    }
    func collect(_ event: AlertEvent, inhibited: Bool) {
        guard !inhibited else { return }
        lock.withLock { _events.append(event) }
    }
    func drain(_ done: @escaping @Sendable () -> Void) { done() }
    func close() { lock.withLock { _closed += 1 } }
}
