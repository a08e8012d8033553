import UDFProtocol

/// The data message of a `Request` or `Response` frame, decoded by ``AgentCodec/decodeData(_:)``.
public enum AgentData: Sendable, Hashable {
    case point(Agent_Point)
    case begin(Agent_BeginBatch)
    case end(Agent_EndBatch)
}

extension AgentCodec {
    /// Decodes the data message of one `Request` or `Response` frame (without its length prefix), or returns `nil`
    /// when swift-protobuf must decode the frame: a management message, no message, a data message split over
    /// several occurrences, or a data message with unknown fields or a field of an unexpected wire type (which
    /// swift-protobuf keeps as unknown fields). What it returns is what swift-protobuf would decode.
    ///
    /// - Throws: ``WireFormatError`` when the bytes are not protobuf (a truncated varint or value, invalid UTF-8, a
    ///   wrong wire type inside a map entry…), naming what is wrong and where: "truncated varint in Point".
    public static func decodeData(_ bytes: UnsafeRawBufferPointer) throws(WireFormatError) -> AgentData? {
        guard let base = bytes.baseAddress?.assumingMemoryBound(to: UInt8.self) else { return nil }
        var r = ProtoReader(start: base, end: base + bytes.count, context: "message")
        var last = 0
        var payload = UnsafeBufferPointer<UInt8>(start: nil, count: 0)
        var payloads = 0
        while !r.isAtEnd {
            let (field, wire) = try r.tag()
            switch field {
            case 1...6, 16...18:
                guard wire == WireType.lengthDelimited else { return nil }
                payload = try r.delimited()
                payloads += 1
                last = field
            default:
                try r.skip(wire: wire, field: field)
            }
        }
        if payloads != 1 || last < 16 { return nil }
        let start = payload.baseAddress ?? base
        let budget = r.depthBudget - 1
        switch last {
        case 16:
            var m = ProtoReader(start: start, end: start + payload.count, context: "BeginBatch", depthBudget: budget)
            return try decodeBegin(&m).map(AgentData.begin)
        case 17:
            var m = ProtoReader(start: start, end: start + payload.count, context: "Point", depthBudget: budget)
            return try decodePoint(&m).map(AgentData.point)
        default:
            var m = ProtoReader(start: start, end: start + payload.count, context: "EndBatch", depthBudget: budget)
            return try decodeEnd(&m).map(AgentData.end)
        }
    }

