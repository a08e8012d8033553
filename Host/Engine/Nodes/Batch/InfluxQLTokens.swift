/// The tokens of an InfluxQL text, enough to find a `SELECT`'s top-level clauses: words, quoted identifiers,
/// strings, regexes, numbers and punctuation, each with its parenthesis depth and its place in the text
/// (unicode-scalar offsets).
struct InfluxQLTokens {
    enum Kind: Equatable {
        case identifier, string, regex, number, punctuation
    }

    struct Token {
        var kind: Kind
        /// The text as written (quotes included).
        var text: String
        var start: Int
        var end: Int
        var depth: Int

        /// The upper-cased text of a bare word, else `nil`: for keywords.
        var word: String? {
            guard kind == .identifier, !text.hasPrefix("\"") else { return nil }
            return text.uppercased()
        }

        /// An identifier's name, quotes and escapes removed.
        var identifier: String {
            guard text.hasPrefix("\""), text.count >= 2 else { return text }
            var out = ""
            var escaped = false
            for c in text.dropFirst().dropLast() {
                if escaped { out.append(c); escaped = false } else if c == "\\" { escaped = true } else { out.append(c) }
            }
            return out
        }
    }

    var tokens: [Token] = []

    init(_ text: String) throws(NodeConfigurationError) {
        let s = Array(text.unicodeScalars)
        var i = 0
        var depth = 0
        func fail(_ message: String) -> NodeConfigurationError {
            NodeConfigurationError("failed to parse InfluxQL query: \(message)")
        }
        func isWordStart(_ c: Unicode.Scalar) -> Bool { c == "_" || c.properties.isAlphabetic }
        func isWord(_ c: Unicode.Scalar) -> Bool { isWordStart(c) || ("0"..."9").contains(c) }
        while i < s.count {
            let c = s[i]
            let start = i
            if c.properties.isWhitespace { i += 1; continue }
            // Comments: `-- …` to the end of the line, `/* … */`.
            if c == "-", i + 1 < s.count, s[i + 1] == "-" {
                while i < s.count && s[i] != "\n" { i += 1 }
                continue
            }
            if c == "/", i + 1 < s.count, s[i + 1] == "*" {
                i += 2
                while i + 1 < s.count && !(s[i] == "*" && s[i + 1] == "/") { i += 1 }
                guard i + 1 < s.count else { throw fail("unterminated comment") }
                i += 2
                continue
            }
            var kind: Kind
            if c == "'" || c == "\"" {
                i += 1
                while i < s.count && s[i] != c {
                    if s[i] == "\\" { i += 1 }
                    i += 1
                }
                guard i < s.count else { throw fail(c == "'" ? "unterminated string at \(start + 1)" : "unterminated quoted identifier at \(start + 1)") }
                i += 1
                kind = c == "'" ? .string : .identifier
            } else if c == "/" && regexMayFollow {
                i += 1
                while i < s.count && s[i] != "/" {
                    if s[i] == "\\" { i += 1 }
                    i += 1
                }
                guard i < s.count else { throw fail("unterminated regex at \(start + 1)") }
                i += 1
                kind = .regex
            } else if isWordStart(c) {
                while i < s.count && isWord(s[i]) { i += 1 }
                kind = .identifier
            } else if ("0"..."9").contains(c) || (c == "." && i + 1 < s.count && ("0"..."9").contains(s[i + 1])) {
                while i < s.count && (isWord(s[i]) || s[i] == ".") { i += 1 }
                kind = .number
            } else {
                i += 1
                // Two-character operators.
                if i < s.count, ["=~", "!~", "!=", "<>", "<=", ">=", "::"].contains(String(c) + String(s[i])) { i += 1 }
                kind = .punctuation
                if c == "(" { depth += 1 }
                if c == ")" {
                    depth -= 1
                    guard depth >= 0 else { throw fail("unexpected ) at \(start + 1)") }
                }
            }
            var t = String.UnicodeScalarView()
            t.append(contentsOf: s[start..<i])
            // A token's depth is the depth it sits in: `(` and `)` count as the outer level.
            tokens.append(Token(kind: kind, text: String(t), start: start, end: i, depth: c == "(" ? depth - 1 : depth))
        }
        guard depth == 0 else { throw fail("missing ) (\(depth) unclosed)") }
    }

    /// Whether a `/` here starts a regex rather than dividing: after `=~`, `!~`, `FROM`, or a `,` of a `FROM` list.
    private var regexMayFollow: Bool {
        guard let last = tokens.last else { return false }
        if last.text == "=~" || last.text == "!~" || last.word == "FROM" { return true }
        if last.text == "," {
            // In a FROM list: the nearest clause keyword at this depth is FROM.
            for t in tokens.reversed() where t.depth == last.depth {
                if let w = t.word, ["SELECT", "FROM", "WHERE", "GROUP", "INTO"].contains(w) { return w == "FROM" }
            }
        }
        return false
    }

    /// InfluxQL's keywords: an identifier spelled like one must be quoted.
    static let keywords: Set<String> = [
        "ALL", "ALTER", "AND", "ANY", "AS", "ASC", "BEGIN", "BY", "CARDINALITY", "CREATE", "CONTINUOUS", "DATABASE",
        "DATABASES", "DEFAULT", "DELETE", "DESC", "DESTINATIONS", "DIAGNOSTICS", "DISTINCT", "DROP", "DURATION", "END",
        "EVERY", "EXACT", "EXPLAIN", "FIELD", "FOR", "FROM", "GRANT", "GRANTS", "GROUP", "GROUPS", "IN", "INF", "INSERT",
        "INTO", "KEY", "KEYS", "KILL", "LIMIT", "MEASUREMENT", "MEASUREMENTS", "NAME", "OFFSET", "ON", "OR", "ORDER",
        "PASSWORD", "POLICY", "POLICIES", "PRIVILEGES", "QUERIES", "QUERY", "READ", "REPLICATION", "RESAMPLE",
        "RETENTION", "REVOKE", "SELECT", "SERIES", "SET", "SHARD", "SHARDS", "SLIMIT", "SOFFSET", "STATS",
        "SUBSCRIPTION", "SUBSCRIPTIONS", "TAG", "TO", "USER", "USERS", "VALUES", "WHERE", "WITH", "WRITE",
        "TRUE", "FALSE",
    ]

    /// An identifier as InfluxQL prints it: bare when it is a plain word and not a keyword, else double-quoted.
    static func quoteIdentifier(_ name: String) -> String {
        let scalars = name.unicodeScalars
        let plain = !name.isEmpty && scalars.allSatisfy { $0 == "_" || $0.properties.isAlphabetic || ("0"..."9").contains($0) }
            && !("0"..."9").contains(scalars.first!) && !keywords.contains(name.uppercased())
        return plain ? name : InfluxQL.quoteIdentifier(name)
    }

    /// A duration as InfluxQL prints it: the largest unit that divides it (`1w`, `2d`, `90m`, `0s`).
    static func formatDuration(_ d: Int64) -> String {
        if d == 0 { return "0s" }
        let units: [(Int64, String)] = [
            (7 * 86_400_000_000_000, "w"), (86_400_000_000_000, "d"), (3_600_000_000_000, "h"), (60_000_000_000, "m"),
            (1_000_000_000, "s"), (1_000_000, "ms"), (1_000, "u"),
        ]
        for (n, unit) in units where d % n == 0 { return "\(d / n)\(unit)" }
        return "\(d)ns"
    }
}
