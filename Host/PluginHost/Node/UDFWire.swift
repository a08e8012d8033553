import Engine
import Foundation
import SwiftProtobuf
import TockModel
import UDFProtocol

/// Converts between Tock's model and the UDF protocol's messages, and frames requests.
///
/// This uses swift-protobuf's generated types; the hand-written codec of the UDFProtocol module
/// replaces it on the hot path once it lands.
enum UDFWire {
    // MARK: Framing

    @inline(__always)
    static func appendVarint(_ value: UInt64, to buffer: inout [UInt8]) {
        var v = value
        while v >= 0x80 {
            buffer.append(UInt8(truncatingIfNeeded: v) | 0x80)
            v >>= 7
        }
        buffer.append(UInt8(v))
    }

    /// Appends `request` as one varint-length-prefixed frame.
    static func appendFrame(_ request: Agent_Request, to buffer: inout [UInt8]) throws {
        let bytes: [UInt8] = try request.serializedBytes()
        appendVarint(UInt64(bytes.count), to: &buffer)
        buffer += bytes
    }

    static func frame(_ request: Agent_Request) -> [UInt8] {
        var out: [UInt8] = []
        try? appendFrame(request, to: &out)
        return out
    }

    static func decodeResponse(_ bytes: UnsafeRawBufferPointer) throws -> Agent_Response {
        guard let base = bytes.baseAddress, bytes.count > 0 else { return Agent_Response() }
        let data = Data(bytesNoCopy: UnsafeMutableRawPointer(mutating: base), count: bytes.count, deallocator: .none)
        return try Agent_Response(serializedBytes: data)
    }

    // MARK: Requests

    static func appendData(_ message: TockModel.Message, to buffer: inout [UInt8]) throws -> Int {
        switch message {
        case .point(let p):
            var request = Agent_Request()
            request.point = agentPoint(p)
            try appendFrame(request, to: &buffer)
            return 1
        case .batch(let b):
            var begin = Agent_BeginBatch()
            begin.name = b.name
            begin.group = b.group.rawValue
            begin.tags = b.tags.dictionary
            begin.size = Int64(b.points.count)
            begin.byName = b.byName
            var request = Agent_Request()
            request.begin = begin
            try appendFrame(request, to: &buffer)
            for bp in b.points {
                var p = Agent_Point()
                p.time = bp.time
                p.group = b.group.rawValue
                p.tags = bp.tags.dictionary
                setFields(bp.fields, on: &p)
                request.point = p
                try appendFrame(request, to: &buffer)
            }
            var end = Agent_EndBatch()
            end.name = b.name
            end.group = b.group.rawValue
            end.tmax = b.tmax
            end.tags = b.tags.dictionary
            request.end = end
            try appendFrame(request, to: &buffer)
            return b.points.count
        }
    }

    static func agentPoint(_ point: Point) -> Agent_Point {
        var p = Agent_Point()
        p.time = point.time
        p.name = point.name
        p.database = point.database
        p.retentionPolicy = point.retentionPolicy
        p.group = point.group.rawValue
        p.dimensions = point.dimensions.tagNames
        p.byName = point.dimensions.byName
        p.tags = point.tags.dictionary
        setFields(point.fields, on: &p)
        return p
    }

    /// Unsigned fields have no map of their own in the protocol: they travel as integers when they
    /// fit, else as floats.
    static func setFields(_ fields: Fields, on p: inout Agent_Point) {
        for (key, value) in fields {
            switch value {
            case .double(let d): p.fieldsDouble[key] = d
            case .int(let i): p.fieldsInt[key] = i
            case .uint(let u):
                if u <= UInt64(Int64.max) { p.fieldsInt[key] = Int64(u) } else { p.fieldsDouble[key] = Double(u) }
            case .string(let s): p.fieldsString[key] = s
            case .bool(let b): p.fieldsBool[key] = b
            }
        }
    }

    static func initRequest(taskID: String, nodeID: String, options: [Agent_Option]) -> Agent_Request {
        var initRequest = Agent_InitRequest()
        initRequest.taskID = taskID
        initRequest.nodeID = nodeID
        initRequest.options = options
        var request = Agent_Request()
        request.init_p = initRequest
        return request
    }

