import TockModel

/// The InfluxQL `SELECT` of a `query()` node, split at its top-level clauses, and the text Kapacitor sends for it.
///
/// Kapacitor parses the query with InfluxQL's parser, adds `time >= start AND time < stop` to its condition
/// (`query.go` `NewQuery`), replaces its `GROUP BY` with the node's dimensions (`Dimensions`) and sets `fill` when the
/// node has one; then prints the statement. Tock does the same on the text: what the user wrote is kept as written
/// (InfluxDB parses it again), the added parts are spelled as InfluxQL prints them:
/// `WHERE <condition> AND time >= '2026-01-01T00:00:00Z' AND time < '2026-01-01T00:01:00Z' GROUP BY time(10s, 0s),
/// host fill(none)`. A condition with a top-level `OR` is parenthesized so the time bounds apply to all of it
/// (InfluxQL's printer leaves the parentheses out, which would change what Kapacitor's query means).
struct QueryStatement: Sendable, Hashable {
    /// `SELECT … FROM …` (and `INTO`), as written.
    var head: String
    /// The `WHERE` condition, as written; `nil` when there is none.
    var condition: String?
    /// The `fill(…)` argument as written; `nil` when there is none.
    var fill: String?
    /// `ORDER BY`, `LIMIT`, `OFFSET`, `SLIMIT`, `SOFFSET` and `tz()`, as written.
    var tail: String
    /// The databases and retention policies of the `FROM` measurements (empty strings when not named).
    var sources: [(database: String, retentionPolicy: String)]

    static func == (a: QueryStatement, b: QueryStatement) -> Bool {
        a.head == b.head && a.condition == b.condition && a.fill == b.fill && a.tail == b.tail
    }
    func hash(into h: inout Hasher) { h.combine(head); h.combine(condition); h.combine(fill); h.combine(tail) }

    /// Splits `text`; refuses what Kapacitor refuses with its messages (several statements, not a `SELECT`) and
    /// text that does not tokenize (an unterminated string, unbalanced parentheses).
    init(_ text: String) throws(NodeConfigurationError) {
        let tokens = try InfluxQLTokens(text)
        // Statements: split at top-level `;`, empty ones ignored.
        var statements: [[InfluxQLTokens.Token]] = [[]]
        for t in tokens.tokens {
            if t.depth == 0 && t.text == ";" { statements.append([]) } else { statements[statements.count - 1].append(t) }
        }
        statements.removeAll { $0.isEmpty }
        guard statements.count == 1 else {
            throw NodeConfigurationError("query must be a single select statement, got \(statements.count) statements")
        }
        let stmt = statements[0]
        let chars = Array(text.unicodeScalars)
        func slice(_ a: Int, _ b: Int) -> String {
            var s = String.UnicodeScalarView()
            s.append(contentsOf: chars[a..<b])
            return String(s).trimmingSpaces
        }
        let whole = slice(stmt.first!.start, stmt.last!.end)
        guard stmt[0].word == "SELECT" else {
            throw NodeConfigurationError("query is not a select statement \"\(whole)\"")
        }
        // Top-level clause starts.
        var whereAt: Int?, groupAt: Int?, fillAt: Int?, tailAt: Int?
        var fromAt: Int?
        for (i, t) in stmt.enumerated() where t.depth == 0 {
            let next = i + 1 < stmt.count ? stmt[i + 1] : nil
            switch t.word {
            case "FROM" where fromAt == nil: fromAt = i
            case "WHERE" where whereAt == nil && groupAt == nil && fillAt == nil && tailAt == nil: whereAt = i
            case "GROUP" where next?.word == "BY" && groupAt == nil && tailAt == nil: groupAt = i
            case "FILL" where next?.text == "(" && fillAt == nil && tailAt == nil: fillAt = i
            case "ORDER" where next?.word == "BY" && tailAt == nil: tailAt = i
            case let w? where ["LIMIT", "OFFSET", "SLIMIT", "SOFFSET"].contains(w) && tailAt == nil: tailAt = i
            case "TZ" where next?.text == "(" && tailAt == nil: tailAt = i
            default: break
            }
        }
        guard fromAt != nil else {
            throw NodeConfigurationError("failed to parse InfluxQL query: found EOF, expected FROM in \"\(whole)\"")
        }
        let ends = [whereAt, groupAt, fillAt, tailAt].compactMap { $0 }
        func clauseEnd(after i: Int) -> Int {
            let next = ends.filter { $0 > i }.min()
            return next.map { stmt[$0].start } ?? stmt.last!.end
        }
        let headEnd = ends.min().map { stmt[$0].start } ?? stmt.last!.end
        head = slice(stmt[0].start, headEnd)
        if let w = whereAt {
            guard w + 1 < stmt.count, ends.filter({ $0 > w }).min() != w + 1 else {
                throw NodeConfigurationError("failed to parse InfluxQL query: WHERE without a condition in \"\(whole)\"")
            }
            let cond = slice(stmt[w + 1].start, clauseEnd(after: w))
            let hasOr = stmt.indices.contains { i in
                i > w && stmt[i].start < clauseEnd(after: w) && stmt[i].depth == 0 && stmt[i].word == "OR"
            }
            condition = hasOr ? "(\(cond))" : cond
        } else {
            condition = nil
        }
        if let f = fillAt {
            // fill ( … ): the argument up to the matching parenthesis.
            let open = f + 1
            var close = open + 1
            while close < stmt.count && !(stmt[close].text == ")" && stmt[close].depth == 0) { close += 1 }
            guard close < stmt.count else { throw NodeConfigurationError("failed to parse InfluxQL query: unclosed fill( in \"\(whole)\"") }
            fill = slice(stmt[open].end, stmt[close].start)
        } else {
            fill = nil
        }
        tail = tailAt.map { slice(stmt[$0].start, stmt.last!.end) } ?? ""
        sources = Self.sources(stmt, from: fromAt!, until: ends.min() ?? stmt.count)
    }

