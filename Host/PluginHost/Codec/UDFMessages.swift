import Engine
import Foundation
import PluginSupervisor
import TockModel
import UDFProtocol

// Management requests (built with swift-protobuf: they are rare) and conversions between the
// generated messages and Tock's model.

extension UDFCodec {
    /// Appends any Request, serialized by swift-protobuf, as one frame.
    public static func appendRequest(_ request: Agent_Request, to output: inout [UInt8]) throws {
        try FrameEncoder.appendMessage(request, to: &output)
    }

    /// `Request{info}`.
    public static func infoRequest() -> Agent_Request {
        var r = Agent_Request()
        r.info = Agent_InfoRequest()
        return r
    }

    /// `Request{init}` with the options as set in the script, in order.
    ///
    /// - Throws: ``UDFCodecError`` when an option value has a type a UDF cannot receive (regex, lambda, …).
    public static func initRequest(options: [UDFOption], taskID: String, nodeID: String) throws -> Agent_Request {
        var initRequest = Agent_InitRequest()
        initRequest.taskID = taskID
        initRequest.nodeID = nodeID
        initRequest.options = try options.map { option in
            var o = Agent_Option()
            o.name = option.name
            o.values = try option.values.map { try optionValue($0, option: option.name) }
            return o
        }
        var r = Agent_Request()
        r.init_p = initRequest
        return r
    }

    /// `Request{keepalive}` stamped with `time` (ns since the epoch).
    public static func keepaliveRequest(time: Int64) -> Agent_Request {
        var r = Agent_Request()
        r.keepalive.time = time
        return r
    }

    /// `Request{snapshot}`.
    public static func snapshotRequest() -> Agent_Request {
        var r = Agent_Request()
        r.snapshot = Agent_SnapshotRequest()
        return r
    }

    /// `Request{restore}` carrying a snapshot the UDF produced earlier.
    public static func restoreRequest(snapshot: some Sequence<UInt8>) -> Agent_Request {
        var r = Agent_Request()
        r.restore.snapshot = Data(snapshot)
        return r
    }

    static func optionValue(_ value: Value, option: String) throws -> Agent_OptionValue {
        var v = Agent_OptionValue()
        switch value {
        case .bool(let b): v.type = .bool; v.boolValue = b
        case .int(let i): v.type = .int; v.intValue = i
        case .float(let d): v.type = .double; v.doubleValue = d
        case .string(let s): v.type = .string; v.stringValue = s
        case .duration(let ns): v.type = .duration; v.durationValue = ns
        default:
            throw UDFCodecError("option \(option): a UDF option takes bool, int, float, string or duration values, not \(value)")
        }
        return v
    }

    /// The UDF's Info as the engine uses it to check scripts.
    ///
    /// - Throws: ``UDFCodecError`` when an edge or value type is outside the protocol's enums.
    public static func info(from response: Agent_InfoResponse) throws -> UDFInfo {
        func edge(_ e: Agent_EdgeType, _ what: String) throws -> EdgeType {
            switch e {
            case .stream: return .stream
            case .batch: return .batch
            case .UNRECOGNIZED(let n): throw UDFCodecError("InfoResponse: unknown edge type \(n) for \(what)")
            }
        }
        var options: [String: [UDFValueType]] = [:]
        for (name, info) in response.options {
            options[name] = try info.valueTypes.map { t in
                switch t {
                case .bool: return .bool
                case .int: return .int
                case .double: return .double
                case .string: return .string
                case .duration: return .duration
                case .UNRECOGNIZED(let n): throw UDFCodecError("InfoResponse: unknown value type \(n) for option \(name)")
                }
            }
        }
        return UDFInfo(wants: try edge(response.wants, "wants"), provides: try edge(response.provides, "provides"),
                       options: options)
    }

    // MARK: Model → generated messages (the slow, obvious way; the fast path is appendPointRequest)

    /// The `agent.Point` Kapacitor sends for a stream point, built with swift-protobuf's types.
    public static func agentPoint(from point: Point) -> Agent_Point {
        var p = Agent_Point()
        p.time = point.time
        p.name = point.name
        p.database = point.database
        p.retentionPolicy = point.retentionPolicy
        p.group = point.group.rawValue
        p.dimensions = point.dimensions.tagNames
        p.byName = point.dimensions.byName
        p.tags = point.tags.dictionary
        for (k, v) in point.fields {
            switch WireField(v) {
            case .double(let d): p.fieldsDouble[k] = d
            case .int(let i): p.fieldsInt[k] = i
            case .string(let s): p.fieldsString[k] = s
            case .bool(let b): p.fieldsBool[k] = b
            }
        }
        return p
    }

    // MARK: Generated messages → model

    /// The response as ``UDFResponse``, converting data messages to the model like the fast decoder.
    public static func convert(_ response: Agent_Response) -> UDFResponse {
        switch response.message {
        case .point(let p): return .point(point(from: p))
        case .begin(let b): return .begin(begin(from: b))
        case .end(let e): return .end(end(from: e))
        default: return .other(response)
        }
    }

    /// A point as Kapacitor turns a UDF's point into one (see ``UDFResponse/point(_:)``).
    public static func point(from p: Agent_Point) -> Point {
        var fields = Fields()
        for (k, v) in p.fieldsString { fields[k] = .string(v) }
        for (k, v) in p.fieldsInt { fields[k] = .int(v) }
        for (k, v) in p.fieldsDouble { fields[k] = .double(v) }
        for (k, v) in p.fieldsBool { fields[k] = .bool(v) }
        let tags = Tags(p.tags)
        let dims = Dimensions(byName: p.byName, tagNames: p.dimensions)
        let group = p.dimensions.isEmpty && !p.byName ? GroupID.none : GroupID(name: p.name, tags: tags, dimensions: dims)
        return Point(name: p.name, tags: tags, fields: fields, time: p.time, database: p.database,
                     retentionPolicy: p.retentionPolicy, group: group, dimensions: dims)
    }

    public static func begin(from b: Agent_BeginBatch) -> UDFBeginBatch {
        UDFBeginBatch(name: b.name, group: GroupID(b.group), tags: Tags(b.tags), size: b.size, byName: b.byName)
    }

    public static func end(from e: Agent_EndBatch) -> UDFEndBatch {
        UDFEndBatch(name: e.name, group: GroupID(e.group), tmax: e.tmax, tags: Tags(e.tags), byName: e.byName)
    }
}
