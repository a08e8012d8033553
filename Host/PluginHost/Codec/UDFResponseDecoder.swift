import PluginSupervisor
import TockModel
import UDFProtocol
import UDFWireCodec

/// A UDF's `BeginBatch` response: a batch starts; points follow until the matching ``UDFEndBatch``.
public struct UDFBeginBatch: Sendable, Hashable {
    public var name: String
    public var group: GroupID
    public var tags: Tags
    /// The number of points announced (0 = unknown); a hint only.
    public var size: Int64
    public var byName: Bool

    public init(name: String, group: GroupID = .none, tags: Tags = Tags(), size: Int64 = 0, byName: Bool = false) {
        self.name = name
        self.group = group
        self.tags = tags
        self.size = size
        self.byName = byName
    }
}

/// A UDF's `EndBatch` response: Kapacitor takes the batch's name, tags and tmax from it.
public struct UDFEndBatch: Sendable, Hashable {
    public var name: String
    public var group: GroupID
    public var tmax: Timestamp
    public var tags: Tags
    public var byName: Bool

    public init(name: String, group: GroupID = .none, tmax: Timestamp, tags: Tags = Tags(), byName: Bool = false) {
        self.name = name
        self.group = group
        self.tmax = tmax
        self.tags = tags
        self.byName = byName
    }
}

/// One message from a UDF: data decoded straight into Tock's model, anything else as swift-protobuf's message.
public enum UDFResponse: Sendable, Hashable {
    /// A point: a stream point, or a batch point when it comes between begin and end.
    ///
    /// Fields are merged from the four typed maps; when a key is in several, the value from
    /// `fieldsBool` wins over `fieldsDouble`, over `fieldsInt`, over `fieldsString` (Kapacitor's order).
    /// Dimensions come from `dimensions` and `byName`; like Kapacitor, the group is computed from the
    /// dimensions and tags rather than taken from the point's `group` field.
    case point(Point)
    case begin(UDFBeginBatch)
    case end(UDFEndBatch)
    /// info, init, keepalive, snapshot, restore, error, or a response with no message set.
    case other(Agent_Response)
}

extension UDFCodec {
    /// Decodes one frame from a UDF (no series cache: see ``UDFResponseDecoder`` for a connection's frames).
    ///
    /// - Throws: ``UDFCodecError`` when the bytes are not a valid `agent.Response`.
    public static func decodeResponse(_ frame: ArraySlice<UInt8>) throws -> UDFResponse {
        var decoder = UDFResponseDecoder(seriesCacheSize: 0)
        return try frame.withUnsafeBytes { try decoder.decode($0) }
    }

    /// Decodes one frame from a UDF (no series cache: see ``UDFResponseDecoder`` for a connection's frames).
    ///
    /// - Throws: ``UDFCodecError`` when the bytes are not a valid `agent.Response`.
    public static func decodeResponse(_ bytes: UnsafeRawBufferPointer) throws -> UDFResponse {
        var decoder = UDFResponseDecoder(seriesCacheSize: 0)
        return try decoder.decode(bytes)
    }
}

/// Decodes the frames one UDF connection sends, keeping what the frames of a series share.
///
/// A UDF returns the points of a few series over and over, and the bytes of a point's series part (name, database,
/// retention policy, group, dimensions and tags: fields 2 to 7, written together in field order by every protobuf
/// encoder) are the same for every point of its series. The decoder keeps the series decoded from those bytes (the
/// tags interned, the group computed) in a small cache keyed by the bytes, and a point whose bytes are in it takes
/// the series from there: no strings, arrays or group key built per point. The fields' sorted key list is kept per
/// series too. What comes out is equal to what ``UDFCodec/decodeResponse(_:)-(UnsafeRawBufferPointer)`` returns for
/// the same frame. Not thread-safe: one decoder per connection, used by its reader.
public struct UDFResponseDecoder {
    var cache: UDFSeriesCache?
    /// Scratch for a point's tags and fields, kept between frames (their storage is reused).
    var tags = MapCollector<String>(capacity: 0)
    var fields = MapCollector<FieldValue>(capacity: 0)
    /// The map (Point field number) of each entry in `fields`, in wire order.
    var fieldMaps: [Int] = []
    /// Scratch for the fast path's values in sorted order.
    var fieldValues: [FieldValue] = []

