/// What every point of one series shares: its series key (measurement and tags), database and retention policy.
///
/// A ``Point`` holds its series by reference, so a point is a reference, its fields and time (and its group): the
/// parser hands each point of a series the same interned series (``SeriesInterner/intern(_:)-(SeriesKey)``), which no
/// thread reference-counts, and a cache can recognize a point's series by ``identity`` instead of hashing its name and
/// tags. A series is immutable: a point whose name or tags change gets a series of its own.
public final class SeriesKey: Sendable, Hashable, CustomStringConvertible {
    /// The measurement.
    public let name: String
    public let tags: Tags
    public let database: String
    public let retentionPolicy: String

    public init(name: String, tags: Tags = Tags(), database: String = "", retentionPolicy: String = "") {
        self.name = name
        self.tags = tags
        self.database = database
        self.retentionPolicy = retentionPolicy
    }

    /// The address of this series: the same for every point that shares it, never another live series'. Equal series
    /// made separately (not interned) have different identities.
    @inlinable public var identity: UInt { UInt(bitPattern: ObjectIdentifier(self)) }

    /// A series like this one with `name` changed.
    public func with(name: String) -> SeriesKey {
        SeriesKey(name: name, tags: tags, database: database, retentionPolicy: retentionPolicy)
    }

    /// A series like this one with `tags` changed.
    public func with(tags: Tags) -> SeriesKey {
        SeriesKey(name: name, tags: tags, database: database, retentionPolicy: retentionPolicy)
    }

    /// A series like this one with `database` and `retentionPolicy` changed.
    public func with(database: String, retentionPolicy: String) -> SeriesKey {
        SeriesKey(name: name, tags: tags, database: database, retentionPolicy: retentionPolicy)
    }

    public static func == (a: SeriesKey, b: SeriesKey) -> Bool {
        a === b || (a.name == b.name && a.tags == b.tags && a.database == b.database && a.retentionPolicy == b.retentionPolicy)
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(name)
        hasher.combine(tags)
        hasher.combine(database)
        hasher.combine(retentionPolicy)
    }

    public var description: String {
        var s = name
        for (k, v) in tags { s += ",\(k)=\(v)" }
        if !database.isEmpty || !retentionPolicy.isEmpty { s += " (\(database).\(retentionPolicy))" }
        return s
    }

    /// The series with no name, tags, database or retention policy, shared and never reference-counted.
    public static let empty: SeriesKey = {
        let series = SeriesKey(name: "")
        Immortal.make(series)
        return series
    }()
}