    /// A `map<string,string>` entry; a missing key or value is empty, as in swift-protobuf. A wrong wire type for the
    /// key or value is an error (see ``ProtoReader/mapEntry(_:_:field:)``). Shared by UDFKit's decoder and the host's
    /// (`PluginHost`'s `UDFCodec`), so both sides read map entries alike.
    @inlinable @inline(__always)
    package static func stringEntry(_ r: inout ProtoReader) throws(WireFormatError) -> (String, String) {
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

    /// A `map<string,V>` entry whose value is a varint (`int64`, `bool`) or a `double` (`fixed64`), as raw bits; a
    /// missing key is empty and a missing value 0. Shared by UDFKit's decoder and the host's.
    @inlinable @inline(__always)
    package static func scalarEntry(_ r: inout ProtoReader, wire expected: Int) throws(WireFormatError) -> (String, UInt64) {
        var e = try r.submessage("map entry")
        var key = "", value: UInt64 = 0
        while !e.isAtEnd {
            let (f, w) = try e.tag()
            switch f {
            case 1: if try e.mapEntry(w, WireType.lengthDelimited, field: f) { key = try e.string() }
            case 2:
                if try e.mapEntry(w, expected, field: f) {
                    value = expected == WireType.fixed64 ? try e.fixed64() : try e.varint()
                }
            default: try e.skip(wire: w, field: f)
            }
        }
        return (key, value)
    }

    /// The number of entries of each of Point's maps, to size the dictionaries once.
    struct EntryCounts {
        var dimensions = 0, tags = 0, doubles = 0, ints = 0, strings = 0, bools = 0
    }

    static func countEntries(_ reader: ProtoReader) throws(WireFormatError) -> EntryCounts {
        var r = reader
        var n = EntryCounts()
        while !r.isAtEnd {
            let (f, w) = try r.tag()
            switch f {
            case 6: n.dimensions += 1
            case 7: n.tags += 1
            case 8: n.doubles += 1
            case 9: n.ints += 1
            case 10: n.strings += 1
            case 12: n.bools += 1
            default: break
            }
            try r.skip(wire: w, field: f)
        }
        return n
    }

    /// A Point, or `nil` when it has a field swift-protobuf would keep as unknown.
    static func decodePoint(_ r: inout ProtoReader) throws(WireFormatError) -> Agent_Point? {
        let counts = try countEntries(r)
        var p = Agent_Point()
        var dimensions: [String] = []
        if counts.dimensions > 0 { dimensions.reserveCapacity(counts.dimensions) }
        var tags = [String: String](minimumCapacity: counts.tags)
        var doubles = [String: Double](minimumCapacity: counts.doubles)
        var ints = [String: Int64](minimumCapacity: counts.ints)
        var strings = [String: String](minimumCapacity: counts.strings)
        var bools = [String: Bool](minimumCapacity: counts.bools)
        while !r.isAtEnd {
            let (f, w) = try r.tag()
            let expected = f == 1 || f == 11 ? WireType.varint : WireType.lengthDelimited
            guard f <= 12, w == expected else { return nil }
            switch f {
            case 1: p.time = Int64(bitPattern: try r.varint())
            case 2: p.name = try r.string()
            case 3: p.database = try r.string()
            case 4: p.retentionPolicy = try r.string()
            case 5: p.group = try r.string()
            case 6: dimensions.append(try r.string())
            case 7:
                let (k, v) = try stringEntry(&r)
                tags[k] = v
            case 8:
                let (k, v) = try scalarEntry(&r, wire: WireType.fixed64)
                doubles[k] = Double(bitPattern: v)
            case 9:
                let (k, v) = try scalarEntry(&r, wire: WireType.varint)
                ints[k] = Int64(bitPattern: v)
            case 10:
                let (k, v) = try stringEntry(&r)
                strings[k] = v
            case 11: p.byName = try r.varint() != 0
            default:
                let (k, v) = try scalarEntry(&r, wire: WireType.varint)
                bools[k] = v != 0
            }
        }
        p.dimensions = dimensions
        p.tags = tags
        p.fieldsDouble = doubles
        p.fieldsInt = ints
        p.fieldsString = strings
        p.fieldsBool = bools
        return p
    }

    /// A BeginBatch, or `nil` when it has a field swift-protobuf would keep as unknown.
    static func decodeBegin(_ r: inout ProtoReader) throws(WireFormatError) -> Agent_BeginBatch? {
        var b = Agent_BeginBatch()
        while !r.isAtEnd {
            let (f, w) = try r.tag()
            let expected = f == 4 || f == 5 ? WireType.varint : WireType.lengthDelimited
            guard f <= 5, w == expected else { return nil }
            switch f {
            case 1: b.name = try r.string()
            case 2: b.group = try r.string()
            case 3:
                let (k, v) = try stringEntry(&r)
                b.tags[k] = v
            case 4: b.size = Int64(bitPattern: try r.varint())
            default: b.byName = try r.varint() != 0
            }
        }
        return b
    }

    /// An EndBatch, or `nil` when it has a field swift-protobuf would keep as unknown.
    static func decodeEnd(_ r: inout ProtoReader) throws(WireFormatError) -> Agent_EndBatch? {
        var e = Agent_EndBatch()
        while !r.isAtEnd {
            let (f, w) = try r.tag()
            let expected = f == 3 || f == 5 ? WireType.varint : WireType.lengthDelimited
            guard f <= 5, w == expected else { return nil }
            switch f {
            case 1: e.name = try r.string()
            case 2: e.group = try r.string()
            case 3: e.tmax = Int64(bitPattern: try r.varint())
            case 4:
                let (k, v) = try stringEntry(&r)
                e.tags[k] = v
            default: e.byName = try r.varint() != 0
            }
        }
        return e
    }
}