    /// A decoder whose cache holds up to `seriesCacheSize` series (rounded up to a power of two; 0: no cache).
    public init(seriesCacheSize: Int = 1024) {
        cache = seriesCacheSize > 0 ? UDFSeriesCache(capacity: seriesCacheSize) : nil
    }

    /// Decodes one frame (without its length prefix).
    ///
    /// - Throws: ``UDFCodecError`` when the bytes are not a valid `agent.Response`.
    public mutating func decode(_ bytes: UnsafeRawBufferPointer) throws -> UDFResponse {
        let data: UDFResponse?
        do {
            data = try decodeData(bytes)
        } catch {
            throw UDFCodecError("malformed UDF response: \(error.message)")
        }
        if let data { return data }
        do {
            return try UDFCodec.convert(Agent_Response(serializedBytes: RawSpan(_unsafeBytes: bytes)))
        } catch {
            throw UDFCodecError("malformed UDF response: \(error)")
        }
    }

    /// The data message of a Response, or nil when swift-protobuf must decode it (management
    /// messages, no message at all, or one data message split over several occurrences).
    mutating func decodeData(_ bytes: UnsafeRawBufferPointer) throws(WireFormatError) -> UDFResponse? {
        guard let base = bytes.baseAddress?.assumingMemoryBound(to: UInt8.self) else { return nil }
        var r = ProtoReader(start: base, end: base + bytes.count, context: "Response")
        var last = 0
        var payload = UnsafeBufferPointer<UInt8>(start: nil, count: 0)
        var payloads = 0
        while !r.isAtEnd {
            let (field, wire) = try r.tag()
            switch field {
            case 1...6, 16...18:
                guard try r.known(wire, WireType.lengthDelimited, field: field) else { continue }
                let value = try r.delimited()
                payloads += 1
                last = field
                payload = value
            default:
                try r.skip(wire: wire, field: field)
            }
        }
        // Several occurrences of the message (the same one split, or another one replaced by the last, as a oneof
        // is): swift-protobuf decodes them all, so a malformed earlier one is refused, as Go's decoder does.
        if payloads > 1 || last < 16 { return nil }
        let start = payload.baseAddress ?? base
        switch last {
        case 16:
            var m = ProtoReader(start: start, end: start + payload.count, context: "BeginBatch",
                                depthBudget: r.depthBudget - 1)
            return .begin(try decodeBegin(&m))
        case 17:
            var m = ProtoReader(start: start, end: start + payload.count, context: "Point",
                                depthBudget: r.depthBudget - 1)
            return .point(try decodePoint(&m))
        default:
            var m = ProtoReader(start: start, end: start + payload.count, context: "EndBatch",
                                depthBudget: r.depthBudget - 1)
            return .end(try decodeEnd(&m))
        }
    }
}

// MARK: - Messages

/// Tags or fields collected from map entries, sorted and de-duplicated at the end.
struct MapCollector<Value> {
    var keys: [String] = []
    var values: [Value] = []

    init(capacity: Int) {
        if capacity > 0 {
            keys.reserveCapacity(capacity)
            values.reserveCapacity(capacity)
        }
    }

    mutating func add(_ key: String, _ value: Value) {
        keys.append(key)
        values.append(value)
    }

    /// Empties the collector, keeping its storage for the next message, with room for `capacity` entries.
    mutating func reset(capacity: Int) {
        keys.removeAll(keepingCapacity: true)
        values.removeAll(keepingCapacity: true)
        if keys.capacity < capacity {
            keys.reserveCapacity(capacity)
            values.reserveCapacity(capacity)
        }
    }

    /// Keys sorted, one value per key: the highest `rank`, and among equal ranks the last received
    /// (protobuf's rule for repeated map keys).
    mutating func finish(rank: (Value) -> UInt8) -> (keys: [String], values: [Value]) {
        sortAndMerge(rank: rank)
        return (keys, values)
    }

    /// ``finish(rank:)`` in place: `keys` sorted and unique, `values` beside them.
    mutating func sortAndMerge(rank: (Value) -> UInt8) {
        let n = keys.count
        if n > 1 {
            // Stable insertion sort: the input is often sorted or nearly so.
            for i in 1..<n {
                var j = i
                while j > 0 && keys[j] < keys[j - 1] {
                    keys.swapAt(j, j - 1)
                    values.swapAt(j, j - 1)
                    j -= 1
                }
            }
            var out = 0
            for i in 1..<n {
                if keys[i] == keys[out] {
                    if rank(values[i]) >= rank(values[out]) { values.swapAt(out, i) }
                } else {
                    out += 1
                    if out != i {
                        keys.swapAt(out, i)
                        values.swapAt(out, i)
                    }
                }
            }
            if out + 1 < n {
                keys.removeSubrange((out + 1)...)
                values.removeSubrange((out + 1)...)
            }
        }
    }
}

