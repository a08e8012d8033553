import TockModel

/// One tag of the line being parsed: byte ranges of key and value, and their ``IdentifierFlags``.
struct TagSpan: Sendable {
    var keyStart: Int
    var keyEnd: Int
    var keyFlags: UInt8
    var valueStart: Int
    var valueEnd: Int
    var valueFlags: UInt8
}

/// What ``scanIdentifier`` saw: bit 0 a backslash, bit 1 a byte outside ASCII.
enum IdentifierFlags {
    static let escaped: UInt8 = 1
    static let nonASCII: UInt8 = 2
}

enum RecordOutcome {
    /// A point was appended; the line's content ends at `end`, the next line starts at `next`,
    /// and `breaks` line breaks were consumed (the terminator and any inside strings).
    case point(end: Int, next: Int, breaks: Int)
    case failure(at: Int, String)
    /// A quoted string runs past the end of a non-final region.
    case incomplete
}

enum ValueOutcome {
    case value(FieldValue, end: Int)
    case failure(at: Int, String)
    case incomplete
}

/// The minimum and maximum time InfluxDB 1.x accepts (`models.MinNanoTime`, `models.MaxNanoTime`).
let minNanoTime = Int64.min + 2
let maxNanoTime = Int64.max - 1

@inline(__always)
func isLineEnd(_ p: UnsafePointer<UInt8>, _ i: Int, _ end: Int) -> Bool {
    if i >= end { return true }
    let c = p[i]
    return c == Byte.newline || (c == Byte.carriageReturn && (i + 1 == end || p[i + 1] == Byte.newline))
}

/// Scans a field key from `start` to the first unescaped byte of `stops` (a ``StopSet`` mask) or the line end,
/// stopping at `limit` at the latest. As InfluxDB 1.x scans fields, a backslash takes the next byte with it
/// (except a line break): `a\\=` ends at the `=`.
@inline(__always)
func scanIdentifier(_ p: UnsafePointer<UInt8>, _ start: Int, _ end: Int, _ stops: UInt64,
                    _ flags: inout UInt8, limit: Int? = nil) -> Int {
    let limit = limit ?? end
    var j = start
    var seen: UInt8 = 0
    var escaped = false
    while j < limit {
        let c = p[j]
        if c < 64 {
            if (stops >> UInt64(c)) & 1 != 0 {
                if c != Byte.carriageReturn || j + 1 == end || p[j + 1] == Byte.newline { break }
            }
        } else if c == Byte.backslash {
            escaped = true
            if j + 1 < limit && !isLineEnd(p, j + 1, end) {
                seen |= p[j + 1]
                j += 2
                continue
            }
        }
        seen |= c
        j += 1
    }
    flags = (escaped ? IdentifierFlags.escaped : 0) | (seen & 0x80 != 0 ? IdentifierFlags.nonASCII : 0)
    return j
}

/// Scans a measurement, tag key or tag value from `start` to the first unescaped byte of `stops` or the line end,
/// stopping at `limit` at the latest. As InfluxDB 1.x scans series keys, a byte is escaped when the byte before it
/// is a backslash, whatever comes before that: in `a\\ b` the space is escaped (`\\` is not an escaped
/// backslash). A line break always ends the line.
@inline(__always)
func scanKeyPart(_ p: UnsafePointer<UInt8>, _ start: Int, _ end: Int, _ stops: UInt64,
                 _ flags: inout UInt8, limit: Int? = nil) -> Int {
    let limit = limit ?? end
    var j = start
    var seen: UInt8 = 0
    var escaped = false
    while j < limit {
        let c = p[j]
        if c < 64 {
            if (stops >> UInt64(c)) & 1 != 0 {
                if c == Byte.newline { break }
                if c == Byte.carriageReturn {
                    if j + 1 == end || p[j + 1] == Byte.newline { break }
                } else if j == start || p[j - 1] != Byte.backslash {
                    break
                }
            }
        } else if c == Byte.backslash {
            escaped = true
        }
        seen |= c
        j += 1
    }
    flags = (escaped ? IdentifierFlags.escaped : 0) | (seen & 0x80 != 0 ? IdentifierFlags.nonASCII : 0)
    return j
}