    /// A script's options as protocol options, each value with its exact type.
    static func options(_ options: [UDFOption]) throws(WireError) -> [Agent_Option] {
        try options.map { (option) throws(WireError) -> Agent_Option in
            var o = Agent_Option()
            o.name = option.name
            o.values = try option.values.map { (value) throws(WireError) -> Agent_OptionValue in
                var v = Agent_OptionValue()
                switch value {
                case .bool(let b): v.type = .bool; v.boolValue = b
                case .int(let i): v.type = .int; v.intValue = i
                case .float(let d): v.type = .double; v.doubleValue = d
                case .string(let s): v.type = .string; v.stringValue = s
                case .duration(let ns): v.type = .duration; v.durationValue = ns
                case .regex, .lambda, .star, .list:
                    throw WireError(.badOption("\(option.name): only bool, int, float, string and duration values can be sent to a UDF"))
                }
                return v
            }
            return o
        }
    }

    // MARK: Responses

    static func info(_ response: Agent_InfoResponse) throws(WireError) -> UDFInfo {
        func edge(_ e: Agent_EdgeType, _ what: String) throws(WireError) -> EdgeType {
            switch e {
            case .stream: return .stream
            case .batch: return .batch
            case .UNRECOGNIZED(let n): throw WireError(.badInfo("unknown edge type \(n) for \(what)"))
            }
        }
        var options: [String: [UDFValueType]] = [:]
        for (name, option) in response.options {
            options[name] = try option.valueTypes.map { (t) throws(WireError) -> UDFValueType in
                switch t {
                case .bool: return .bool
                case .int: return .int
                case .double: return .double
                case .string: return .string
                case .duration: return .duration
                case .UNRECOGNIZED(let n): throw WireError(.badInfo("option \(name) has unknown value type \(n)"))
                }
            }
        }
        return UDFInfo(wants: try edge(response.wants, "wants"), provides: try edge(response.provides, "provides"),
                       options: options)
    }

    static func fields(of p: Agent_Point) -> Fields {
        var pairs: [(String, FieldValue)] = []
        pairs.reserveCapacity(p.fieldsDouble.count + p.fieldsInt.count + p.fieldsString.count + p.fieldsBool.count)
        for (k, v) in p.fieldsString { pairs.append((k, .string(v))) }
        for (k, v) in p.fieldsInt { pairs.append((k, .int(v))) }
        for (k, v) in p.fieldsDouble { pairs.append((k, .double(v))) }
        for (k, v) in p.fieldsBool { pairs.append((k, .bool(v))) }
        if pairs.count > 1 {
            pairs.sort { $0.0 < $1.0 }
            var unique: [(String, FieldValue)] = []
            unique.reserveCapacity(pairs.count)
            for pair in pairs {
                if let last = unique.last, last.0 == pair.0 { unique[unique.count - 1] = pair } else { unique.append(pair) }
            }
            pairs = unique
        }
        return Fields(sortedKeys: pairs.map(\.0), values: pairs.map(\.1))
    }

    /// A stream point from a `point` response outside a batch; its group is recomputed from its
    /// dimensions and tags, as Kapacitor does.
    static func streamPoint(_ p: Agent_Point) -> Point {
        let tags = Tags(p.tags)
        let dimensions = Dimensions(byName: p.byName, tagNames: p.dimensions)
        return Point(name: p.name, tags: tags, fields: fields(of: p), time: p.time,
                     database: p.database, retentionPolicy: p.retentionPolicy,
                     group: GroupID(name: p.name, tags: tags, dimensions: dimensions), dimensions: dimensions)
    }

    static func batchPoint(_ p: Agent_Point) -> BatchPoint {
        BatchPoint(time: p.time, fields: fields(of: p), tags: Tags(p.tags))
    }

    /// The batch an `end` response closes: name, tags and tmax from the EndBatch, byName from the BeginBatch.
    static func batch(begin: Agent_BeginBatch, end: Agent_EndBatch, points: [BatchPoint]) -> Batch {
        let tags = Tags(end.tags)
        let dimensions = Dimensions(byName: begin.byName, tagNames: tags.sortedKeys)
        return Batch(name: end.name, group: GroupID(name: end.name, tags: tags, dimensions: dimensions), tags: tags,
                     dimensions: dimensions, tmax: end.tmax, points: points)
    }
}

/// A conversion that failed, with the reason a ``UDFError`` will carry.
struct WireError: Error {
    var reason: UDFError.Reason
    init(_ reason: UDFError.Reason) { self.reason = reason }
}
