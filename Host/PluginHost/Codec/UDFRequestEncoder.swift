import PluginSupervisor
import TockModel
import UDFProtocol
import UDFWireCodec

/// Hand-written protobuf encoding of the UDF protocol's hot messages, straight from Tock's model.
///
/// The bytes are what Kapacitor's host writes (fields in number order, default values omitted, map
/// entries with both key and value), so any UDF agent reads them; only the order of map entries
/// differs, which protobuf leaves free. Management requests go through swift-protobuf. The wire primitives are
/// the shared ones of `UDFWireCodec`, which UDFKit uses for the other side of the protocol.
public enum UDFCodec {}

/// Why the UDF codec could not decode a frame or build a request.
public struct UDFCodecError: Error, Sendable, Hashable, CustomStringConvertible {
    /// What was wrong, e.g. "malformed UDF response: truncated varint in Point".
    public var message: String

    public init(_ message: String) { self.message = message }

    public var description: String { message }
}

extension UDFCodec {
    /// Appends `Request{point}` for a stream point to `output`, as one frame unless `framed` is false.
    ///
    /// Sends everything Kapacitor sends: time, name, database, retention policy, group, dimensions,
    /// byName, tags and the fields split into the four typed maps. Unsigned fields, which the protocol
    /// has no map for, go into `fieldsInt` when they fit in Int64 and into `fieldsDouble` otherwise.
    public static func appendPointRequest(_ point: Point, to output: inout [UInt8], framed: Bool = true) {
        let series = SeriesPart(point)
        let body = PointBody(time: point.time, seriesSize: series.size, byName: point.dimensions.byName,
                             fields: point.fields)
        appendRequest(tag: DataTag.point, bodySize: body.size, to: &output, framed: framed) { w in
            body.write(&w) { series.write(&$0) }
        }
    }

    /// Appends `Request{point}` for a point of a batch of group `group`: like Kapacitor, only time,
    /// group, tags and fields are sent (name and grouping travel in the batch's begin).
    public static func appendBatchPointRequest(
        _ point: BatchPoint, group: GroupID, to output: inout [UInt8], framed: Bool = true
    ) {
        let series = SeriesPart(batchPoint: point, group: group)
        let body = PointBody(time: point.time, seriesSize: series.size, byName: false, fields: point.fields)
        appendRequest(tag: DataTag.point, bodySize: body.size, to: &output, framed: framed) { w in
            body.write(&w) { series.write(&$0) }
        }
    }

    /// Appends `Request{begin}` for `batch`: name, group, tags, size (the number of points) and byName.
    public static func appendBeginBatchRequest(_ batch: Batch, to output: inout [UInt8], framed: Bool = true) {
        let name = batch.name, group = batch.group.rawValue, tags = batch.tags
        let size = Int64(batch.points.count), byName = batch.byName
        var bodySize = optionalStringSize(name) + optionalStringSize(group) + tagsSize(tags)
        if size != 0 { bodySize += 1 + varintSize(UInt64(bitPattern: size)) }
        if byName { bodySize += 2 }
        appendRequest(tag: DataTag.begin, bodySize: bodySize, to: &output, framed: framed) { w in
            if !name.isEmpty { w.stringField(tag: 0x0A, name) }
            if !group.isEmpty { w.stringField(tag: 0x12, group) }
            writeTags(tags, tag: 0x1A, &w)
            if size != 0 {
                w.byte(0x20)
                w.varint(UInt64(bitPattern: size))
            }
            if byName {
                w.byte(0x28)
                w.byte(1)
            }
        }
    }

    /// Appends `Request{end}` for `batch`: name, group, tmax and tags, as Kapacitor sends them.
    public static func appendEndBatchRequest(_ batch: Batch, to output: inout [UInt8], framed: Bool = true) {
        let name = batch.name, group = batch.group.rawValue, tags = batch.tags, tmax = batch.tmax
        var bodySize = optionalStringSize(name) + optionalStringSize(group) + tagsSize(tags)
        if tmax != 0 { bodySize += 1 + varintSize(UInt64(bitPattern: tmax)) }
        appendRequest(tag: DataTag.end, bodySize: bodySize, to: &output, framed: framed) { w in
            if !name.isEmpty { w.stringField(tag: 0x0A, name) }
            if !group.isEmpty { w.stringField(tag: 0x12, group) }
            if tmax != 0 {
                w.byte(0x18)
                w.varint(UInt64(bitPattern: tmax))
            }
            writeTags(tags, tag: 0x22, &w)
        }
    }

    /// Appends the frames of a whole batch: begin, one point per batch point, end.
    public static func appendBatchRequests(_ batch: Batch, to output: inout [UInt8]) {
        appendBeginBatchRequest(batch, to: &output)
        for p in batch.points { appendBatchPointRequest(p, group: batch.group, to: &output) }
        appendEndBatchRequest(batch, to: &output)
    }

    /// Sizes the output once, then lets `write` fill the body after the framing and oneof tag.
    @inlinable
    static func appendRequest(
        tag: (UInt8, UInt8), bodySize: Int, to output: inout [UInt8], framed: Bool,
        _ write: (inout ProtoWriter) -> Void
    ) {
        appendWrappedMessage(oneofTag: tag, bodySize: bodySize, to: &output, framed: framed, write)
    }
}

// MARK: - Point body

extension SeriesPart {
    /// A stream point's series part: everything Kapacitor sends.
    @inlinable init(_ point: Point) {
        self.init(name: point.name, database: point.database, retentionPolicy: point.retentionPolicy,
                  group: point.group.rawValue, dimensions: point.dimensions.tagNames, tags: point.tags)
    }

