import LogTesting
import Logging
import Foundation
import Synchronization
import Testing
import TICKScript
import TockModel
@testable import Engine

/// A `NodeOutput` that records messages, barriers and group deletions in the order a node emits them.
final class SignalRecordingOutput: NodeOutput, @unchecked Sendable {
    enum Emitted: Equatable {
        case message(Message)
        case barrier(Barrier)
        case deleteGroup(GroupID)
    }

    let taskID = "test"
    let nodeID = "node1"
    var emitted: [Emitted] = []
    var logs: [(LogLevel, String)] = []

    func emit(_ message: Message) { emitted.append(.message(message)) }
    func post(_ message: Message) { emitted.append(.message(message)) }
    func emit(barrier: Barrier) { emitted.append(.barrier(barrier)) }
    func emit(deleteGroup: GroupID) { emitted.append(.deleteGroup(deleteGroup)) }
    func fail(_ error: any Error) {}
    func finish() {}
    func publish(_ event: TaskEvent) {}
    func log(_ level: LogLevel, _ message: String) { logs.append((level, message)) }
    var logger: Logger { .recording { [self] line in log(line.level, line.message) } }

    var points: [Point] { emitted.compactMap { if case .message(.point(let p)) = $0 { p } else { nil } } }
    var batches: [Batch] { emitted.compactMap { if case .message(.batch(let b)) = $0 { b } else { nil } } }
    var barriers: [Barrier] { emitted.compactMap { if case .barrier(let b) = $0 { b } else { nil } } }
    var deletions: [GroupID] { emitted.compactMap { if case .deleteGroup(let g) = $0 { g } else { nil } } }
}

/// A clock tests move by hand (monotonic nanoseconds).
final class ManualClock: Sendable {
    private let now = Mutex<UInt64>(1_000_000_000)
    var value: UInt64 { now.withLock { $0 } }
    func advance(_ nanoseconds: Int64) { now.withLock { $0 += UInt64(nanoseconds) } }
}

/// A node's configuration as the builder would give it, for the flow nodes.
func flowConfiguration(_ name: String, properties: [(String, [Value])] = [], input: EdgeType = .stream) -> NodeConfiguration {
    NodeConfiguration(
        id: "\(name)1", position: SourcePosition(line: 1, column: 1), inputType: input, arguments: [],
        properties: properties.map { (name: $0.0, arguments: $0.1, position: SourcePosition(line: 1, column: 1)) })
}

/// A point of measurement `cpu` at `seconds`, grouped by `host`.
func hostPoint(_ host: String, at seconds: Int64, _ fields: Fields = ["v": .double(1)]) -> Point {
    let dims = Dimensions(tagNames: ["host"])
    let tags: Tags = ["host": host]
    return Point(name: "cpu", tags: tags, fields: fields, time: seconds * GoDuration.second,
                 group: GroupID(name: "cpu", tags: tags, dimensions: dims), dimensions: dims)
}

func hostGroup(_ host: String) -> GroupID {
    GroupID(name: "cpu", tags: ["host": host], dimensions: Dimensions(tagNames: ["host"]))
}
