import TockModel

/// Open-addressing index from a 64-bit hash to entry numbers; the caller checks the bytes.
struct HashIndex: Sendable {
    private var slots: [Int32]      // entry number + 1; 0 = empty
    private var hashes: [UInt64]
    private let mask: Int

    init(slotCount: Int) {
        precondition(slotCount > 0 && slotCount & (slotCount - 1) == 0)
        slots = Array(repeating: 0, count: slotCount)
        hashes = Array(repeating: 0, count: slotCount)
        mask = slotCount - 1
    }

    /// The entry stored under `hash` for which `matches` holds, if any.
    @inline(__always)
    func find(_ hash: UInt64, _ matches: (Int) -> Bool) -> Int? {
        var i = Int(truncatingIfNeeded: hash) & mask
        while true {
            let s = slots[i]
            if s == 0 { return nil }
            if hashes[i] == hash && matches(Int(s) - 1) { return Int(s) - 1 }
            i = (i + 1) & mask
        }
    }

    mutating func insert(_ hash: UInt64, entry: Int) {
        var i = Int(truncatingIfNeeded: hash) & mask
        while slots[i] != 0 { i = (i + 1) & mask }
        slots[i] = Int32(entry + 1)
        hashes[i] = hash
    }

    mutating func removeAll() {
        for i in slots.indices { slots[i] = 0 }
    }
}

/// Series keys seen recently (the raw bytes of `measurement,tags`) with their interned ``SeriesKey`` (name, tags and the
/// parser's database and retention policy), so a repeated series costs a hash and a comparison instead of unescaping
/// and allocating, and its points share one series. When the parser's database or retention policy changes (a kept
/// parser serving another request), ``generation`` moves on and each entry takes the interned series of the new ones
/// the first time it is used again.
/// Bounded: it starts over when full. Lookups touch only the plain `Int` arrays (no reference counting).
struct SeriesCache: Sendable {
    static let maxEntries = 8192
    static let maxKeyLength = 512
    static let maxBytes = 2 << 20

    private var index = HashIndex(slotCount: 2 * SeriesCache.maxEntries)
    private var offsets: [Int] = []
    private var lengths: [Int] = []
    private var bytes: [UInt8] = []
    private(set) var series: [SeriesKey] = []
    /// The ``generation`` each entry's series was made for.
    private var generations: [Int] = []
    /// Changed whenever the database or retention policy the series are made for changes.
    var generation = 0

    @inline(__always)
    func lookup(_ p: UnsafePointer<UInt8>, _ start: Int, _ end: Int, hash: UInt64) -> Int? {
        let length = end - start
        return bytes.withUnsafeBufferPointer { stored in
            index.find(hash) { e in
                lengths[e] == length && bytesEqual(stored.baseAddress! + offsets[e], p + start, length)
            }
        }
    }

    /// Adds a series; returns its entry, or nil when the key is too long to cache.
    mutating func insert(_ p: UnsafePointer<UInt8>, _ start: Int, _ end: Int, hash: UInt64, series new: SeriesKey) -> Int? {
        let length = end - start
        if length > Self.maxKeyLength { return nil }
        if series.count >= Self.maxEntries || bytes.count + length > Self.maxBytes {
            offsets.removeAll(keepingCapacity: true)
            lengths.removeAll(keepingCapacity: true)
            bytes.removeAll(keepingCapacity: true)
            series.removeAll(keepingCapacity: true)
            generations.removeAll(keepingCapacity: true)
            index.removeAll()
        }
        offsets.append(bytes.count)
        lengths.append(length)
        bytes.append(contentsOf: UnsafeBufferPointer(start: p + start, count: length))
        // Interned: the points of the series share storage no thread reference-counts (see SeriesInterner).
        series.append(SeriesInterner.shared.intern(new))
        generations.append(generation)
        index.insert(hash, entry: series.count - 1)
        return series.count - 1
    }

    /// Entry `e`'s series, with `database` and `retentionPolicy` (those of the current ``generation``).
    @inline(__always)
    mutating func series(at e: Int, database: String, retentionPolicy: String) -> SeriesKey {
        if generations[e] != generation {
            let old = series[e]
            if old.database != database || old.retentionPolicy != retentionPolicy {
                series[e] = SeriesInterner.shared.intern(old.with(database: database, retentionPolicy: retentionPolicy))
            }
            generations[e] = generation
        }
        return series[e]
    }
}