    /// The `db.rp.measurement` sources after `FROM`, top level only (subqueries have their own).
    private static func sources(_ stmt: [InfluxQLTokens.Token], from: Int, until: Int) -> [(String, String)] {
        var result: [(String, String)] = []
        var segments: [String] = []
        var i = from + 1
        func flush() {
            if !segments.isEmpty {
                switch segments.count {
                case 3: result.append((segments[0], segments[1]))
                case 2: result.append(("", segments[0]))
                default: result.append(("", ""))
                }
            }
            segments = []
        }
        var expectSegment = true
        while i < min(until, stmt.count) {
            let t = stmt[i]
            defer { i += 1 }
            guard t.depth == 0 else { continue }
            if t.text == "," { flush(); expectSegment = true; continue }
            if t.text == "." {
                if expectSegment { segments.append("") }
                expectSegment = true
                continue
            }
            if expectSegment, t.kind == .identifier {
                segments.append(t.identifier)
                expectSegment = false
            }
        }
        flush()
        return result
    }

    /// The query over `[start, stop)` grouped by `dimensions` and filled with `fill` (or the statement's own fill).
    func text(start: Timestamp, stop: Timestamp, dimensions: [QueryDimension], fill: QueryFill?) -> String {
        var s = head + " WHERE "
        if let condition { s += condition + " AND " }
        s += "time >= '\(RFC3339Nano.format(start))' AND time < '\(RFC3339Nano.format(stop))'"
        if !dimensions.isEmpty {
            s += " GROUP BY " + dimensions.map { $0.text(start: start) }.joined(separator: ", ")
        }
        if let fill {
            if let f = fill.text { s += " fill(\(f))" }
        } else if let own = self.fill {
            s += " fill(\(own))"
        }
        if !tail.isEmpty { s += " " + tail }
        return s
    }
}

/// One `GROUP BY` dimension of a `query()` node.
enum QueryDimension: Sendable, Hashable {
    case tag(String)
    case star
    /// `time(length, offset)`; with `alignGroup` the offset is the query start modulo the length.
    case time(length: Int64, offset: Int64, alignGroup: Bool)

    func text(start: Timestamp) -> String {
        switch self {
        case .tag(let name): return InfluxQLTokens.quoteIdentifier(name)
        case .star: return "*"
        case .time(let length, let offset, let alignGroup):
            let o = alignGroup ? start % length : offset
            return "time(\(InfluxQLTokens.formatDuration(length)), \(InfluxQLTokens.formatDuration(o)))"
        }
    }
}

/// A `query().fill(…)` option.
enum QueryFill: Sendable, Hashable {
    case null, none, previous, linear
    case int(Int64)
    case float(Double)

    /// What goes inside `fill(…)`; `nil` for `null`, which InfluxQL prints as no fill clause (its default).
    var text: String? {
        switch self {
        case .null: nil
        case .none: "none"
        case .previous: "previous"
        case .linear: "linear"
        case .int(let i): String(i)
        case .float(let f): GoJSON.float(f)
        }
    }
}