    /// A batch point's: only the batch's group and the point's tags (name and grouping travel in the begin).
    @inlinable init(batchPoint point: BatchPoint, group: GroupID) {
        self.init(name: "", database: "", retentionPolicy: "", group: group.rawValue, dimensions: [], tags: point.tags)
    }
}

@inlinable func tagsSize(_ tags: Tags) -> Int {
    var n = 0
    for (k, v) in tags { n += delimitedSize(stringEntrySize(k, v)) }
    return n
}

@inlinable func writeTags(_ tags: Tags, tag: UInt8, _ w: inout ProtoWriter) {
    for (k, v) in tags { w.stringEntry(tag: tag, k, v) }
}

/// A field value as one of the protocol's four typed maps.
@usableFromInline enum WireField {
    case double(Double), int(Int64), string(String), bool(Bool)

    @inlinable init(_ value: FieldValue) {
        switch value {
        case .double(let d): self = .double(d)
        case .int(let i): self = .int(i)
        case .uint(let u): self = u <= UInt64(Int64.max) ? .int(Int64(u)) : .double(Double(u))
        case .string(let s): self = .string(s)
        case .bool(let b): self = .bool(b)
        }
    }

    /// The Point field number of its map, and the map's tag byte.
    @inlinable var mapTag: UInt8 {
        switch self {
        case .double: 0x42 // 8
        case .int: 0x4A // 9
        case .string: 0x52 // 10
        case .bool: 0x62 // 12
        }
    }

    /// The size of a map entry holding `key` and this value.
    @inlinable func entrySize(key: String) -> Int {
        switch self {
        case .double: doubleEntrySize(key)
        case .int(let i): int64EntrySize(key, i)
        case .string(let s): stringEntrySize(key, s)
        case .bool: boolEntrySize(key)
        }
    }

    @inlinable func writeEntry(key: String, _ w: inout ProtoWriter) {
        switch self {
        case .double(let d): w.doubleEntry(tag: mapTag, key, d)
        case .int(let i): w.int64Entry(tag: mapTag, key, i)
        case .string(let s): w.stringEntry(tag: mapTag, key, s)
        case .bool(let b): w.boolEntry(tag: mapTag, key, b)
        }
    }
}

/// The series part of an `agent.Point`: fields 2 to 7 (name, database, retention policy, group, dimensions and
/// tags), the same bytes for every point of a series, with their encoded size.
@usableFromInline struct SeriesPart {
    @usableFromInline let name: String
    @usableFromInline let database: String
    @usableFromInline let retentionPolicy: String
    @usableFromInline let group: String
    @usableFromInline let dimensions: [String]
    @usableFromInline let tags: Tags
    @usableFromInline let size: Int

    @inlinable init(name: String, database: String, retentionPolicy: String, group: String, dimensions: [String],
                    tags: Tags) {
        self.name = name
        self.database = database
        self.retentionPolicy = retentionPolicy
        self.group = group
        self.dimensions = dimensions
        self.tags = tags
        var n = optionalStringSize(name) + optionalStringSize(database) + optionalStringSize(retentionPolicy)
        n += optionalStringSize(group)
        for d in dimensions { n += delimitedSize(d.utf8.count) }
        n += tagsSize(tags)
        size = n
    }

    @inlinable func write(_ w: inout ProtoWriter) {
        if !name.isEmpty { w.stringField(tag: 0x12, name) }
        if !database.isEmpty { w.stringField(tag: 0x1A, database) }
        if !retentionPolicy.isEmpty { w.stringField(tag: 0x22, retentionPolicy) }
        if !group.isEmpty { w.stringField(tag: 0x2A, group) }
        for d in dimensions { w.stringField(tag: 0x32, d) }
        writeTags(tags, tag: 0x3A, &w)
    }

    /// The part's bytes.
    func encoded() -> [UInt8] {
        [UInt8](unsafeUninitializedCapacity: size) { buf, count in
            var w = ProtoWriter(buf.baseAddress!)
            write(&w)
            count = size
            assert(w.cursor == buf.baseAddress! + size, "UDF codec size mismatch")
        }
    }
}

/// The parts of an `agent.Point` the host sends, with its encoded size: time, the series part (or its bytes), the
/// fields and byName.
@usableFromInline struct PointBody {
    @usableFromInline let time: Int64
    @usableFromInline let byName: Bool
    @usableFromInline let fields: Fields
    @usableFromInline var size: Int

    /// A body whose series part is `seriesSize` bytes.
    @inlinable init(time: Int64, seriesSize: Int, byName: Bool, fields: Fields) {
        self.time = time
        self.byName = byName
        self.fields = fields
        var n = seriesSize
        if time != 0 { n += 1 + varintSize(UInt64(bitPattern: time)) }
        for (k, v) in fields { n += delimitedSize(WireField(v).entrySize(key: k)) }
        if byName { n += 2 }
        size = n
    }

    /// Writes the body, the series part written by `series`.
    @inlinable func write(_ w: inout ProtoWriter, series: (inout ProtoWriter) -> Void) {
        if time != 0 {
            w.byte(0x08)
            w.varint(UInt64(bitPattern: time))
        }
        series(&w)
        // The typed maps in field-number order: double (8), int (9), string (10), then byName (11), bool (12).
        for (k, v) in fields { if case let f = WireField(v), case .double = f { f.writeEntry(key: k, &w) } }
        for (k, v) in fields { if case let f = WireField(v), case .int = f { f.writeEntry(key: k, &w) } }
        for (k, v) in fields { if case let f = WireField(v), case .string = f { f.writeEntry(key: k, &w) } }
        if byName {
            w.byte(0x58)
            w.byte(1)
        }
        for (k, v) in fields { if case let f = WireField(v), case .bool = f { f.writeEntry(key: k, &w) } }
    }
}