/// The position of one field key in the line: byte range and whether it needs unescaping.
struct KeySpan: Sendable {
    var start: Int
    var end: Int
    var flags: UInt8
}

/// Field-key lists seen recently (raw bytes of the keys in line order) with their sorted,
/// de-duplicated `String`s and, for each sorted key, which value of the line it takes.
struct FieldKeyCache: Sendable {
    static let maxEntries = 1024
    static let maxBytes = 1 << 20

    private var index = HashIndex(slotCount: 2 * FieldKeyCache.maxEntries)
    private var bytes: [UInt8] = []
    private var offsets: [Int] = []
    /// Where entry `e`'s key lengths start in `keyLengths`, and how many keys (in line order) it has.
    private var lengthStarts: [Int] = []
    private var keyCounts: [Int] = []
    private var keyLengths: [Int] = []
    /// Where entry `e`'s order starts in `orders`: for each sorted key, the index (in line order)
    /// of the value it takes, the last of a repeated key.
    private(set) var orderStarts: [Int] = []
    private(set) var orders: [Int] = []
    private(set) var sortedKeys: [[String]] = []

    @inline(__always)
    static func hash(_ p: UnsafePointer<UInt8>, _ spans: UnsafeBufferPointer<KeySpan>) -> UInt64 {
        var h: UInt64 = 0x51_7CC1_B727_220A
        for s in spans { h = hashBytes(p, s.start, s.end, seed: h) }
        return h
    }

    /// The entry the last line used (-1 when none): lines of one source usually repeat their field keys, so it is
    /// compared first, before hashing.
    var recent = -1

    @inline(__always)
    func lookup(_ p: UnsafePointer<UInt8>, _ spans: UnsafeBufferPointer<KeySpan>, hash: UInt64) -> Int? {
        bytes.withUnsafeBufferPointer { stored in
            index.find(hash) { e in matches(e, stored.baseAddress!, p, spans) }
        }
    }

    /// Whether entry `e` holds the keys of `spans`.
    @inline(__always)
    func matches(_ e: Int, _ p: UnsafePointer<UInt8>, _ spans: UnsafeBufferPointer<KeySpan>) -> Bool {
        bytes.withUnsafeBufferPointer { matches(e, $0.baseAddress!, p, spans) }
    }

    @inline(__always)
    private func matches(_ e: Int, _ stored: UnsafePointer<UInt8>, _ p: UnsafePointer<UInt8>,
                         _ spans: UnsafeBufferPointer<KeySpan>) -> Bool {
        if keyCounts[e] != spans.count { return false }
        var at = offsets[e]
        var l = lengthStarts[e]
        for s in spans {
            let n = s.end - s.start
            if keyLengths[l] != n || !bytesEqual(stored + at, p + s.start, n) { return false }
            at += n
            l += 1
        }
        return true
    }

    mutating func insert(_ p: UnsafePointer<UInt8>, _ spans: UnsafeBufferPointer<KeySpan>, hash: UInt64,
                         sortedKeys: [String], order: [Int]) {
        var total = 0
        for s in spans { total += s.end - s.start }
        if total > 4096 { return }
        if self.sortedKeys.count >= Self.maxEntries || bytes.count + total > Self.maxBytes {
            bytes.removeAll(keepingCapacity: true)
            offsets.removeAll(keepingCapacity: true)
            lengthStarts.removeAll(keepingCapacity: true)
            keyCounts.removeAll(keepingCapacity: true)
            keyLengths.removeAll(keepingCapacity: true)
            orderStarts.removeAll(keepingCapacity: true)
            orders.removeAll(keepingCapacity: true)
            self.sortedKeys.removeAll(keepingCapacity: true)
            index.removeAll()
            recent = -1
        }
        offsets.append(bytes.count)
        lengthStarts.append(keyLengths.count)
        keyCounts.append(spans.count)
        for s in spans {
            bytes.append(contentsOf: UnsafeBufferPointer(start: p + s.start, count: s.end - s.start))
            keyLengths.append(s.end - s.start)
        }
        orderStarts.append(orders.count)
        orders.append(contentsOf: order)
        self.sortedKeys.append(sortedKeys)
        index.insert(hash, entry: self.sortedKeys.count - 1)
    }
}
