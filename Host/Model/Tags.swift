/// A set of tags kept sorted by key, keys unique.
///
/// Sorted storage makes group keys, serialization and equality canonical without extra work.
/// Keys and values live in one shared, copy-on-write storage object, so a copy of a set (every point of a series
/// holds one) costs one reference count, not two; an empty set has no storage (nil), so it costs none.
public struct Tags: Sendable, Hashable, RandomAccessCollection {
    public typealias Element = (key: String, value: String)

    @usableFromInline var storage: TagStorage?
    @usableFromInline var keys: [String] { storage?.keys ?? [] }
    @usableFromInline var values: [String] { storage?.values ?? [] }

    public init() {
        storage = nil
    }

    /// Builds a tag set from pairs in any order; a later duplicate key replaces an earlier one.
    public init<S: Sequence>(_ pairs: S) where S.Element == (String, String) {
        self.init()
        for (k, v) in pairs { self[k] = v }
    }

    public init(_ dictionary: [String: String]) {
        let sorted = dictionary.sorted { $0.key < $1.key }
        storage = sorted.isEmpty ? nil : TagStorage(keys: sorted.map(\.key), values: sorted.map(\.value))
    }

    /// Builds a tag set from keys that are already sorted and unique (as a parser that sorted them has).
    public init(sortedKeys: [String], values: [String]) {
        precondition(sortedKeys.count == values.count)
        storage = sortedKeys.isEmpty ? nil : TagStorage(keys: sortedKeys, values: values)
    }

    @inlinable public var startIndex: Int { 0 }
    @inlinable public var endIndex: Int { keys.count }
    @inlinable public subscript(position: Int) -> Element {
        let s = storage!
        return (s.keys[position], s.values[position])
    }

    @inlinable
    func index(ofKey key: String) -> (found: Bool, index: Int) {
        guard let keys = storage?.keys else { return (false, 0) }
        var lo = 0, hi = keys.count
        while lo < hi {
            let mid = (lo + hi) / 2
            if keys[mid] < key { lo = mid + 1 } else { hi = mid }
        }
        return (lo < keys.count && keys[lo] == key, lo)
    }

    public subscript(key: String) -> String? {
        get {
            let (found, i) = index(ofKey: key)
            return found ? values[i] : nil
        }
        set {
            let (found, i) = index(ofKey: key)
            if !found && newValue == nil { return }
            if !isKnownUniquelyReferenced(&storage) {
                storage = TagStorage(keys: keys, values: values)
            }
            let s = storage!
            switch (found, newValue) {
            case (true, let v?): s.values[i] = v
            case (true, nil): s.keys.remove(at: i); s.values.remove(at: i)
            case (false, let v?): s.keys.insert(key, at: i); s.values.insert(v, at: i)
            case (false, nil): break
            }
            if s.keys.isEmpty { storage = nil }
        }
    }

    public var dictionary: [String: String] {
        Dictionary(uniqueKeysWithValues: zip(keys, values))
    }

    public var sortedKeys: [String] { keys }

    /// The address of the set's storage (in both members; 1 for every empty set, which has none): equal for copies
    /// of one set (they share it), and never that of another set while a copy of this one is alive. A cache that keeps
    /// a copy can recognize the set by it without comparing strings.
    @inlinable
    public var storageIdentity: StorageIdentity {
        let address = storage.map { UInt(bitPattern: ObjectIdentifier($0)) } ?? 1
        return StorageIdentity(keys: address, values: address)
    }

    /// See ``storageIdentity``.
    public struct StorageIdentity: Sendable, Hashable {
        public var keys: UInt
        public var values: UInt
        @inlinable public init(keys: UInt, values: UInt) {
            self.keys = keys
            self.values = values
        }
    }

    /// The tags whose keys are in `names`.
    public func filtered(to names: some Sequence<String>) -> Tags {
        var out = Tags()
        for n in names { if let v = self[n] { out[n] = v } }
        return out
    }

    public static func == (a: Tags, b: Tags) -> Bool {
        a.storage === b.storage || (a.keys == b.keys && a.values == b.values)
    }
    public func hash(into h: inout Hasher) { h.combine(keys); h.combine(values) }
}

extension Tags: ExpressibleByDictionaryLiteral {
    public init(dictionaryLiteral elements: (String, String)...) { self.init(elements) }
}

/// The keys and values of a non-empty ``Tags``, shared by its copies and copied before a change when shared.
@usableFromInline
final class TagStorage: @unchecked Sendable {
    // Changed only through a Tags that holds the sole reference (isKnownUniquelyReferenced), hence unchecked.
    @usableFromInline var keys: [String]
    @usableFromInline var values: [String]

    @usableFromInline init(keys: [String], values: [String]) {
        self.keys = keys
        self.values = values
    }
}
