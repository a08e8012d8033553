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
    /// Decodes one frame from a UDF.
    ///
    /// - Throws: ``UDFCodecError`` when the bytes are not a valid `agent.Response`.
    public static func decodeResponse(_ frame: ArraySlice<UInt8>) throws -> UDFResponse {
        try frame.withUnsafeBytes { try decodeResponse($0) }
    }

    /// Decodes one frame from a UDF.
    ///
    /// - Throws: ``UDFCodecError`` when the bytes are not a valid `agent.Response`.
    public static func decodeResponse(_ bytes: UnsafeRawBufferPointer) throws -> UDFResponse {
        let data: UDFResponse?
        do {
            data = try decodeData(bytes)
        } catch {
            throw UDFCodecError("malformed UDF response: \(error.message)")
        }
        if let data { return data }
        do {
            return try convert(Agent_Response(serializedBytes: RawSpan(_unsafeBytes: bytes)))
        } catch {
            throw UDFCodecError("malformed UDF response: \(error)")
        }
    }

    /// The data message of a Response, or nil when swift-protobuf must decode it (management
    /// messages, no message at all, or one data message split over several occurrences).
    static func decodeData(_ bytes: UnsafeRawBufferPointer) throws(WireFormatError) -> UDFResponse? {
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

    /// Keys sorted, one value per key: the highest `rank`, and among equal ranks the last received
    /// (protobuf's rule for repeated map keys).
    mutating func finish(rank: (Value) -> UInt8) -> (keys: [String], values: [Value]) {
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
        return (keys, values)
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
        finish { v in
            switch v {
            case .string: 0
            case .int, .uint: 1
            case .double: 2
            case .bool: 3
            }
        }
    }
}

/// A `map<string,string>` entry.
@inline(__always)
func decodeStringEntry(_ r: inout ProtoReader) throws(WireFormatError) -> (String, String) {
    var e = try r.submessage("map entry")
    var key = "", value = ""
    while !e.isAtEnd {
        let (f, w) = try e.tag()
        switch f {
        case 1: if try e.mapEntry(w, WireType.lengthDelimited, field: f) { key = try e.string() }
        case 2: if try e.mapEntry(w, WireType.lengthDelimited, field: f) { value = try e.string() }
        default: try e.skip(wire: w, field: f)
        }
    }
    return (key, value)
}

/// A typed field map entry: `map<string,double|int64|string|bool>`, decoded into a FieldValue.
@inline(__always)
func decodeFieldEntry(_ r: inout ProtoReader, map field: Int) throws(WireFormatError) -> (String, FieldValue) {
    var e = try r.submessage("map entry")
    var key = ""
    var value: FieldValue
    switch field {
    case 8: value = .double(0)
    case 9: value = .int(0)
    case 10: value = .string("")
    default: value = .bool(false)
    }
    while !e.isAtEnd {
        let (f, w) = try e.tag()
        switch f {
        case 1:
            if try e.mapEntry(w, WireType.lengthDelimited, field: f) {
                key = try e.string()
            }
        case 2:
            switch field {
            case 8:
                if try e.mapEntry(w, WireType.fixed64, field: f) {
                    value = .double(Double(bitPattern: try e.fixed64()))
                }
            case 9:
                if try e.mapEntry(w, WireType.varint, field: f) {
                    value = .int(Int64(bitPattern: try e.varint()))
                }
            case 10:
                if try e.mapEntry(w, WireType.lengthDelimited, field: f) {
                    value = .string(try e.string())
                }
            default:
                if try e.mapEntry(w, WireType.varint, field: f) {
                    value = .bool(try e.varint() != 0)
                }
            }
        default:
            try e.skip(wire: w, field: f)
        }
    }
    return (key, value)
}

/// The number of occurrences of Point's repeated fields, to size the arrays once.
func countPointEntries(_ reader: ProtoReader) throws(WireFormatError) -> (dimensions: Int, tags: Int, fields: Int) {
    var r = reader
    var dims = 0, tags = 0, fields = 0
    while !r.isAtEnd {
        let (f, w) = try r.tag()
        switch f {
        case 6: dims += 1
        case 7: tags += 1
        case 8, 9, 10, 12: fields += 1
        default: break
        }
        try r.skip(wire: w, field: f)
    }
    return (dims, tags, fields)
}

func decodePoint(_ r: inout ProtoReader) throws(WireFormatError) -> Point {
    let counts = try countPointEntries(r)
    var time: Int64 = 0
    var name = "", database = "", retentionPolicy = ""
    var dimensions: [String] = []
    if counts.dimensions > 0 { dimensions.reserveCapacity(counts.dimensions) }
    var byName = false
    var tags = MapCollector<String>(capacity: counts.tags)
    var fields = MapCollector<FieldValue>(capacity: counts.fields)
    while !r.isAtEnd {
        let (f, w) = try r.tag()
        switch f {
        case 1: if try r.known(w, WireType.varint, field: f) { time = Int64(bitPattern: try r.varint()) }
        case 2: if try r.known(w, WireType.lengthDelimited, field: f) { name = try r.string() }
        case 3: if try r.known(w, WireType.lengthDelimited, field: f) { database = try r.string() }
        case 4: if try r.known(w, WireType.lengthDelimited, field: f) { retentionPolicy = try r.string() }
        case 5:
            // The group is recomputed from dimensions and tags, as Kapacitor does; only validate it.
            if try r.known(w, WireType.lengthDelimited, field: f) { _ = try r.string() }
        case 6: if try r.known(w, WireType.lengthDelimited, field: f) { dimensions.append(try r.string()) }
        case 7:
            if try r.known(w, WireType.lengthDelimited, field: f) {
                let (k, v) = try decodeStringEntry(&r)
                tags.add(k, v)
            }
        case 8, 9, 10, 12:
            if try r.known(w, WireType.lengthDelimited, field: f) {
                let (k, v) = try decodeFieldEntry(&r, map: f)
                fields.add(k, v)
            }
        case 11: if try r.known(w, WireType.varint, field: f) { byName = try r.varint() != 0 }
        default: try r.skip(wire: w, field: f)
        }
    }
    let t = tags.finish()
    let fv = fields.finish()
    let tagSet = Tags(sortedKeys: t.keys, values: t.values)
    let dims = Dimensions(byName: byName, tagNames: dimensions)
    let group = dimensions.isEmpty && !byName ? GroupID.none : GroupID(name: name, tags: tagSet, dimensions: dims)
    return Point(
        name: name, tags: tagSet, fields: Fields(sortedKeys: fv.keys, values: fv.values), time: time,
        database: database, retentionPolicy: retentionPolicy, group: group, dimensions: dims)
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
                let (k, v) = try decodeStringEntry(&r)
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
                let (k, v) = try decodeStringEntry(&r)
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
