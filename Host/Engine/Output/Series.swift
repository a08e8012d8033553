import TockModel

/// One cell of a series row.
public enum SeriesCell: Sendable, Hashable {
    case time(Timestamp)
    case value(FieldValue)
    case tag(String)
    /// A column the point does not have (batch rows take their columns from the first point).
    case null
}

/// A point or batch as InfluxDB/Kapacitor's series row `{"name","tags","columns","values"}`.
///
/// A stream point: `tags` = all the point's tags, columns `time` + its sorted field names, one row.
/// A batch: `tags` = the group's tags, columns `time` + sorted(fields ∪ non-group tags of the first point),
/// one row per point (cells a point lacks are `null`). Times are RFC 3339 strings with nanoseconds.
public struct SeriesRow: Sendable, Hashable {
    public var name: String
    public var tags: Tags
    public var columns: [String]
    public var values: [[SeriesCell]]

    public init(name: String, tags: Tags, columns: [String], values: [[SeriesCell]]) {
        self.name = name
        self.tags = tags
        self.columns = columns
        self.values = values
    }

    public init(_ message: Message) {
        switch message {
        case .point(let p):
            name = p.name
            tags = p.tags
            columns = ["time"] + p.fields.sortedKeys
            var row: [SeriesCell] = [.time(p.time)]
            row.reserveCapacity(p.fields.count + 1)
            for (_, v) in p.fields { row.append(.value(v)) }
            values = [row]
        case .batch(let b):
            name = b.name
            tags = b.tags
            guard let first = b.points.first else {
                columns = []
                values = []
                return
            }
            var names = first.fields.sortedKeys
            var tagColumns: Set<String> = []
            for (k, _) in first.tags where b.tags[k] == nil && first.fields[k] == nil {
                names.append(k)
                tagColumns.insert(k)
            }
            names.sort()
            columns = ["time"] + names
            values = b.points.map { p in
                var row: [SeriesCell] = [.time(p.time)]
                row.reserveCapacity(names.count + 1)
                for c in names {
                    if let v = p.fields[c] {
                        row.append(.value(v))
                    } else if let t = p.tags[c] {
                        row.append(.tag(t))
                    } else {
                        row.append(.null)
                    }
                }
                return row
            }
        }
    }

    /// The row as Go's `encoding/json` writes `models.Row` (empty name, tags, columns, values omitted).
    public func appendJSON(to out: inout String) {
        out += json
    }

    /// The row as Go's `encoding/json` writes `models.Row`, appended as UTF-8.
    public func appendJSON(to out: inout [UInt8]) {
        var wrote = Series.appendRowStart(name: name, tags: tags, to: &out)
        if !columns.isEmpty {
            Series.appendMember("\"columns\":[", after: &wrote, to: &out)
            for (i, c) in columns.enumerated() {
                if i > 0 { out.append(UInt8(ascii: ",")) }
                GoJSON.appendString(c, to: &out)
            }
            out.append(UInt8(ascii: "]"))
        }
        if !values.isEmpty {
            Series.appendMember("\"values\":[", after: &wrote, to: &out)
            for (i, row) in values.enumerated() {
                if i > 0 { out.append(UInt8(ascii: ",")) }
                out.append(UInt8(ascii: "["))
                for (j, cell) in row.enumerated() {
                    if j > 0 { out.append(UInt8(ascii: ",")) }
                    switch cell {
                    case .time(let t): GoJSON.appendTime(t, to: &out)
                    case .value(let v): GoJSON.appendField(v, to: &out)
                    case .tag(let s): GoJSON.appendString(s, to: &out)
                    case .null: GoJSON.appendLiteral("null", to: &out)
                    }
                }
                out.append(UInt8(ascii: "]"))
            }
            out.append(UInt8(ascii: "]"))
        }
        out.append(UInt8(ascii: "}"))
    }

    public var json: String {
        var bytes: [UInt8] = []
        appendJSON(to: &bytes)
        return String(decoding: bytes, as: UTF8.self)
    }
}

/// Kapacitor's JSON shapes for data leaving a pipeline.
public enum Series {
    /// One series row object for a point or batch.
    public static func json(_ message: Message) -> String {
        var bytes: [UInt8] = []
        appendJSON(message, to: &bytes)
        return String(decoding: bytes, as: UTF8.self)
    }

