/// Nanoseconds since the Unix epoch, the unit of time everywhere in Tock.
public typealias Timestamp = Int64

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
public struct GroupID: Sendable, Hashable, CustomStringConvertible {
    public var rawValue: String
    public init(_ rawValue: String) { self.rawValue = rawValue }
    public static let none = GroupID("")

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
        rawValue = s
    }

    public var description: String { rawValue }
}

/// One data point: what a line of line protocol describes, plus where it came from and how it is grouped.
public struct Point: Sendable, Hashable {
    /// The measurement.
    public var name: String
    public var tags: Tags
    public var fields: Fields
    public var time: Timestamp
    public var database: String
    public var retentionPolicy: String
    public var group: GroupID
    public var dimensions: Dimensions

    public init(
        name: String, tags: Tags = Tags(), fields: Fields, time: Timestamp,
        database: String = "", retentionPolicy: String = "",
        group: GroupID = .none, dimensions: Dimensions = .none
    ) {
        self.name = name
        self.tags = tags
        self.fields = fields
        self.time = time
        self.database = database
        self.retentionPolicy = retentionPolicy
        self.group = group
        self.dimensions = dimensions
    }

    /// The tags that define the point's group.
    public var groupTags: Tags { tags.filtered(to: dimensions.tagNames) }
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
