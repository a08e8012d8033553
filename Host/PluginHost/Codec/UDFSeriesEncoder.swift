import TockModel
import UDFWireCodec

/// Encodes the data requests of one UDF connection, keeping the encoded series part of the series it sends.
///
/// Fields 2 to 7 of a point request (name, database, retention policy, group, dimensions, tags) are the same bytes
/// for every point of a series. The points of a series share their ``Tags`` storage (the line-protocol parser and the
/// UDF decoder intern it), so the encoder keeps those bytes per tag storage, in a direct-mapped table, and copies
/// them into the next point's request once name, database, retention policy, group and dimensions are checked equal.
/// A series is kept the second time it is seen in a row in its slot, so points whose tags are each a set of their
/// own cost no more than without the table. The bytes are those of ``UDFCodec/appendPointRequest(_:to:framed:)``.
/// Not thread-safe: one encoder per connection, used under the connection's send lock.
public struct UDFRequestEncoder {
    final class Entry {
        /// Holds the series' tag storage, so no other tag set can have its address while the entry is kept.
        let series: SeriesPart
        let bytes: [UInt8]

        init(series: SeriesPart) {
            self.series = series
            bytes = series.encoded()
        }
    }

    private var slots: [Entry?]
    /// The tag storage last seen in each slot without an entry.
    private var seen: [UInt]
    private let mask: Int

    /// An encoder whose table has `seriesCacheSize` slots (rounded up to a power of two; 0: none).
    public init(seriesCacheSize: Int = 1024) {
        var n = seriesCacheSize > 0 ? 1 : 0
        while n > 0 && n < seriesCacheSize { n <<= 1 }
        slots = Array(repeating: nil, count: n)
        seen = Array(repeating: 0, count: n)
        mask = n - 1
    }

    /// Appends `Request{point}` for a stream point, as one frame.
    public mutating func appendPointRequest(_ point: Point, to output: inout [UInt8]) {
        let dims = point.dimensions.tagNames, group = point.group.rawValue
        if let e = entry(tags: point.tags, name: point.name, database: point.database,
                         retentionPolicy: point.retentionPolicy, group: group, dimensions: dims) {
            append(e, time: point.time, byName: point.dimensions.byName, fields: point.fields, to: &output)
            return
        }
        UDFCodec.appendPointRequest(point, to: &output)
    }

    /// Appends the frames of a whole batch: begin, one point per batch point, end.
    public mutating func appendBatchRequests(_ batch: Batch, to output: inout [UInt8]) {
        UDFCodec.appendBeginBatchRequest(batch, to: &output)
        let group = batch.group.rawValue
        for p in batch.points {
            if let e = entry(tags: p.tags, name: "", database: "", retentionPolicy: "", group: group, dimensions: []) {
                append(e, time: p.time, byName: false, fields: p.fields, to: &output)
            } else {
                UDFCodec.appendBatchPointRequest(p, group: batch.group, to: &output)
            }
        }
        UDFCodec.appendEndBatchRequest(batch, to: &output)
    }

    private func append(_ e: Entry, time: Int64, byName: Bool, fields: Fields, to output: inout [UInt8]) {
        let body = PointBody(time: time, seriesSize: e.bytes.count, byName: byName, fields: fields)
        appendWrappedMessage(oneofTag: DataTag.point, bodySize: body.size, to: &output, framed: true) { w in
            body.write(&w) { w in e.bytes.withUnsafeBufferPointer { w.raw($0) } }
        }
    }

    /// The kept series part for these values, kept now if the slot saw the same tag storage last time.
    private mutating func entry(tags: Tags, name: String, database: String, retentionPolicy: String, group: String,
                                dimensions: [String]) -> Entry? {
        guard mask >= 0 else { return nil }
        let id = tags.storageIdentity.keys
        let slot = Int(truncatingIfNeeded: (id >> 4) ^ (id >> 14)) & mask
        if let e = slots[slot], e.series.tags.storageIdentity.keys == id {
            let s = e.series
            if s.name == name && s.group == group && s.database == database && s.retentionPolicy == retentionPolicy
                && s.dimensions == dimensions {
                return e
            }
        }
        guard seen[slot] == id else {
            seen[slot] = id
            return nil
        }
        let e = Entry(series: SeriesPart(name: name, database: database, retentionPolicy: retentionPolicy, group: group,
                                         dimensions: dimensions, tags: tags))
        slots[slot] = e
        return e
    }
}
