import TockModel
import UDFWireCodec

// A UDF's Point decoded into Tock's model, the series part from the decoder's cache when its bytes were seen before.

/// Where a Point's parts lie, from a first pass over its fields.
struct PointLayout {
    var dimensions = 0, tags = 0, fields = 0
    /// The bytes from the first occurrence of fields 2 to 7 (name … tags) to the end of the last one, when no other
    /// field lies between them (as every encoder writes them); nil otherwise, or when there is none.
    var series: UnsafeBufferPointer<UInt8>?
    /// The point's byName (field 11), read as the decoding pass reads it.
    var byName = false

    init(_ reader: ProtoReader) throws(WireFormatError) {
        var r = reader
        var start: UnsafePointer<UInt8>?
        var end: UnsafePointer<UInt8>?
        var interrupted = false, contiguous = true
        while !r.isAtEnd {
            let at = r.cursor
            let (f, w) = try r.tag()
            switch f {
            case 6: dimensions += 1
            case 7: tags += 1
            case 8, 9, 10, 12: fields += 1
            default: break
            }
            if f == 11 && w == WireType.varint {
                byName = try r.varint() != 0
            } else {
                try r.skip(wire: w, field: f)
            }
            if f >= 2 && f <= 7 {
                if start == nil { start = at } else if interrupted { contiguous = false }
                end = r.cursor
            } else if start != nil {
                interrupted = true
            }
        }
        if contiguous, let start, let end { series = UnsafeBufferPointer(start: start, count: end - start) }
    }
}

/// What a point's series part decodes to.
struct DecodedSeries {
    var name: String
    var database: String
    var retentionPolicy: String
    var tags: Tags
    var dimensions: Dimensions
    var group: GroupID
}

extension UDFResponseDecoder {
    mutating func decodePoint(_ r: inout ProtoReader) throws(WireFormatError) -> Point {
        let layout = try PointLayout(r)
        // The cached series for these bytes, if any: then fields 2 to 7 are skipped over at once.
        var slot = -1
        var cached: UDFSeriesCache.Entry?
        if cache != nil, let bytes = layout.series {
            (slot, cached) = cache!.lookup(bytes, byName: layout.byName)
        }
        var time: Int64 = 0
        var name = "", database = "", retentionPolicy = ""
        var dimensions: [String] = []
        if cached == nil && layout.dimensions > 0 { dimensions.reserveCapacity(layout.dimensions) }
        let byName = layout.byName
        tags.reset()
        fields.reset()
        while !r.isAtEnd {
            if cached != nil, let series = layout.series, r.cursor == series.baseAddress {
                r.cursor += series.count
                continue
            }
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
                    let (k, v) = try AgentCodec.stringEntry(&r)
                    tags.add(k, v)
                }
            case 8, 9, 10, 12:
                if try r.known(w, WireType.lengthDelimited, field: f) {
                    let (k, v) = try decodeFieldEntry(&r, map: f)
                    fields.add(k, v)
                }
            // byName is the first pass's (read the same way).
            default: try r.skip(wire: w, field: f)
            }
        }
        fields.sortAndMerge()
        let series: DecodedSeries
        if let cached {
            series = cached.series
        } else {
            tags.sortAndMerge { _ in 0 }
            let tagSet = Tags(sortedKeys: tags.keys.map { $0 }, values: tags.values.map { $0 })
            let dims = Dimensions(byName: byName, tagNames: dimensions)
            let group = dimensions.isEmpty && !byName ? GroupID.none : GroupID(name: name, tags: tagSet, dimensions: dims)
            series = DecodedSeries(name: name, database: database, retentionPolicy: retentionPolicy, tags: tagSet,
                                   dimensions: dims, group: group)
            if slot >= 0, let bytes = layout.series {
                cached = cache!.insert(series, bytes: bytes, byName: byName, at: slot)
            }
        }
        return Point(name: series.name, tags: series.tags, fields: makeFields(series: cached), time: time,
                     database: series.database, retentionPolicy: series.retentionPolicy, group: series.group,
                     dimensions: series.dimensions)
    }

    /// The collected fields (sorted and merged); the key list the series had last when it is the same.
    private func makeFields(series: UDFSeriesCache.Entry?) -> Fields {
        let n = fields.keys.count
        if n == 0 { return Fields() }
        let keys: [String]
        if let series {
            if series.fieldKeys != fields.keys { series.fieldKeys = SeriesInterner.shared.intern(fieldKeys: fields.keys.map { $0 }) }
            keys = series.fieldKeys
        } else {
            keys = fields.keys.map { $0 }
        }
        let values = fields.values
        return Fields(sortedKeys: keys, firstValue: values[0], otherValues: n > 1 ? Array(values[1..<n]) : [])
    }
}