/// The end of the series key that starts at `start`: the first space not right after a backslash, or the line end.
/// Skips 8 bytes at a time while none of them is a space, backslash, CR or LF.
@inline(__always)
func scanSeriesKey(_ p: UnsafePointer<UInt8>, _ start: Int, _ end: Int) -> Int {
    var j = start
    let raw = UnsafeRawPointer(p)
    while j + 8 <= end {
        let w = raw.loadUnaligned(fromByteOffset: j, as: UInt64.self)
        let m = SWAR.has(w, Byte.space) | SWAR.has(w, Byte.backslash) | SWAR.has(w, Byte.newline)
            | SWAR.has(w, Byte.carriageReturn)
        if m != 0 {
            j += m.trailingZeroBitCount >> 3
            break
        }
        j += 8
    }
    var flags: UInt8 = 0
    // p[j - 1] is no backslash (the words skipped had none), so starting the scan at j loses nothing.
    return scanKeyPart(p, j, end, StopSet.seriesKey, &flags)
}

/// How a position looks in a message: `end of line`, `a space`, or the character in quotes.
func describe(_ p: UnsafePointer<UInt8>, _ i: Int, _ end: Int) -> String {
    if isLineEnd(p, i, end) { return "end of line" }
    switch p[i] {
    case Byte.space: return "a space"
    case Byte.tab: return "a tab"
    default:
        var e = i + 1
        while e < end && p[e] & 0xC0 == 0x80 { e += 1 }
        return "\"" + String(decoding: UnsafeBufferPointer(start: p + i, count: e - i), as: UTF8.self) + "\""
    }
}

/// The text of `p[start..<end]` in quotes for a message, shortened to its last 40 bytes.
func quoted(_ p: UnsafePointer<UInt8>, _ start: Int, _ end: Int) -> String {
    var s = start
    var prefix = ""
    if end - s > 40 {
        s = end - 40
        while s < end && p[s] & 0xC0 == 0x80 { s += 1 }
        prefix = "…"
    }
    return "\"" + prefix + String(decoding: UnsafeBufferPointer(start: p + s, count: end - s), as: UTF8.self) + "\""
}

