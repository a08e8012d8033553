/// Nanoseconds since the Unix epoch, the unit of time everywhere in Tock.
public typealias Timestamp = Int64

/// One data point: what a line of line protocol describes, plus where it came from and how it is grouped.
///
/// The measurement, tags, database and retention policy live in the point's ``series``, shared by reference with the
/// other points of the series (interned by the parsers, so that handing a point on counts no references); they read
/// and change as members of the point all the same (a change gives the point a series of its own). Equality and
/// hashing are by value, as if the four were stored in the point.
public struct Point: Sendable, Hashable {
    /// The measurement, tags, database and retention policy, shared with the other points of the series.
    public var series: SeriesKey
    public var fields: Fields
    public var time: Timestamp
    public var group: GroupID
    public var dimensions: Dimensions

    public init(
        name: String, tags: Tags = Tags(), fields: Fields, time: Timestamp,
        database: String = "", retentionPolicy: String = "",
        group: GroupID = .none, dimensions: Dimensions = .none
    ) {
        self.series = SeriesKey(name: name, tags: tags, database: database, retentionPolicy: retentionPolicy)
        self.fields = fields
        self.time = time
        self.group = group
        self.dimensions = dimensions
    }

    /// A point of `series` (typically interned, shared with the other points of the series).
    @inlinable
    public init(series: SeriesKey, fields: Fields, time: Timestamp, group: GroupID = .none, dimensions: Dimensions = .none) {
        self.series = series
        self.fields = fields
        self.time = time
        self.group = group
        self.dimensions = dimensions
    }

    /// The measurement.
    /// Setting the same value again keeps the series (a node that may change a member sets it back unchanged).
    @inlinable
    public var name: String {
        get { series.name }
        set { if newValue != series.name { series = series.with(name: newValue) } }
    }

    /// Setting tags that share the series' tag storage (unchanged) keeps the series.
    @inlinable
    public var tags: Tags {
        get { series.tags }
        set { if newValue.storageIdentity != series.tags.storageIdentity { series = series.with(tags: newValue) } }
    }

    @inlinable
    public var database: String {
        get { series.database }
        set { if newValue != series.database { series = series.with(database: newValue, retentionPolicy: series.retentionPolicy) } }
    }

    @inlinable
    public var retentionPolicy: String {
        get { series.retentionPolicy }
        set { if newValue != series.retentionPolicy { series = series.with(database: series.database, retentionPolicy: newValue) } }
    }

    /// The tags that define the point's group.
    public var groupTags: Tags { tags.filtered(to: dimensions.tagNames) }

    public static func == (a: Point, b: Point) -> Bool {
        a.time == b.time && a.series == b.series && a.fields == b.fields && a.group == b.group
            && a.dimensions == b.dimensions
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(series)
        hasher.combine(fields)
        hasher.combine(time)
        hasher.combine(group)
        hasher.combine(dimensions)
    }
}

/// One point inside a batch: batches carry name and group once, points only time, fields and tags.
public struct BatchPoint: Sendable, Hashable {
    public var time: Timestamp
    public var fields: Fields
    public var tags: Tags

    public init(time: Timestamp, fields: Fields, tags: Tags = Tags()) {
        self.time = time
        self.fields = fields
        self.tags = tags
    }

    public init(_ point: Point) {
        self.init(time: point.time, fields: point.fields, tags: point.tags)
    }
}

/// A finite set of points of one group, such as a window's contents.
public struct Batch: Sendable, Hashable {
    public var name: String
    public var group: GroupID
    /// The group's tags.
    public var tags: Tags
    public var dimensions: Dimensions
    /// The batch's upper time bound (for a window, its end).
    public var tmax: Timestamp
    public var points: [BatchPoint]

    public init(
        name: String, group: GroupID = .none, tags: Tags = Tags(), dimensions: Dimensions = .none,
        tmax: Timestamp, points: [BatchPoint]
    ) {
        self.name = name
        self.group = group
        self.tags = tags
        self.dimensions = dimensions
        self.tmax = tmax
        self.points = points
    }

    public var byName: Bool { dimensions.byName }
}

/// What travels along an edge between two nodes.
public enum Message: Sendable, Hashable {
    case point(Point)
    case batch(Batch)

    public var name: String {
        switch self {
        case .point(let p): return p.name
        case .batch(let b): return b.name
        }
    }

    public var group: GroupID {
        switch self {
        case .point(let p): return p.group
        case .batch(let b): return b.group
        }
    }

    /// The time that drives event-time progress: a point's time, a batch's tmax.
    public var time: Timestamp {
        switch self {
        case .point(let p): return p.time
        case .batch(let b): return b.tmax
        }
    }
}
