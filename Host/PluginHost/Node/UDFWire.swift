import Engine
import PluginSupervisor
import TockModel
import UDFProtocol

/// The UDF protocol as the node speaks it, on top of the codec (``UDFCodec``) and the framing
/// (`FrameEncoder`): requests appended to the output buffer, responses decoded into the model.
enum UDFWire {
    /// Appends `request` as one frame.
    static func appendFrame(_ request: Agent_Request, to buffer: inout [UInt8]) throws {
        try FrameEncoder.appendMessage(request, to: &buffer)
    }

    static func frame(_ request: Agent_Request) -> [UInt8] {
        var out: [UInt8] = []
        try? appendFrame(request, to: &out)
        return out
    }

    /// Appends the frames for one message of the node's inbound edge: one point request for a stream
    /// point; begin, the points and end for a batch. Returns the number of points.
    @inline(__always)
    static func appendData(_ message: TockModel.Message, to buffer: inout [UInt8],
                           encoder: inout UDFRequestEncoder) -> Int {
        switch message {
        case .point(let p):
            encoder.appendPointRequest(p, to: &buffer)
            return 1
        case .batch(let b):
            encoder.appendBatchRequests(b, to: &buffer)
            return b.points.count
        }
    }

    /// `Request{init}`; the options keep their exact types.
    static func initRequest(taskID: String, nodeID: String, options: [UDFOption]) throws(WireError) -> Agent_Request {
        do {
            return try UDFCodec.initRequest(options: options, taskID: taskID, nodeID: nodeID)
        } catch {
            throw WireError(.badOption(String(describing: error)))
        }
    }

    static func info(_ response: Agent_InfoResponse) throws(WireError) -> UDFInfo {
        do {
            return try UDFCodec.info(from: response)
        } catch {
            throw WireError(.badInfo(String(describing: error)))
        }
    }

    /// The batch an `end` response closes: name, tags and tmax from the EndBatch, byName from the
    /// BeginBatch, grouped by the tags, as Kapacitor builds it.
    static func batch(begin: UDFBeginBatch, end: UDFEndBatch, points: [BatchPoint]) -> Batch {
        let dimensions = Dimensions(byName: begin.byName, tagNames: end.tags.sortedKeys)
        return Batch(name: end.name, group: GroupID(name: end.name, tags: end.tags, dimensions: dimensions),
                     tags: end.tags, dimensions: dimensions, tmax: end.tmax, points: points)
    }
}

/// A conversion that failed, with the reason a ``UDFError`` will carry.
struct WireError: Error {
    var reason: UDFError.Reason
    init(_ reason: UDFError.Reason) { self.reason = reason }
}