extension LineProtocolParser {
    /// Parses one line that starts (after whitespace) at `start` and appends its point.
    @inline(__always)
    mutating func parseRecord(_ p: UnsafePointer<UInt8>, _ start: Int, _ end: Int, final: Bool,
                              defaultTime: Int64, into points: inout [Point]) -> RecordOutcome {
        // Series key: measurement and tags, up to the first unescaped space.
        let keyEnd = scanSeriesKey(p, start, end)
        // A cached series is read from the cache only when the point is built (one retain each).
        var entry = -1
        // Only for a series the cache cannot hold (nothing built for a cached one: Tags() would retain shared storage).
        var parsed: (name: String, tags: Tags)? = nil
        let onSpace = keyEnd < end && p[keyEnd] == Byte.space
        let hash = hashBytes(p, start, keyEnd)
        if onSpace, let e = series.lookup(p, start, keyEnd, hash: hash) {
            entry = e
        } else {
            switch parseSeriesKey(p, start, keyEnd, end) {
            case .failure(let at, let message): return .failure(at: at, message)
            case .parsed(let n, let t):
                if keyEnd - start > 65535 {
                    return .failure(at: start, "the measurement and tags are longer than InfluxDB's limit of 65535 bytes")
                }
                if keyEnd - start <= SeriesCache.maxKeyLength {
                    let made = SeriesKey(name: n, tags: t, database: database, retentionPolicy: retentionPolicy)
                    entry = series.insert(p, start, keyEnd, hash: hash, series: made) ?? -1
                }
                if entry < 0 { parsed = (n, t) }
            }
        }

        // Fields.
        // Spaces only: a tab here is part of the first field key (InfluxDB would drop it).
        var i = keyEnd + 1
        while i < end && p[i] == Byte.space { i += 1 }
        if isLineEnd(p, i, end) {
            return .failure(at: i, "expected fields after \(quoted(p, start, keyEnd)), found end of line")
        }
        fieldCount = 0
        var breaks = 0
        while true {
            let keyStart = i
            var keyFlags: UInt8 = 0
            let fieldKeyEnd = scanIdentifier(p, keyStart, end, StopSet.key, &keyFlags)
            if fieldKeyEnd == keyStart {
                let after = fieldCount == 0 ? "" : " after \",\""
                return .failure(at: keyStart, "expected a field key\(after), found \(describe(p, keyStart, end))")
            }
            if fieldKeyEnd >= end || p[fieldKeyEnd] != Byte.equals {
                return .failure(at: fieldKeyEnd,
                                "expected \"=\" after field key \(quoted(p, keyStart, fieldKeyEnd)), found \(describe(p, fieldKeyEnd, end))")
            }
            if p[fieldKeyEnd - 1] == Byte.backslash {
                // InfluxDB finds the "=" again with the rule of tags (escaped when after a backslash) and loses the field.
                return .failure(at: fieldKeyEnd - 1,
                                "field key \(quoted(p, keyStart, fieldKeyEnd)) ends with a backslash, which InfluxDB reads as escaping the \"=\"")
            }
            switch parseValue(p, fieldKeyEnd + 1, end, final: final, keyStart: keyStart, breaks: &breaks) {
            case .value(let v, let valueEnd):
                let span = KeySpan(start: keyStart, end: fieldKeyEnd, flags: keyFlags)
                if fieldCount < keySpans.count {
                    keySpans[fieldCount] = span
                    values[fieldCount] = v
                } else {
                    keySpans.append(span)
                    values.append(v)
                }
                fieldCount += 1
                i = valueEnd
            case .failure(let at, let message): return .failure(at: at, message)
            case .incomplete: return .incomplete
            }
            if i < end && p[i] == Byte.comma {
                i += 1
                continue
            }
            if isLineEnd(p, i, end) || p[i] == Byte.space || p[i] == Byte.tab { break }
            return .failure(at: i, "expected \",\" or a space after the value of field \(quoted(p, keyStart, fieldKeyEnd)), found \(describe(p, i, end))")
        }

        // Timestamp.
        while i < end && (p[i] == Byte.space || p[i] == Byte.tab) { i += 1 }
        var time = defaultTime
        if !isLineEnd(p, i, end) {
            let tsStart = i
            while i + 8 <= end && SWAR.eightDigits(UnsafeRawPointer(p) + i) != nil { i += 8 }
            while !isLineEnd(p, i, end) && p[i] != Byte.space && p[i] != Byte.tab { i += 1 }
            switch NumberParser.int64(p, tsStart, i) {
            case .malformed:
                return .failure(at: tsStart, "invalid timestamp \(quoted(p, tsStart, i)): expected an integer")
            case .outOfRange:
                return .failure(at: tsStart, "timestamp \(quoted(p, tsStart, i)) is out of range")
            case .value(let t):
                let (ns, overflow) = t.multipliedReportingOverflow(by: precision.nanoseconds)
                if overflow || ns < minNanoTime || ns > maxNanoTime {
                    return .failure(at: tsStart, "timestamp \(quoted(p, tsStart, i)) in precision \"\(precision.rawValue)\" is out of range")
                }
                time = ns
            }
            while i < end && (p[i] == Byte.space || p[i] == Byte.tab) { i += 1 }
            if !isLineEnd(p, i, end) {
                return .failure(at: i, "expected end of line after the timestamp, found \(describe(p, i, end))")
            }
        }
        let contentEnd = i
        if i < end && p[i] == Byte.carriageReturn { i += 1 }
        if i < end && p[i] == Byte.newline { i += 1; breaks += 1 }

        guard let fields = makeFields(p) else {
            return .failure(at: firstInvalidKey(p), "invalid UTF-8 in field key")
        }
        if let parsed {
            points.append(Point(name: parsed.name, tags: parsed.tags, fields: fields, time: time,
                                database: database, retentionPolicy: retentionPolicy, group: noGroup,
                                dimensions: noDimensions))
        } else {
            points.append(Point(series: series.series(at: entry, database: database, retentionPolicy: retentionPolicy),
                                fields: fields, time: time, group: noGroup, dimensions: noDimensions))
        }
        return .point(end: contentEnd, next: i, breaks: breaks)
    }