    /// The rows as a JSON array `[{…},{…}]` (`null` when empty, as Go writes a nil slice).
    public static func array(_ rows: [SeriesRow]) -> String {
        var bytes: [UInt8] = []
        appendArray(rows, to: &bytes)
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Appends ``array(_:)``'s text as UTF-8.
    public static func appendArray(_ rows: [SeriesRow], to out: inout [UInt8]) {
        if rows.isEmpty {
            GoJSON.appendLiteral("null", to: &out)
            return
        }
        out.append(UInt8(ascii: "["))
        for (i, r) in rows.enumerated() {
            if i > 0 { out.append(UInt8(ascii: ",")) }
            r.appendJSON(to: &out)
        }
        out.append(UInt8(ascii: "]"))
    }

    /// A result document `{"series":[…]}`, as httpOut serves and alerts carry in `data`.
    public static func result(_ rows: [SeriesRow]) -> String {
        var bytes: [UInt8] = []
        appendResult(rows, to: &bytes)
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Appends ``result(_:)-([SeriesRow])``'s text as UTF-8.
    public static func appendResult(_ rows: [SeriesRow], to out: inout [UInt8]) {
        GoJSON.appendLiteral("{\"series\":", to: &out)
        appendArray(rows, to: &out)
        out.append(UInt8(ascii: "}"))
    }

    public static func result(_ messages: [Message]) -> String {
        var bytes: [UInt8] = []
        appendResult(messages, to: &bytes)
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Appends ``result(_:)-([Message])``'s text as UTF-8, encoding each message directly.
    public static func appendResult(_ messages: [Message], to out: inout [UInt8]) {
        GoJSON.appendLiteral("{\"series\":", to: &out)
        if messages.isEmpty {
            GoJSON.appendLiteral("null", to: &out)
        } else {
            out.append(UInt8(ascii: "["))
            for (i, m) in messages.enumerated() {
                if i > 0 { out.append(UInt8(ascii: ",")) }
                appendJSON(m, to: &out)
            }
            out.append(UInt8(ascii: "]"))
        }
        out.append(UInt8(ascii: "}"))
    }

    /// Appends the series row of a point or batch (``SeriesRow/init(_:)``'s row, as ``SeriesRow/json`` writes it)
    /// as UTF-8, without building the row: no arrays of columns or cells.
    public static func appendJSON(_ message: Message, to out: inout [UInt8]) {
        switch message {
        case .point(let p):
            var wrote = appendRowStart(name: p.name, tags: p.tags, to: &out)
            // Columns `time` and the sorted field names (never empty), one row of the time and the values.
            appendMember("\"columns\":[\"time\"", after: &wrote, to: &out)
            for (k, _) in p.fields {
                out.append(UInt8(ascii: ","))
                GoJSON.appendString(k, to: &out)
            }
            GoJSON.appendLiteral("],\"values\":[[", to: &out)
            GoJSON.appendTime(p.time, to: &out)
            for (_, v) in p.fields {
                out.append(UInt8(ascii: ","))
                GoJSON.appendField(v, to: &out)
            }
            GoJSON.appendLiteral("]]}", to: &out)
        case .batch(let b):
            guard let first = b.points.first else {
                appendRowStart(name: b.name, tags: b.tags, to: &out)
                out.append(UInt8(ascii: "}"))
                return
            }
            let fieldNames = first.fields.sortedKeys
            var names = fieldNames
            for (k, _) in first.tags where b.tags[k] == nil && first.fields[k] == nil { names.append(k) }
            let fieldsOnly = names.count == fieldNames.count
            if !fieldsOnly { names.sort() }
            var wrote = appendRowStart(name: b.name, tags: b.tags, to: &out)
            appendMember("\"columns\":[\"time\"", after: &wrote, to: &out)
            for c in names {
                out.append(UInt8(ascii: ","))
                GoJSON.appendString(c, to: &out)
            }
            GoJSON.appendLiteral("],\"values\":[", to: &out)
            for (i, p) in b.points.enumerated() {
                if i > 0 { out.append(UInt8(ascii: ",")) }
                out.append(UInt8(ascii: "["))
                GoJSON.appendTime(p.time, to: &out)
                if fieldsOnly && p.fields.sortedKeys == names {
                    // The common case: every point has the first point's fields; their values in order.
                    for (_, v) in p.fields {
                        out.append(UInt8(ascii: ","))
                        GoJSON.appendField(v, to: &out)
                    }
                } else {
                    for c in names {
                        out.append(UInt8(ascii: ","))
                        if let v = p.fields[c] {
                            GoJSON.appendField(v, to: &out)
                        } else if let t = p.tags[c] {
                            GoJSON.appendString(t, to: &out)
                        } else {
                            GoJSON.appendLiteral("null", to: &out)
                        }
                    }
                }
                out.append(UInt8(ascii: "]"))
            }
            GoJSON.appendLiteral("]}", to: &out)
        }
    }

    /// `{` and the name and tags members of a row (each omitted when empty); answers whether it wrote a member, so
    /// that the caller knows whether the next member needs a comma before it.
    @discardableResult
    static func appendRowStart(name: String, tags: Tags, to out: inout [UInt8]) -> Bool {
        out.append(UInt8(ascii: "{"))
        var wrote = false
        if !name.isEmpty {
            GoJSON.appendLiteral("\"name\":", to: &out)
            GoJSON.appendString(name, to: &out)
            wrote = true
        }
        if !tags.isEmpty {
            if wrote { out.append(UInt8(ascii: ",")) }
            GoJSON.appendLiteral("\"tags\":{", to: &out)
            for (i, (k, v)) in tags.enumerated() {
                if i > 0 { out.append(UInt8(ascii: ",")) }
                GoJSON.appendString(k, to: &out)
                out.append(UInt8(ascii: ":"))
                GoJSON.appendString(v, to: &out)
            }
            out.append(UInt8(ascii: "}"))
            wrote = true
        }
        return wrote
    }

    /// `"key":` of a row's member after ``appendRowStart(name:tags:to:)``, with a comma when a member came before.
    static func appendMember(_ key: StaticString, after wrote: inout Bool, to out: inout [UInt8]) {
        if wrote { out.append(UInt8(ascii: ",")) }
        wrote = true
        GoJSON.appendLiteral(key, to: &out)
    }
}
