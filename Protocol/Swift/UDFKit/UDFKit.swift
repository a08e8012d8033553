/// The Swift SDK for writing UDFs: an agent that speaks Kapacitor's UDF protocol over stdio or a
/// Unix socket, calling a ``UDFHandler`` for each request.
///
/// ```swift
/// import UDFKit
///
/// struct Mirror: UDFHandler {
///     func info() -> Agent_InfoResponse { Agent_InfoResponse(wants: .stream, provides: .stream) }
///     mutating func initialize(_ request: Agent_InitRequest) -> UDFResult { .success }
///     mutating func point(_ point: Agent_Point, output: inout UDFOutput) throws { try output.emit(point) }
/// }
/// UDFMain.runStdio(Mirror())
/// ```
@_exported import UDFProtocol
import Foundation
import UDFWireCodec

/// The outcome of ``UDFHandler/initialize(_:)`` and ``UDFHandler/restore(_:)``.
public enum UDFResult: Sendable, Hashable {
    case success
    /// Fails the request; Kapacitor fails the task with this message.
    case failure(String)
}

/// A UDF's behaviour, called by an ``Agent`` for each request, one call at a time.
///
/// The methods mirror the handlers of Kapacitor's Go and Python agents. Data methods emit their
/// results (points, batches) through `output`; a thrown error is reported to the host as an
/// `ErrorResponse`, which stops the task, and ends the agent.
public protocol UDFHandler: SendableMetatype {
    /// The edge types the UDF consumes and emits and the options it accepts.
    func info() throws -> Agent_InfoResponse

    /// Prepares the UDF for a task with the options set in the script.
    mutating func initialize(_ request: Agent_InitRequest) throws -> UDFResult

    /// The UDF's state, to be handed back to ``restore(_:)`` after a restart. Default: empty.
    mutating func snapshot() throws -> Data

    /// Restores state saved by ``snapshot()``. Default: succeeds for an empty snapshot only.
    mutating func restore(_ snapshot: Data) throws -> UDFResult

    /// A batch starts. Default: an error (for UDFs that want a stream).
    mutating func beginBatch(_ begin: Agent_BeginBatch, output: inout UDFOutput) throws

    /// A point: a stream point, or a point of the current batch.
    mutating func point(_ point: Agent_Point, output: inout UDFOutput) throws

    /// The current batch ends. Default: an error (for UDFs that want a stream).
    mutating func endBatch(_ end: Agent_EndBatch, output: inout UDFOutput) throws
}

/// Why a handler declined a request through a default implementation.
public struct UDFHandlerError: Error, Sendable, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}

extension UDFHandler {
    public mutating func snapshot() throws -> Data { Data() }

    public mutating func restore(_ snapshot: Data) throws -> UDFResult {
        snapshot.isEmpty ? .success : .failure("restore not implemented")
    }

    public mutating func beginBatch(_ begin: Agent_BeginBatch, output: inout UDFOutput) throws {
        throw UDFHandlerError("this UDF does not accept batches")
    }

    public mutating func endBatch(_ end: Agent_EndBatch, output: inout UDFOutput) throws {
        throw UDFHandlerError("this UDF does not accept batches")
    }
}

/// Where a handler's responses go: buffered by the agent and written at the next flush.
///
/// Points and batches are encoded by the hand-written codec the host uses too (`UDFWireCodec`), into the same
/// bytes swift-protobuf would write; other responses by swift-protobuf.
public struct UDFOutput: Sendable {
    @usableFromInline var buffer: [UInt8] = []

    init() { buffer.reserveCapacity(1 << 16) }

    /// Emits a point (in a batch, between the begin and the end).
    public mutating func emit(_ point: Agent_Point) throws {
        try AgentCodec.appendPoint(point, to: &buffer)
    }

    /// Starts a batch.
    public mutating func emit(_ begin: Agent_BeginBatch) throws {
        try AgentCodec.appendBegin(begin, to: &buffer)
    }

    /// Ends a batch; the host takes the batch's name, tags and tmax from it.
    public mutating func emit(_ end: Agent_EndBatch) throws {
        try AgentCodec.appendEnd(end, to: &buffer)
    }

    /// Emits any response.
    public mutating func emit(_ response: Agent_Response) throws {
        try FrameEncoder.appendMessage(response, to: &buffer)
    }
}

extension Agent_InfoResponse {
    /// An Info response: the edge types and, per option name, the types of its arguments.
    public init(wants: Agent_EdgeType, provides: Agent_EdgeType, options: [String: [Agent_ValueType]] = [:]) {
        self.init()
        self.wants = wants
        self.provides = provides
        for (name, types) in options {
            var info = Agent_OptionInfo()
            info.valueTypes = types
            self.options[name] = info
        }
    }
}

extension Agent_InitRequest {
    /// The values of every occurrence of option `name`, in script order (an option may be repeated).
    public func values(of name: String) -> [[Agent_OptionValue]] {
        options.filter { $0.name == name }.map(\.values)
    }
}
