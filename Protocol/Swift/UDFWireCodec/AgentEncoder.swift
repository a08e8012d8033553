import SwiftProtobuf
import UDFProtocol

/// The hand-written codec for the data messages of Kapacitor's UDF protocol (`Point`, `BeginBatch`, `EndBatch`),
/// working on the generated swift-protobuf types that UDFKit's handlers see.
///
/// The bytes are those swift-protobuf writes for the same message (fields in number order, defaults omitted, map
/// entries with both key and value, maps in the dictionary's iteration order), so either side can be swapped for
/// the other; a message carrying unknown fields goes through swift-protobuf, which keeps them.
///
/// ```swift
/// var out: [UInt8] = []
/// try AgentCodec.appendPoint(point, to: &out)          // one frame: Response{point} (or Request{point}: same bytes)
/// if case .point(let p)? = try AgentCodec.decodeData(frameBytes) { … }
/// ```
public enum AgentCodec {}

extension AgentCodec {
    /// Appends a frame holding a `Request` or `Response` whose `point` is `point` (the two wrappers' bytes are the
    /// same).
    ///
    /// - Throws: only when swift-protobuf serializes a point with unknown fields and fails.
    public static func appendPoint(_ point: Agent_Point, to output: inout [UInt8]) throws {
        guard point.unknownFields.data.isEmpty else {
            try FrameEncoder.appendWrapped(point, field: 17, to: &output)
            return
        }
        appendWrappedMessage(oneofTag: DataTag.point, bodySize: pointSize(point), to: &output, framed: true) { w in
            writePoint(point, &w)
        }
    }

    /// Appends a frame holding a `Request` or `Response` whose `begin` is `begin`.
    public static func appendBegin(_ begin: Agent_BeginBatch, to output: inout [UInt8]) throws {
        guard begin.unknownFields.data.isEmpty else {
            try FrameEncoder.appendWrapped(begin, field: 16, to: &output)
            return
        }
        var size = optionalStringSize(begin.name) + optionalStringSize(begin.group) + stringMapSize(begin.tags)
        if begin.size != 0 { size += 1 + varintSize(UInt64(bitPattern: begin.size)) }
        if begin.byName { size += 2 }
        appendWrappedMessage(oneofTag: DataTag.begin, bodySize: size, to: &output, framed: true) { w in
            w.optionalString(tag: 0x0A, begin.name)
            w.optionalString(tag: 0x12, begin.group)
            for (k, v) in begin.tags { w.stringEntry(tag: 0x1A, k, v) }
            w.optionalVarint(tag: 0x20, UInt64(bitPattern: begin.size))
            if begin.byName { w.byte(0x28); w.byte(1) }
        }
    }

    /// Appends a frame holding a `Request` or `Response` whose `end` is `end`.
    public static func appendEnd(_ end: Agent_EndBatch, to output: inout [UInt8]) throws {
        guard end.unknownFields.data.isEmpty else {
            try FrameEncoder.appendWrapped(end, field: 18, to: &output)
            return
        }
        var size = optionalStringSize(end.name) + optionalStringSize(end.group) + stringMapSize(end.tags)
        if end.tmax != 0 { size += 1 + varintSize(UInt64(bitPattern: end.tmax)) }
        if end.byName { size += 2 }
        appendWrappedMessage(oneofTag: DataTag.end, bodySize: size, to: &output, framed: true) { w in
            w.optionalString(tag: 0x0A, end.name)
            w.optionalString(tag: 0x12, end.group)
            w.optionalVarint(tag: 0x18, UInt64(bitPattern: end.tmax))
            for (k, v) in end.tags { w.stringEntry(tag: 0x22, k, v) }
            if end.byName { w.byte(0x28); w.byte(1) }
        }
    }

    // MARK: Point

    static func stringMapSize(_ map: [String: String]) -> Int {
        var n = 0
        for (k, v) in map { n += delimitedSize(stringEntrySize(k, v)) }
        return n
    }

    static func pointSize(_ p: Agent_Point) -> Int {
        var n = 0
        if p.time != 0 { n += 1 + varintSize(UInt64(bitPattern: p.time)) }
        n += optionalStringSize(p.name) + optionalStringSize(p.database) + optionalStringSize(p.retentionPolicy)
        n += optionalStringSize(p.group)
        for d in p.dimensions { n += delimitedSize(d.utf8.count) }
        n += stringMapSize(p.tags)
        for (k, _) in p.fieldsDouble { n += delimitedSize(doubleEntrySize(k)) }
        for (k, v) in p.fieldsInt { n += delimitedSize(int64EntrySize(k, v)) }
        n += stringMapSize(p.fieldsString)
        if p.byName { n += 2 }
        for (k, _) in p.fieldsBool { n += delimitedSize(boolEntrySize(k)) }
        return n
    }

    static func writePoint(_ p: Agent_Point, _ w: inout ProtoWriter) {
        w.optionalVarint(tag: 0x08, UInt64(bitPattern: p.time))
        w.optionalString(tag: 0x12, p.name)
        w.optionalString(tag: 0x1A, p.database)
        w.optionalString(tag: 0x22, p.retentionPolicy)
        w.optionalString(tag: 0x2A, p.group)
        for d in p.dimensions { w.stringField(tag: 0x32, d) }
        for (k, v) in p.tags { w.stringEntry(tag: 0x3A, k, v) }
        for (k, v) in p.fieldsDouble { w.doubleEntry(tag: 0x42, k, v) }
        for (k, v) in p.fieldsInt { w.int64Entry(tag: 0x4A, k, v) }
        for (k, v) in p.fieldsString { w.stringEntry(tag: 0x52, k, v) }
        if p.byName { w.byte(0x58); w.byte(1) }
        for (k, v) in p.fieldsBool { w.boolEntry(tag: 0x62, k, v) }
    }
}
