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
    /// Measurement, tags, database and retention policy.
    var series: SeriesKey
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
        if let cached, let fieldLayout = cached.fieldLayout, let span = layout.series,
           let point = fastPoint(r, skipping: span, series: cached, fields: fieldLayout) {
            r.cursor = r.end
            return point
        }
        var time: Int64 = 0
        var name = "", database = "", retentionPolicy = ""
        var dimensions: [String] = []
        if cached == nil && layout.dimensions > 0 { dimensions.reserveCapacity(layout.dimensions) }
        let byName = layout.byName
        tags.reset(capacity: layout.tags)
        fields.reset(capacity: layout.fields)
        fieldMaps.removeAll(keepingCapacity: true)
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
                    if slot >= 0 { fieldMaps.append(f) }
                }
            // byName is the first pass's (read the same way).
            default: try r.skip(wire: w, field: f)
            }
        }
        // The keys in wire order, for the series' field layout (a cached series whose points' fields are new).
        let wireKeys = slot >= 0 ? fields.keys.map { $0 } : []
        fields.sortAndMerge()
        var series: DecodedSeries
        if let cached {
            series = cached.series
        } else {
            tags.sortAndMerge { _ in 0 }
            // The scratch arrays themselves: interned below, the set gets storage of its own and they are free again.
            let tagSet = Tags(sortedKeys: tags.keys, values: tags.values)
            let dims = Dimensions(byName: byName, tagNames: dimensions)
            let group = dimensions.isEmpty && !byName ? GroupID.none : GroupID(name: name, tags: tagSet, dimensions: dims)
            series = DecodedSeries(series: SeriesKey(name: name, tags: tagSet, database: database, retentionPolicy: retentionPolicy),
                                   dimensions: dims, group: group)
            if slot >= 0, let bytes = layout.series {
                let entry = cache!.insert(series, bytes: bytes, byName: byName, at: slot)
                cached = entry
                series = entry.series // interned
            }
        }
        if let cached { cached.fieldLayout = FieldLayout(maps: fieldMaps, wireKeys: wireKeys, sortedKeys: fields.keys) }
        return Point(series: series.series, fields: makeFields(series: cached), time: time, group: series.group,
                     dimensions: series.dimensions)
    }

    /// A point of a cached series whose field entries are, in order, the maps and keys of the series' field layout,
    /// each entry written as every encoder writes it (key, then value); nil for anything else, which the full decoding
    /// then reads (or refuses). No string is made for a key, and the values go straight to their sorted places.
    private mutating func fastPoint(_ reader: ProtoReader, skipping span: UnsafeBufferPointer<UInt8>,
                                    series: UDFSeriesCache.Entry, fields layout: FieldLayout) -> Point? {
        var r = reader
        var time: Int64 = 0
        var i = 0
        let n = layout.maps.count
        fieldValues.removeAll(keepingCapacity: true)
        fieldValues.append(contentsOf: repeatElement(FieldValue.bool(false), count: n))
        while !r.isAtEnd {
            if r.cursor == span.baseAddress {
                r.cursor += span.count
                continue
            }
            guard let t = try? r.tag() else { return nil }
            let (f, w) = t
            switch f {
            case 1:
                guard w == WireType.varint, let v = try? r.varint() else { return nil }
                time = Int64(bitPattern: v)
            case 8, 9, 10, 12:
                guard w == WireType.lengthDelimited, i < n, layout.maps[i] == f,
                      var e = try? r.submessage("map entry"), let v = layout.value(&e, entry: i, map: f) else { return nil }
                fieldValues[layout.sortedIndex[i]] = v
                i += 1
            case 2...7:
                return nil // outside the series part: not the layout this path reads
            default:
                // byName (read by the first pass) and unknown fields.
                guard (try? r.skip(wire: w, field: f)) != nil else { return nil }
            }
        }
        guard i == n else { return nil }
        let s = series.series
        let fields = n == 0 ? Fields() : Fields(sortedKeys: layout.sortedKeys, firstValue: fieldValues[0],
                                                 otherValues: n > 1 ? Array(fieldValues[1..<n]) : [])
        return Point(series: s.series, fields: fields, time: time, group: s.group, dimensions: s.dimensions)
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
            keys = fields.keys
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
        /// The maps and keys of the series' last point's field entries, when they can be read without strings.
        var fieldLayout: FieldLayout?

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
        // Interned (with its tags): every point of the series shares it without counting references.
        kept.series = SeriesInterner.shared.intern(series.series)
        kept.group = SeriesInterner.shared.intern(series.group)
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

/// The field entries of a series' point in wire order: which map each is in and its key's bytes, and where its value
/// goes among the sorted keys.
final class FieldLayout {
    let maps: [Int]
    /// The keys' bytes, one after the other; key `i` is `keyBytes[keyStart[i]..<keyStart[i + 1]]`.
    let keyBytes: [UInt8]
    let keyStart: [Int]
    /// The place of entry `i`'s value among the sorted keys.
    let sortedIndex: [Int]
    let sortedKeys: [String]

    /// The layout of entries `maps`/`wireKeys` whose merged keys are `sortedKeys`, or nil when a key is repeated or
    /// too long for a one-byte length.
    init?(maps: [Int], wireKeys: [String], sortedKeys: [String]) {
        guard maps.count == wireKeys.count, wireKeys.count == sortedKeys.count else { return nil }
        var bytes: [UInt8] = []
        var starts: [Int] = [0]
        var index: [Int] = []
        for key in wireKeys {
            let utf8 = Array(key.utf8)
            guard utf8.count < 128, let i = sortedKeys.firstIndex(of: key) else { return nil }
            bytes += utf8
            starts.append(bytes.count)
            index.append(i)
        }
        self.maps = maps
        keyBytes = bytes
        keyStart = starts
        sortedIndex = index
        self.sortedKeys = SeriesInterner.shared.intern(fieldKeys: sortedKeys.map { $0 })
    }

    /// The value of map entry `entry` of map `map` when the entry is its key (the layout's) then its value, as
    /// encoders write it; nil otherwise.
    @inline(__always)
    func value(_ e: inout ProtoReader, entry i: Int, map: Int) -> FieldValue? {
        let start = keyStart[i], count = keyStart[i + 1] - start
        guard e.end - e.cursor >= 3 + count, e.cursor[0] == 0x0A, Int(e.cursor[1]) == count else { return nil }
        let same = keyBytes.withUnsafeBufferPointer { k in
            UDFSeriesCache.equal(UnsafeBufferPointer(rebasing: k[start..<start + count]),
                                 UnsafeBufferPointer(start: e.cursor + 2, count: count))
        }
        guard same else { return nil }
        e.cursor += 2 + count
        let tag = e.cursor.pointee
        e.cursor += 1
        let value: FieldValue
        switch map {
        case 8:
            guard tag == 0x11, let bits = try? e.fixed64() else { return nil }
            value = .double(Double(bitPattern: bits))
        case 9:
            guard tag == 0x10, let v = try? e.varint() else { return nil }
            value = .int(Int64(bitPattern: v))
        case 10:
            guard tag == 0x12, let v = try? e.string() else { return nil }
            value = .string(v)
        default:
            guard tag == 0x10, let v = try? e.varint() else { return nil }
            value = .bool(v != 0)
        }
        return e.isAtEnd ? value : nil
    }
}
