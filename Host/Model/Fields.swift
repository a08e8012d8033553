/// A point's fields kept sorted by key, keys unique.
///
/// The first value is stored inline and the others in an array, so fields with one value (most points) cost no
/// allocation: the keys array is typically shared by every point of a series (the parser caches it).
public struct Fields: Sendable, Hashable, RandomAccessCollection {
    public typealias Element = (key: String, value: FieldValue)

    @usableFromInline var keys: [String]
    /// The value of `keys[0]`; ``Fields/placeholder`` when there are no fields.
    @usableFromInline var first: FieldValue
    /// The values of `keys[1...]`.
    @usableFromInline var rest: [FieldValue]

    /// What `first` holds when there are no fields, so that equal fields are equal member for member.
    @usableFromInline static let placeholder = FieldValue.bool(false)

    public init() {
        keys = []
        first = Self.placeholder
        rest = []
    }

    public init<S: Sequence>(_ pairs: S) where S.Element == (String, FieldValue) {
        self.init()
        for (k, v) in pairs { self[k] = v }
    }

    public init(_ dictionary: [String: FieldValue]) {
        let sorted = dictionary.sorted { $0.key < $1.key }
        self.init(sortedKeys: sorted.map(\.key), values: sorted.map(\.value))
    }

    /// Builds fields from keys that are already sorted and unique.
    public init(sortedKeys: [String], values: [FieldValue]) {
        precondition(sortedKeys.count == values.count)
        keys = sortedKeys
        first = values.first ?? Self.placeholder
        rest = values.count > 1 ? Array(values[1...]) : []
    }

    /// Builds fields from keys that are already sorted and unique, the first key's value and the others' values
    /// (`otherValues[i]` is the value of `sortedKeys[i + 1]`). With one key and no other values nothing is allocated.
    public init(sortedKeys: [String], firstValue: FieldValue, otherValues: [FieldValue]) {
        precondition(!sortedKeys.isEmpty && sortedKeys.count == otherValues.count + 1)
        keys = sortedKeys
        first = firstValue
        rest = otherValues
    }

    @inlinable public var startIndex: Int { 0 }
    @inlinable public var endIndex: Int { keys.count }
    @inlinable public subscript(position: Int) -> Element { (keys[position], value(at: position)) }

    @inlinable
    func value(at i: Int) -> FieldValue {
        if i == 0 {
            precondition(!keys.isEmpty, "Index out of range")
            return first
        }
        return rest[i - 1]
    }

    @inlinable
    func index(ofKey key: String) -> (found: Bool, index: Int) {
        // Few fields per point: a linear scan beats a binary search.
        for i in 0..<keys.count {
            if keys[i] == key { return (true, i) }
            if keys[i] > key { return (false, i) }
        }
        return (false, keys.count)
    }

    public subscript(key: String) -> FieldValue? {
        get {
            let (found, i) = index(ofKey: key)
            return found ? value(at: i) : nil
        }
        set {
            let (found, i) = index(ofKey: key)
            switch (found, newValue) {
            case (true, let v?):
                if i == 0 { first = v } else { rest[i - 1] = v }
            case (true, nil):
                keys.remove(at: i)
                if i > 0 {
                    rest.remove(at: i - 1)
                } else if rest.isEmpty {
                    first = Self.placeholder
                } else {
                    first = rest.removeFirst()
                }
            case (false, let v?):
                if i > 0 {
                    rest.insert(v, at: i - 1)
                } else {
                    if !keys.isEmpty { rest.insert(first, at: 0) }
                    first = v
                }
                keys.insert(key, at: i)
            case (false, nil): break
            }
        }
    }

    public var dictionary: [String: FieldValue] {
        var d: [String: FieldValue] = [:]
        d.reserveCapacity(keys.count)
        for (k, v) in self { d[k] = v }
        return d
    }

    public var sortedKeys: [String] { keys }

    public static func == (a: Fields, b: Fields) -> Bool { a.keys == b.keys && a.first == b.first && a.rest == b.rest }
    public func hash(into h: inout Hasher) {
        h.combine(keys)
        h.combine(first)
        h.combine(rest)
    }
}

extension Fields: ExpressibleByDictionaryLiteral {
    public init(dictionaryLiteral elements: (String, FieldValue)...) { self.init(elements) }
}
