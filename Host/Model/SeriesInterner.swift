import Synchronization

/// Series keys, tag sets, field-key lists and groups interned for the life of the process, so that the points of a series
/// share storage that no thread ever reference-counts.
///
/// Every point of a series holds the series' ``Tags`` and its field keys: shared storage, one copy per point. A copy
/// normally costs an atomic increment when the parser makes the point and an atomic decrement when the engine drops
/// it, on another core: the two cores take turns owning the storage's cache line, once per point. The interner
/// keeps one copy of each distinct tag set and field-key list and marks its storage *immortal* (the Swift runtime
/// then leaves the reference count alone: a retain or release reads it and writes nothing), so a point costs no
/// shared write however many threads hand it on.
///
/// Interned storage is never freed: the interner holds at most `limit` of each kind (tag sets, key lists, series,
/// groups), and returns anything beyond that unchanged (ordinary, reference-counted storage). Values read exactly as
/// before: an interned `Tags` is equal to the one it was made from, and changing a copy copies its storage first
/// (immortal storage is never uniquely referenced).
public final class SeriesInterner: Sendable {
    /// The interner the line-protocol parsers share.
    public static let shared = SeriesInterner(limit: 65_536)

    private struct State {
        var tags: [Tags: Tags] = [:]
        var fieldKeys: [[String]: [String]] = [:]
        var series: [SeriesKey: SeriesKey] = [:]
        var groups: [String: GroupID] = [:]
    }

    private let state = Mutex(State())
    /// The most tag sets (and, separately, key lists) kept.
    public let limit: Int

    public init(limit: Int) {
        self.limit = limit
    }

    /// The interned tag set equal to `tags` (interning it first), or `tags` itself when it is empty or the interner is
    /// full.
    public func intern(_ tags: Tags) -> Tags {
        guard let storage = tags.storage else { return tags }
        return state.withLock { s in
            if let interned = s.tags[tags] { return interned }
            guard s.tags.count < limit else { return tags }
            // A storage of its own, which no other thread has seen, made immortal before anyone can.
            let fresh = TagStorage(keys: storage.keys.map { $0 }, values: storage.values.map { $0 })
            Immortal.make(fresh)
            var interned = Tags()
            interned.storage = fresh
            s.tags[interned] = interned
            return interned
        }
    }

    /// The interned key list equal to `keys` (interning it first), or `keys` itself when it is empty or the interner
    /// is full.
    public func intern(fieldKeys keys: [String]) -> [String] {
        guard !keys.isEmpty else { return keys }
        return state.withLock { s in
            if let interned = s.fieldKeys[keys] { return interned }
            guard s.fieldKeys.count < limit else { return keys }
            let fresh = keys.map { $0 }
            Immortal.make(array: fresh)
            s.fieldKeys[fresh] = fresh
            return fresh
        }
    }

    /// The interned series equal to `series` (interning it first, with its tags), or `series` itself when the
    /// interner already holds `limit` series.
    ///
    /// Every point of an interned series shares it, and so its identity: caches keyed by ``SeriesKey/identity`` find the
    /// series without hashing its name and tags.
    public func intern(_ series: SeriesKey) -> SeriesKey {
        if let interned = state.withLock({ $0.series[series] }) { return interned }
        // Interning the tags takes the lock itself.
        let tags = intern(series.tags)
        return state.withLock { s in
            if let interned = s.series[series] { return interned }
            guard s.series.count < limit else { return series }
            let fresh = SeriesKey(name: series.name, tags: tags, database: series.database,
                               retentionPolicy: series.retentionPolicy)
            Immortal.make(fresh)
            s.series[fresh] = fresh
            return fresh
        }
    }

    /// The interned group equal to `group` (interning it first), or `group` itself when the interner already holds
    /// `limit` groups. The engine's group-key caches intern what they compute: the points of a group then share one
    /// storage, compared by identity and never reference-counted.
    public func intern(_ group: GroupID) -> GroupID {
        if group.key === GroupKey.empty { return group }
        return state.withLock { s in
            if let interned = s.groups[group.rawValue] { return interned }
            guard s.groups.count < limit else { return group }
            let fresh = GroupID(key: GroupKey(group.rawValue))
            Immortal.make(fresh.key)
            s.groups[group.rawValue] = fresh
            return fresh
        }
    }

    /// `dimensions` with its tag names interned as a key list (see ``intern(fieldKeys:)``), so that the points that
    /// carry it count no references to the array.
    public func intern(_ dimensions: Dimensions) -> Dimensions {
        var interned = dimensions
        interned.tagNames = intern(fieldKeys: dimensions.tagNames)
        return interned
    }

    /// How many tag sets and key lists are interned.
    public var counts: (tags: Int, fieldKeys: Int) {
        state.withLock { ($0.tags.count, $0.fieldKeys.count) }
    }

    /// How many series and groups are interned.
    public var seriesAndGroupCounts: (series: Int, groups: Int) {
        state.withLock { ($0.series.count, $0.groups.count) }
    }
}

/// Marks heap objects immortal: the runtime stops counting references to them and never frees them.
enum Immortal {
    static func make(_ object: AnyObject) {
        swiftStdlibImmortalize(Unmanaged.passUnretained(object).toOpaque())
    }

    /// Makes a non-empty array's buffer immortal (an `Array` is one reference to its buffer on this platform).
    static func make<Element>(array: [Element]) {
        precondition(!array.isEmpty && MemoryLayout<[Element]>.size == MemoryLayout<AnyObject>.size)
        make(unsafeBitCast(array, to: AnyObject.self))
    }
}

/// The Swift runtime's own entry point for immortal objects (it sets the reference count's immortal bits).
@_silgen_name("_swift_stdlib_immortalize")
private func swiftStdlibImmortalize(_ object: UnsafeMutableRawPointer)
