/// A set of tags kept sorted by key, keys unique.
///
/// Sorted storage makes group keys, serialization and equality canonical without extra work,
/// and costs one allocation for the whole set.
public struct Tags: Sendable, Hashable, RandomAccessCollection {
    public typealias Element = (key: String, value: String)

    @usableFromInline var keys: [String]
    @usableFromInline var values: [String]

    public init() {
        keys = []
        values = []
    }

    /// Builds a tag set from pairs in any order; a later duplicate key replaces an earlier one.
    public init<S: Sequence>(_ pairs: S) where S.Element == (String, String) {
        self.init()
        for (k, v) in pairs { self[k] = v }
    }

    public init(_ dictionary: [String: String]) {
        let sorted = dictionary.sorted { $0.key < $1.key }
        keys = sorted.map(\.key)
        values = sorted.map(\.value)
    }

    /// Builds a tag set from keys that are already sorted and unique (as a parser that sorted them has).
    public init(sortedKeys: [String], values: [String]) {
        precondition(sortedKeys.count == values.count)
        self.keys = sortedKeys
        self.values = values
    }

    public var startIndex: Int { 0 }
    public var endIndex: Int { keys.count }
    public subscript(position: Int) -> Element { (keys[position], values[position]) }

    @inlinable
    func index(ofKey key: String) -> (found: Bool, index: Int) {
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
            switch (found, newValue) {
            case (true, let v?): values[i] = v
            case (true, nil): keys.remove(at: i); values.remove(at: i)
            case (false, let v?): keys.insert(key, at: i); values.insert(v, at: i)
            case (false, nil): break
            }
        }
    }

    public var dictionary: [String: String] {
        Dictionary(uniqueKeysWithValues: zip(keys, values))
    }

    public var sortedKeys: [String] { keys }

    /// The addresses of the set's storage: equal for copies of one set (they share it), and never those of another
    /// set while a copy of this one is alive. A cache that keeps a copy can recognize the set by it without comparing
    /// strings.
    @inlinable
    public var storageIdentity: StorageIdentity {
        StorageIdentity(keys: keys.withUnsafeBufferPointer { UInt(bitPattern: $0.baseAddress) },
                        values: values.withUnsafeBufferPointer { UInt(bitPattern: $0.baseAddress) })
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

    public static func == (a: Tags, b: Tags) -> Bool { a.keys == b.keys && a.values == b.values }
    public func hash(into h: inout Hasher) { h.combine(keys); h.combine(values) }
}

extension Tags: ExpressibleByDictionaryLiteral {
    public init(dictionaryLiteral elements: (String, String)...) { self.init(elements) }
}
