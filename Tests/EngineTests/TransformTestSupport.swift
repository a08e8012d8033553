import LogTesting
import Logging
@testable import Engine
import TICKScript
import TockModel

/// A `NodeOutput` that records what a node emits, for driving transformation nodes directly.
final class RecordingOutput: NodeOutput, @unchecked Sendable {
    let taskID = "test"
    let nodeID = "node1"
    var messages: [Message] = []
    var logs: [(LogLevel, String)] = []
    var failures: [String] = []

    func emit(_ message: Message) { messages.append(message) }
    func post(_ message: Message) { messages.append(message) }
    func fail(_ error: any Error) { failures.append("\(error)") }
    func finish() {}
    func publish(_ event: TaskEvent) {}
    func log(_ level: LogLevel, _ message: String) { logs.append((level, message)) }
    var logger: Logger { .recording { [self] line in log(line.level, line.message) } }

    var points: [Point] {
        messages.compactMap { if case .point(let p) = $0 { p } else { nil } }
    }

    var batches: [Batch] {
        messages.compactMap { if case .batch(let b) = $0 { b } else { nil } }
    }
}

/// Seconds as nanoseconds.
func sec(_ s: Int64) -> Int64 { s * GoDuration.second }

func pt(
    _ time: Int64, _ fields: Fields, name: String = "cpu", tags: Tags = [:], groupBy: [String] = []
) -> Point {
    let dims = Dimensions(tagNames: groupBy)
    return Point(
        name: name, tags: tags, fields: fields, time: time,
        group: GroupID(name: name, tags: tags, dimensions: dims), dimensions: dims)
}

func batch(
    _ tmax: Int64, _ points: [BatchPoint], name: String = "cpu", tags: Tags = [:], groupBy: [String] = []
) -> Batch {
    let dims = Dimensions(tagNames: groupBy)
    return Batch(
        name: name, group: GroupID(name: name, tags: tags, dimensions: dims), tags: tags, dimensions: dims,
        tmax: tmax, points: points)
}

/// A batch of `value` fields at 0s, 1s, 2s, …
func valueBatch(_ values: [FieldValue], tmax: Int64 = sec(10), tags: Tags = [:], groupBy: [String] = []) -> Batch {
    batch(
        tmax, values.enumerated().map { BatchPoint(time: sec(Int64($0.offset)), fields: ["value": $0.element], tags: tags) },
        tags: tags, groupBy: groupBy)
}

/// Builds a node from its registered spec, as the builder would.
func makeNode(
    _ name: String, _ arguments: [Value] = [], properties: [(String, [Value])] = [], input: EdgeType = .stream,
    inputCount: Int? = nil
) throws -> any Node {
    guard let spec = TransformNodes.specs.first(where: { $0.name == name }) else {
        throw NodeConfigurationError("no spec \(name)")
    }
    let config = NodeConfiguration(
        id: "\(name)1", position: SourcePosition(line: 1, column: 1), inputType: input, arguments: arguments,
        properties: properties.map { (name: $0.0, arguments: $0.1, position: SourcePosition(line: 1, column: 1)) },
        inputCount: inputCount)
    return try spec.make(config)
}

/// Feeds messages to a node (all on port 0 unless given) and returns what it emitted.
func drive(_ node: any Node, _ messages: [Message], ports: [Int]? = nil, stop: Bool = false) throws -> RecordingOutput {
    let out = RecordingOutput()
    try node.start(output: out)
    for (i, m) in messages.enumerated() {
        try node.receive(m, port: ports?[i] ?? 0, output: out)
    }
    if stop { _ = node.stop(output: out) }
    return out
}