/// The series a connection's UDF returned lately, by the bytes of their series part: a direct-mapped table (a new
/// series replaces the one in its slot), so a UDF with more series than slots costs a decode per miss, never memory.
struct UDFSeriesCache {
    final class Entry {
        let hash: UInt64
        let byName: Bool
        let bytes: [UInt8]
        let series: DecodedSeries
        /// The sorted field keys of the series' last point (interned).
        var fieldKeys: [String] = []

        init(hash: UInt64, byName: Bool, bytes: [UInt8], series: DecodedSeries) {
            self.hash = hash
            self.byName = byName
            self.bytes = bytes
            self.series = series
        }
    }

    private var slots: [Entry?]
    private let mask: Int

    init(capacity: Int) {
        var n = 1
        while n < capacity { n <<= 1 }
        slots = Array(repeating: nil, count: n)
        mask = n - 1
    }

    /// The slot for these bytes, and its entry when it holds them.
    func lookup(_ bytes: UnsafeBufferPointer<UInt8>, byName: Bool) -> (slot: Int, entry: Entry?) {
        let h = Self.hash(bytes, byName: byName)
        let slot = Int(truncatingIfNeeded: h >> 32) & mask
        guard let e = slots[slot], e.hash == h, e.byName == byName, e.bytes.count == bytes.count else {
            return (slot, nil)
        }
        let same = e.bytes.withUnsafeBufferPointer { stored in Self.equal(stored, bytes) }
        return (slot, same ? e : nil)
    }

    /// Keeps `series` (its tags and dimension names interned) in `slot`, replacing what was there.
    mutating func insert(_ series: DecodedSeries, bytes: UnsafeBufferPointer<UInt8>, byName: Bool, at slot: Int) -> Entry {
        var kept = series
        kept.tags = SeriesInterner.shared.intern(series.tags)
        // Interned like a key list: every point of the series shares the array without counting references.
        kept.dimensions.tagNames = SeriesInterner.shared.intern(fieldKeys: series.dimensions.tagNames)
        let entry = Entry(hash: Self.hash(bytes, byName: byName), byName: byName, bytes: Array(bytes), series: kept)
        slots[slot] = entry
        return entry
    }

    /// Whether two buffers of the same length hold the same bytes.
    static func equal(_ a: UnsafeBufferPointer<UInt8>, _ b: UnsafeBufferPointer<UInt8>) -> Bool {
        guard var p = a.baseAddress.map(UnsafeRawPointer.init), var q = b.baseAddress.map(UnsafeRawPointer.init) else {
            return a.count == b.count
        }
        var left = a.count
        while left >= 8 {
            if p.loadUnaligned(as: UInt64.self) != q.loadUnaligned(as: UInt64.self) { return false }
            p += 8
            q += 8
            left -= 8
        }
        for i in 0..<left where p.load(fromByteOffset: i, as: UInt8.self) != q.load(fromByteOffset: i, as: UInt8.self) {
            return false
        }
        return true
    }

    /// A fast 64-bit hash of the bytes and byName (FxHash's multiply-rotate over 8-byte words, then a final mix).
    static func hash(_ bytes: UnsafeBufferPointer<UInt8>, byName: Bool) -> UInt64 {
        let k: UInt64 = 0x517C_C1B7_2722_0A95
        var h: UInt64 = UInt64(bytes.count) &* k ^ (byName ? 0x9E37_79B9_7F4A_7C15 : 0)
        guard var p = bytes.baseAddress.map(UnsafeRawPointer.init) else { return h }
        var left = bytes.count
        while left >= 8 {
            h = ((h << 5 | h >> 59) ^ p.loadUnaligned(as: UInt64.self)) &* k
            p += 8
            left -= 8
        }
        if left > 0 {
            var tail: UInt64 = 0
            for i in 0..<left { tail |= UInt64(p.load(fromByteOffset: i, as: UInt8.self)) << (8 * UInt64(i)) }
            h = ((h << 5 | h >> 59) ^ tail) &* k
        }
        h ^= h >> 33
        h &*= 0xFF51_AFD7_ED55_8CCD
        h ^= h >> 33
        return h
    }
}
