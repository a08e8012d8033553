/// The dimensions a point or batch is grouped by (`groupBy` tag names and `byMeasurement`).
public struct Dimensions: Sendable, Hashable {
    public var byName: Bool
    /// Sorted tag names.
    public var tagNames: [String]

    public init(byName: Bool = false, tagNames: [String] = []) {
        self.byName = byName
        self.tagNames = tagNames.sorted()
    }

    public static let none = Dimensions()
}

/// The identity of a group, as Kapacitor spells it: `k=v,k2=v2` of the grouping tags (sorted),
/// prefixed by the measurement name and a newline when grouped by measurement; empty when ungrouped.
///
/// The text lives in one immutable storage object with its hash computed once, so a copy is one reference, hashing
/// a group (a window's or a stateful node's table lookup, per point) hashes one integer, and two copies of one group
/// compare equal by identity without reading the text. Groups made by the engine's group-key caches are interned
/// (``SeriesInterner/intern(_:)-(GroupID)``): every point of a group shares storage that is not reference-counted.
public struct GroupID: Sendable, Hashable, CustomStringConvertible {
    @usableFromInline var key: GroupKey

    /// The text of the group (see the type's description).
    public var rawValue: String {
        get { key.text }
        set { key = GroupKey.make(newValue) }
    }

    public init(_ rawValue: String) { key = GroupKey.make(rawValue) }

    @usableFromInline init(key: GroupKey) { self.key = key }

    public static let none = GroupID(key: GroupKey.empty)

    /// The group of a point with `tags` and measurement `name` under `dimensions`.
    public init(name: String, tags: Tags, dimensions: Dimensions) {
        var s = ""
        if dimensions.byName { s = name + "\n" }
        var first = true
        for key in dimensions.tagNames {
            if !first { s += "," }
            first = false
            s += key
            s += "="
            s += tags[key] ?? ""
        }
        self.init(s)
    }

    /// The address of the group's storage: equal for copies of one group value, so a cache that keeps a copy can
    /// recognize the group by it without comparing text (equal groups made separately may have different ones).
    @inlinable public var storageIdentity: UInt { UInt(bitPattern: ObjectIdentifier(key)) }

    public var description: String { key.text }

    @inlinable
    public static func == (a: GroupID, b: GroupID) -> Bool {
        a.key === b.key || (a.key.hash == b.key.hash && a.key.text == b.key.text)
    }

    @inlinable
    public func hash(into hasher: inout Hasher) { hasher.combine(key.hash) }
}

/// The text of a ``GroupID`` and its hash, immutable and shared by the copies of the group.
@usableFromInline
final class GroupKey: Sendable {
    @usableFromInline let text: String
    /// `text.hashValue`: the same for equal texts within the process.
    @usableFromInline let hash: Int

    init(_ text: String) {
        self.text = text
        hash = text.hashValue
    }

    /// The storage of the empty group, shared by every ungrouped point and never reference-counted.
    static let empty: GroupKey = {
        let key = GroupKey("")
        Immortal.make(key)
        return key
    }()

    static func make(_ text: String) -> GroupKey { text.isEmpty ? empty : GroupKey(text) }
}
