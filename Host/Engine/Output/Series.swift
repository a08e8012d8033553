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
        out += "{"
        var needComma = false
        func key(_ k: String) {
            if needComma { out += "," }
            needComma = true
            out += "\"\(k)\":"
        }
        if !name.isEmpty {
            key("name")
            GoJSON.appendString(name, to: &out)
        }
        if !tags.isEmpty {
            key("tags")
            out += "{"
            for (i, (k, v)) in tags.enumerated() {
                if i > 0 { out += "," }
                GoJSON.appendString(k, to: &out)
                out += ":"
                GoJSON.appendString(v, to: &out)
            }
            out += "}"
        }
        if !columns.isEmpty {
            key("columns")
            out += "["
            for (i, c) in columns.enumerated() {
                if i > 0 { out += "," }
                GoJSON.appendString(c, to: &out)
            }
            out += "]"
        }
        if !values.isEmpty {
            key("values")
            out += "["
            for (i, row) in values.enumerated() {
                if i > 0 { out += "," }
                out += "["
                for (j, cell) in row.enumerated() {
                    if j > 0 { out += "," }
                    switch cell {
                    case .time(let t): out += "\""; out += RFC3339Nano.format(t); out += "\""
                    case .value(let v): GoJSON.appendField(v, to: &out)
                    case .tag(let s): GoJSON.appendString(s, to: &out)
                    case .null: out += "null"
                    }
                }
                out += "]"
            }
            out += "]"
        }
        out += "}"
    }

    public var json: String {
        var s = ""
        appendJSON(to: &s)
        return s
    }
}

/// Kapacitor's JSON shapes for data leaving a pipeline.
public enum Series {
    /// One series row object for a point or batch.
    public static func json(_ message: Message) -> String { SeriesRow(message).json }

    /// The rows as a JSON array `[{…},{…}]` (`null` when empty, as Go writes a nil slice).
    public static func array(_ rows: [SeriesRow]) -> String {
        if rows.isEmpty { return "null" }
        var out = "["
        for (i, r) in rows.enumerated() {
            if i > 0 { out += "," }
            r.appendJSON(to: &out)
        }
        out += "]"
        return out
    }

    /// A result document `{"series":[…]}`, as httpOut serves and alerts carry in `data`.
    public static func result(_ rows: [SeriesRow]) -> String {
        "{\"series\":" + array(rows) + "}"
    }

    public static func result(_ messages: [Message]) -> String {
        result(messages.map(SeriesRow.init))
    }
}
