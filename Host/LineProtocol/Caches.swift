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

/// Series keys seen recently (the raw bytes of `measurement,tags`) with their parsed name and tags,
/// so a repeated series costs a hash and a comparison instead of unescaping and allocating.
/// Bounded: it starts over when full.
struct SeriesCache: Sendable {
    struct Entry: Sendable {
        var offset: Int
        var length: Int
        var name: String
        var tags: Tags
    }

    static let maxEntries = 8192
    static let maxKeyLength = 512
    static let maxBytes = 2 << 20

    private var index = HashIndex(slotCount: 2 * SeriesCache.maxEntries)
    private(set) var entries: [Entry] = []
    private var bytes: [UInt8] = []

    init() {
        entries.reserveCapacity(64)
    }

    @inline(__always)
    func lookup(_ p: UnsafePointer<UInt8>, _ start: Int, _ end: Int, hash: UInt64) -> Int? {
        let length = end - start
        return bytes.withUnsafeBufferPointer { stored in
            index.find(hash) { e in
                let entry = entries[e]
                return entry.length == length && bytesEqual(stored.baseAddress! + entry.offset, p + start, length)
            }
        }
    }

    mutating func insert(_ p: UnsafePointer<UInt8>, _ start: Int, _ end: Int, hash: UInt64, name: String, tags: Tags) {
        let length = end - start
        if length > Self.maxKeyLength { return }
        if entries.count >= Self.maxEntries || bytes.count + length > Self.maxBytes {
            entries.removeAll(keepingCapacity: true)
            bytes.removeAll(keepingCapacity: true)
            index.removeAll()
        }
        let offset = bytes.count
        bytes.append(contentsOf: UnsafeBufferPointer(start: p + start, count: length))
        entries.append(Entry(offset: offset, length: length, name: name, tags: tags))
        index.insert(hash, entry: entries.count - 1)
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
    struct Entry: Sendable {
        var offset: Int
        var lengths: [Int]
        var sortedKeys: [String]
        /// For each sorted key, the index (in line order) of the value it takes: the last duplicate.
        var order: [Int]
    }

    static let maxEntries = 1024
    static let maxBytes = 1 << 20

    private var index = HashIndex(slotCount: 2 * FieldKeyCache.maxEntries)
    private(set) var entries: [Entry] = []
    private var bytes: [UInt8] = []

    @inline(__always)
    static func hash(_ p: UnsafePointer<UInt8>, _ spans: UnsafeBufferPointer<KeySpan>) -> UInt64 {
        var h: UInt64 = 0x51_7CC1_B727_220A
        for s in spans { h = hashBytes(p, s.start, s.end, seed: h) }
        return h
    }

    @inline(__always)
    func lookup(_ p: UnsafePointer<UInt8>, _ spans: UnsafeBufferPointer<KeySpan>, hash: UInt64) -> Int? {
        bytes.withUnsafeBufferPointer { stored in
            index.find(hash) { e in
                let entry = entries[e]
                if entry.lengths.count != spans.count { return false }
                var at = entry.offset
                for (k, s) in spans.enumerated() {
                    let n = s.end - s.start
                    if entry.lengths[k] != n || !bytesEqual(stored.baseAddress! + at, p + s.start, n) { return false }
                    at += n
                }
                return true
            }
        }
    }

    mutating func insert(_ p: UnsafePointer<UInt8>, _ spans: UnsafeBufferPointer<KeySpan>, hash: UInt64,
                         sortedKeys: [String], order: [Int]) {
        var total = 0
        for s in spans { total += s.end - s.start }
        if total > 4096 { return }
        if entries.count >= Self.maxEntries || bytes.count + total > Self.maxBytes {
            entries.removeAll(keepingCapacity: true)
            bytes.removeAll(keepingCapacity: true)
            index.removeAll()
        }
        let offset = bytes.count
        var lengths: [Int] = []
        lengths.reserveCapacity(spans.count)
        for s in spans {
            bytes.append(contentsOf: UnsafeBufferPointer(start: p + s.start, count: s.end - s.start))
            lengths.append(s.end - s.start)
        }
        entries.append(Entry(offset: offset, lengths: lengths, sortedKeys: sortedKeys, order: order))
        index.insert(hash, entry: entries.count - 1)
    }
}