    /// Sorted fields from `keySpans` and `values`, through the cache of field-key lists.
    @inline(__always)
    mutating func makeFields(_ p: UnsafePointer<UInt8>) -> Fields? {
        let n = fieldCount
        var hash: UInt64 = 0
        let found: Int? = keySpans.withUnsafeBufferPointer {
            let spans = UnsafeBufferPointer(rebasing: $0[..<n])
            let recent = fieldKeyLists.recent
            if recent >= 0 && fieldKeyLists.matches(recent, p, spans) { return recent }
            hash = FieldKeyCache.hash(p, spans)
            return fieldKeyLists.lookup(p, spans, hash: hash)
        }
        if let e = found {
            fieldKeyLists.recent = e
            let keys = fieldKeyLists.sortedKeys[e]
            let o = fieldKeyLists.orderStarts[e]
            let first = values[fieldKeyLists.orders[o]]
            // One field (most lines): stored inline in the point, nothing allocated. Array literals allocate on a
            // faster path than the generic initializers.
            let others: [FieldValue]
            switch keys.count {
            case 1: others = []
            case 2: others = [values[fieldKeyLists.orders[o + 1]]]
            case 3: others = [values[fieldKeyLists.orders[o + 1]], values[fieldKeyLists.orders[o + 2]]]
            default:
                var v: [FieldValue] = []
                v.reserveCapacity(keys.count - 1)
                for k in 1..<keys.count { v.append(values[fieldKeyLists.orders[o + k]]) }
                others = v
            }
            return Fields(sortedKeys: keys, firstValue: first, otherValues: others)
        }
        var pairs: [(key: String, index: Int)] = []
        pairs.reserveCapacity(n)
        for (index, span) in keySpans[..<n].enumerated() {
            guard let key = identifier(p, span.start, span.end, span.flags, unescapes: .nameOrFieldKey) else { return nil }
            pairs.append((key, index))
        }
        insertionSort(&pairs) { $0.key < $1.key }
        var sortedKeys: [String] = []
        var order: [Int] = []
        for pair in pairs {
            if let last = sortedKeys.last, last == pair.key {
                order[order.count - 1] = pair.index   // a repeated key: the last value wins
            } else {
                sortedKeys.append(pair.key)
                order.append(pair.index)
            }
        }
        // Interned: the points with these keys share one array that no thread reference-counts (see SeriesInterner).
        sortedKeys = SeriesInterner.shared.intern(fieldKeys: sortedKeys)
        keySpans.withUnsafeBufferPointer {
            fieldKeyLists.insert(p, UnsafeBufferPointer(rebasing: $0[..<n]), hash: hash, sortedKeys: sortedKeys, order: order)
        }
        return Fields(sortedKeys: sortedKeys, values: order.map { values[$0] })
    }

    func firstInvalidKey(_ p: UnsafePointer<UInt8>) -> Int {
        for span in keySpans[..<fieldCount] where String(validating: UnsafeBufferPointer(start: p + span.start, count: span.end - span.start), as: UTF8.self) == nil {
            return span.start
        }
        return keySpans.first?.start ?? 0
    }

    /// Decodes an identifier: unescapes it when needed and checks that it is UTF-8.
    ///
    /// As InfluxDB 1.x reads them, a backslash is dropped when the next byte is one of `unescapes` (measurements
    /// and field keys: comma, double quote, space, equals sign; tag keys and values: comma, space, equals sign) and
    /// kept otherwise: `a\\b` stays `a\\b`, `a\\,b` is `a\,b`.
    @inline(__always)
    mutating func identifier(_ p: UnsafePointer<UInt8>, _ start: Int, _ end: Int, _ flags: UInt8,
                             unescapes: Unescapes) -> String? {
        let raw = UnsafeBufferPointer(start: p + start, count: end - start)
        if flags == 0 { return String(decoding: raw, as: UTF8.self) }
        if flags & IdentifierFlags.escaped == 0 { return String(validating: raw, as: UTF8.self) }
        unescaped.removeAll(keepingCapacity: true)
        var k = start
        while k < end {
            let c = p[k]
            if c == Byte.backslash && k + 1 < end && unescapes.contains(p[k + 1]) {
                unescaped.append(p[k + 1])
                k += 2
            } else {
                unescaped.append(c)
                k += 1
            }
        }
        return String(validating: unescaped, as: UTF8.self)
    }
}

/// The bytes a backslash escapes when InfluxDB 1.x unescapes a name or key.
enum Unescapes {
    /// Measurements (`escape.Unescape`) and field keys: comma, double quote, space, equals sign.
    case nameOrFieldKey
    /// Tag keys and values (`unescapeTag`): comma, space, equals sign.
    case tag

    @inline(__always)
    func contains(_ b: UInt8) -> Bool {
        b == Byte.comma || b == Byte.space || b == Byte.equals || (self == .nameOrFieldKey && b == Byte.quote)
    }
}

func insertionSort<T>(_ a: inout [T], by less: (T, T) -> Bool) {
    if a.count < 2 { return }
    for i in 1..<a.count {
        var j = i
        let x = a[i]
        while j > 0 && less(x, a[j - 1]) {
            a[j] = a[j - 1]
            j -= 1
        }
        a[j] = x
    }
}