extension MapCollector where Value == String {
    /// Tags: the last value of a repeated key wins.
    mutating func finish() -> (keys: [String], values: [String]) { finish { _ in 0 } }
}

extension MapCollector where Value == FieldValue {
    /// Fields: Kapacitor merges the typed maps string, int, double, bool, so a later map wins
    /// whatever the order on the wire (typeMapsToFields in udf/server.go).
    mutating func finish() -> (keys: [String], values: [FieldValue]) {
        finish(rank: Self.rank)
    }

    /// ``finish()`` in place.
    mutating func sortAndMerge() { sortAndMerge(rank: Self.rank) }

    static func rank(_ v: FieldValue) -> UInt8 {
        switch v {
        case .string: 0
        case .int, .uint: 1
        case .double: 2
        case .bool: 3
        }
    }
}

/// A typed field map entry: `map<string,double|int64|string|bool>` (Point field 8, 9, 10 or 12), decoded into a
/// FieldValue with the map-entry readers UDFKit's decoder uses.
@inline(__always)
func decodeFieldEntry(_ r: inout ProtoReader, map field: Int) throws(WireFormatError) -> (String, FieldValue) {
    switch field {
    case 8:
        let (k, v) = try AgentCodec.scalarEntry(&r, wire: WireType.fixed64)
        return (k, .double(Double(bitPattern: v)))
    case 9:
        let (k, v) = try AgentCodec.scalarEntry(&r, wire: WireType.varint)
        return (k, .int(Int64(bitPattern: v)))
    case 10:
        let (k, v) = try AgentCodec.stringEntry(&r)
        return (k, .string(v))
    default:
        let (k, v) = try AgentCodec.scalarEntry(&r, wire: WireType.varint)
        return (k, .bool(v != 0))
    }
}

func decodeBegin(_ r: inout ProtoReader) throws(WireFormatError) -> UDFBeginBatch {
    var begin = UDFBeginBatch(name: "")
    var tags = MapCollector<String>(capacity: 0)
    while !r.isAtEnd {
        let (f, w) = try r.tag()
        switch f {
        case 1: if try r.known(w, WireType.lengthDelimited, field: f) { begin.name = try r.string() }
        case 2: if try r.known(w, WireType.lengthDelimited, field: f) { begin.group = GroupID(try r.string()) }
        case 3:
            if try r.known(w, WireType.lengthDelimited, field: f) {
                let (k, v) = try AgentCodec.stringEntry(&r)
                tags.add(k, v)
            }
        case 4: if try r.known(w, WireType.varint, field: f) { begin.size = Int64(bitPattern: try r.varint()) }
        case 5: if try r.known(w, WireType.varint, field: f) { begin.byName = try r.varint() != 0 }
        default: try r.skip(wire: w, field: f)
        }
    }
    let t = tags.finish()
    begin.tags = Tags(sortedKeys: t.keys, values: t.values)
    return begin
}

func decodeEnd(_ r: inout ProtoReader) throws(WireFormatError) -> UDFEndBatch {
    var end = UDFEndBatch(name: "", tmax: 0)
    var tags = MapCollector<String>(capacity: 0)
    while !r.isAtEnd {
        let (f, w) = try r.tag()
        switch f {
        case 1: if try r.known(w, WireType.lengthDelimited, field: f) { end.name = try r.string() }
        case 2: if try r.known(w, WireType.lengthDelimited, field: f) { end.group = GroupID(try r.string()) }
        case 3: if try r.known(w, WireType.varint, field: f) { end.tmax = Int64(bitPattern: try r.varint()) }
        case 4:
            if try r.known(w, WireType.lengthDelimited, field: f) {
                let (k, v) = try AgentCodec.stringEntry(&r)
                tags.add(k, v)
            }
        case 5: if try r.known(w, WireType.varint, field: f) { end.byName = try r.varint() != 0 }
        default: try r.skip(wire: w, field: f)
        }
    }
    let t = tags.finish()
    end.tags = Tags(sortedKeys: t.keys, values: t.values)
    return end
}
