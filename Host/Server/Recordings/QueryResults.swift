import Engine
import Foundation
import TockModel

/// InfluxDB query results turned into what recordings hold, as Kapacitor turns them
/// (`edge.ResultToBufferedBatches` and `runQueryStream` in services/replay/service.go).
enum QueryResults {
    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    /// One batch per series: its name and tags, one point per row (`time` column in ns; `null` values left out,
    /// rows without any field skipped), `tmax` the last point's time.
    static func batches(_ series: [QuerySeries], groupByName: Bool = false) throws(Failure) -> [Batch] {
        var out: [Batch] = []
        for s in series {
            guard let timeIndex = s.columns.firstIndex(of: "time") else {
                throw Failure(description: "the result of series \(s.name) has no time column")
            }
            let tags = Tags(s.tags)
            let dimensions = Dimensions(byName: groupByName, tagNames: tags.sortedKeys)
            var points: [BatchPoint] = []
            points.reserveCapacity(s.values.count)
            for (r, row) in s.values.enumerated() {
                let time: Timestamp
                switch timeIndex < row.count ? row[timeIndex] : nil {
                case .int(let t)?: time = t
                case .double(let d)?: time = Timestamp(d)
                case .string(let text)?:
                    guard let t = RFC3339Nano.parse(text) else {
                        throw Failure(description: "row \(r + 1) of series \(s.name): time \"\(text)\" is not a time")
                    }
                    time = t
                default:
                    throw Failure(description: "row \(r + 1) of series \(s.name) has no time")
                }
                var fields: [(String, FieldValue)] = []
                for (c, column) in s.columns.enumerated() where c != timeIndex && c < row.count {
                    if let value = row[c] { fields.append((column, value)) }
                }
                if fields.isEmpty { continue }
                points.append(BatchPoint(time: time, fields: Fields(fields), tags: tags))
            }
            guard let last = points.last?.time else { continue }
            out.append(Batch(name: s.name, group: GroupID(name: s.name, tags: tags, dimensions: dimensions), tags: tags,
                             dimensions: dimensions, tmax: points.map(\.time).max() ?? last, points: points))
        }
        return out
    }

    /// The points of the batches in time order across series (ties in series order), in `database`.`retentionPolicy`.
    static func points(_ batches: [Batch], database: String, retentionPolicy: String) -> [Point] {
        var all: [(Point, Int, Int)] = []
        for (b, batch) in batches.enumerated() {
            for (i, p) in batch.points.enumerated() {
                all.append((Point(name: batch.name, tags: p.tags, fields: p.fields, time: p.time, database: database,
                                  retentionPolicy: retentionPolicy), b, i))
            }
        }
        all.sort { ($0.0.time, $0.1, $0.2) < ($1.0.time, $1.1, $1.2) }
        return all.map(\.0)
    }

    /// The database and retention policy of a query's single `FROM "db"."rp"."measurement"` source; Kapacitor's
    /// error when the query does not name both.
    static func dbrp(of query: String) throws(Failure) -> DBRP {
        let unqualified = Failure(description: "could not determine database and retention policy. Is the query fully qualified?")
        let scalars = Array(query.unicodeScalars)
        var i = 0
        var inString = false
        var fromAt: Int?
        while i < scalars.count {
            let c = scalars[i]
            if c == "'" { inString.toggle() }
            if !inString, c == "\"" {
                i += 1
                while i < scalars.count && scalars[i] != "\"" { if scalars[i] == "\\" { i += 1 }; i += 1 }
            } else if !inString, i + 4 <= scalars.count,
                      String(String.UnicodeScalarView(scalars[i..<(i + 4)])).uppercased() == "FROM",
                      i == 0 || !isIdentifier(scalars[i - 1]), i + 4 == scalars.count || !isIdentifier(scalars[i + 4]) {
                fromAt = i + 4
                break
            }
            i += 1
        }
        guard var p = fromAt else { throw unqualified }
        while p < scalars.count && scalars[p].properties.isWhitespace { p += 1 }
        var parts: [String] = []
        while p < scalars.count {
            var part = ""
            if scalars[p] == "\"" {
                p += 1
                while p < scalars.count && scalars[p] != "\"" {
                    if scalars[p] == "\\" && p + 1 < scalars.count { p += 1 }
                    part.unicodeScalars.append(scalars[p])
                    p += 1
                }
                p += 1
            } else {
                while p < scalars.count && isIdentifier(scalars[p]) { part.unicodeScalars.append(scalars[p]); p += 1 }
            }
            parts.append(part)
            guard p < scalars.count, scalars[p] == "." else { break }
            p += 1
        }
        guard parts.count == 3, !parts[0].isEmpty, !parts[1].isEmpty else { throw unqualified }
        return DBRP(parts[0], parts[1])
    }

    private static func isIdentifier(_ c: Unicode.Scalar) -> Bool {
        c == "_" || c.properties.isAlphabetic || ("0"..."9").contains(c)
    }
}
