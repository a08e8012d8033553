/// One lexical token of a TICKscript.
struct Token: Sendable {
    enum Kind: Sendable, Hashable {
        case identifier, reference, string, tripleString, int, float, duration, regex
        case keywordVar, lambda, keywordTrue, keywordFalse
        case assign, dot, pipe, at, leftParen, rightParen, leftBracket, rightBracket, comma, star, not
        /// A binary operator; `-` is also unary negation and `*` multiplication (a lone `*` is `.star`).
        case op(BinaryOperator)
        case end
    }

    var kind: Kind
    /// The token as written.
    var text: String
    /// Decoded content: a string's or reference's text without quotes and escapes, a regex's pattern.
    var value: String
    var intValue: Int64 = 0
    var floatValue: Double = 0
    var octal = false
    var position: SourcePosition
    /// UTF-8 offset just past the token.
    var endOffset: Int
    /// `//` comments between the previous token and this one.
    var leadingComments: [Comment] = []

    /// How the token reads in an error message: `"."`, `identifier "data"`, `end of script`.
    var described: String {
        switch kind {
        case .identifier: return "identifier \"\(text)\""
        case .reference: return "field reference \(text)"
        case .string, .tripleString: return "string \(text.count > 40 ? String(text.prefix(37)) + "..." : text)"
        case .int, .float: return "number \(text)"
        case .duration: return "duration \(text)"
        case .regex: return "regex \(text)"
        case .keywordVar: return "\"var\""
        case .lambda: return "\"lambda:\""
        case .keywordTrue: return "TRUE"
        case .keywordFalse: return "FALSE"
        case .end: return "end of script"
        default: return "\"\(text)\""
        }
    }
}

/// Splits a script into tokens, the way Kapacitor's `tick/ast/lex.go` does: `*` is multiplication and `/`
/// division after a value (identifier, literal, reference, `)`), and a star or the start of a regex elsewhere.
struct Lexer {
    private let scalars: [Unicode.Scalar]
    private var index = 0
    private var line = 1
    private var column = 1
    private var offset = 0
    private var afterValue = false

    init(_ source: String) {
        scalars = Array(source.unicodeScalars)
    }

    /// All tokens, ending with `.end`; comments ride on the token that follows them.
    static func tokenize(_ source: String) throws(ScriptError) -> [Token] {
        var lexer = Lexer(source)
        var tokens: [Token] = []
        var comments: [Comment] = []
        while true {
            if let comment = try lexer.skipSpaceAndReadComment() {
                comments.append(comment)
                continue
            }
            var token = try lexer.next()
            token.leadingComments = comments
            comments = []
            tokens.append(token)
            if token.kind == .end { return tokens }
        }
    }

    // MARK: Cursor

    private var position: SourcePosition { SourcePosition(line: line, column: column, offset: offset) }

    private func peek(_ ahead: Int = 0) -> Unicode.Scalar? {
        index + ahead < scalars.count ? scalars[index + ahead] : nil
    }

    private mutating func advance() {
        let scalar = scalars[index]
        index += 1
        offset += UTF8.width(scalar)
        if scalar == "\n" {
            line += 1
            column = 1
        } else {
            column += 1
        }
    }

    private func text(from start: Int) -> String {
        var result = String.UnicodeScalarView()
        result.append(contentsOf: scalars[start..<index])
        return String(result)
    }

    private static func isLetter(_ s: Unicode.Scalar) -> Bool { s.properties.isAlphabetic }
    private static func isDigit(_ s: Unicode.Scalar) -> Bool { ("0"..."9").contains(s) }
    private static func isIdentifierPart(_ s: Unicode.Scalar) -> Bool { isLetter(s) || isDigit(s) || s == "_" }

    // MARK: Scanning

    /// Skips white space; reads one `//` comment if one follows.
    private mutating func skipSpaceAndReadComment() throws(ScriptError) -> Comment? {
        while let s = peek(), s.properties.isWhitespace { advance() }
        guard peek() == "/", peek(1) == "/" else { return nil }
        let start = position
        let startIndex = index
        while let s = peek(), s != "\n" { advance() }
        var body = Substring(text(from: startIndex)).dropFirst(2)
        while let last = body.last, last.isWhitespace { body.removeLast() }
        if body.first == " " { body.removeFirst() }
        return Comment(text: String(body), position: start)
    }

    private mutating func next() throws(ScriptError) -> Token {
        let start = position
        let startIndex = index
        func make(_ kind: Token.Kind, value: String? = nil, _ lexer: Lexer) -> Token {
            let raw = lexer.text(from: startIndex)
            return Token(kind: kind, text: raw, value: value ?? raw, position: start, endOffset: lexer.offset)
        }
        guard let s = peek() else {
            return Token(kind: .end, text: "", value: "", position: start, endOffset: offset)
        }
        let wasAfterValue = afterValue
        afterValue = false

        if Self.isLetter(s) {
            while let c = peek(), Self.isIdentifierPart(c) { advance() }
            let word = text(from: startIndex)
            switch word {
            case "var": return make(.keywordVar, self)
            case "TRUE": afterValue = true; return make(.keywordTrue, self)
            case "FALSE": afterValue = true; return make(.keywordFalse, self)
            case "AND": return make(.op(.and), self)
            case "OR": return make(.op(.or), self)
            case "lambda" where peek() == ":":
                advance()
                return make(.lambda, self)
            default:
                afterValue = true
                return make(.identifier, self)
            }
        }
        if Self.isDigit(s) || (s == "." && peek(1).map(Self.isDigit) == true) {
            afterValue = true
            return try number(start: start, startIndex: startIndex)
        }
        switch s {
        case "\"":
            afterValue = true
            return try quoted(start: start, startIndex: startIndex)
        case "'":
            afterValue = true
            return try singleQuoted(start: start, startIndex: startIndex)
        case "/":
            if wasAfterValue {
                advance()
                return make(.op(.divide), self)
            }
            // A regex counts as a value (Kapacitor's lexer does not say): "/a/ / 2" is then a (meaningless)
            // division rather than an unterminated second regex, so the formatter may drop parentheses.
            afterValue = true
            return try regex(start: start, startIndex: startIndex)
        default:
            break
        }
        advance()
        switch s {
        case "(": return make(.leftParen, self)
        case ")": afterValue = true; return make(.rightParen, self)
        case "[": return make(.leftBracket, self)
        case "]": return make(.rightBracket, self)
        case ",": return make(.comma, self)
        case "|": return make(.pipe, self)
        case "@": return make(.at, self)
        case ".": return make(.dot, self)
        case "*": return make(wasAfterValue ? .op(.multiply) : .star, self)
        case "+": return make(.op(.add), self)
        case "-": return make(.op(.subtract), self)
        case "%": return make(.op(.modulo), self)
        case "!":
            if peek() == "=" { advance(); return make(.op(.notEqual), self) }
            if peek() == "~" { advance(); return make(.op(.regexNotMatch), self) }
            return make(.not, self)
        case "=":
            if peek() == "=" { advance(); return make(.op(.equal), self) }
            if peek() == "~" { advance(); return make(.op(.regexMatch), self) }
            return make(.assign, self)
        case "<":
            if peek() == "=" { advance(); return make(.op(.lessOrEqual), self) }
            return make(.op(.less), self)
        case ">":
            if peek() == "=" { advance(); return make(.op(.greaterOrEqual), self) }
            return make(.op(.greater), self)
        default:
            let shown = s.properties.isWhitespace || s.value < 0x20 ? "U+\(String(s.value, radix: 16, uppercase: true))" : String(s)
            throw ScriptError("unexpected character \"\(shown)\"; it is not part of TICKscript", at: start)
        }
    }

    private static let durationUnits: [String: Int64] = [
        "u": 1_000, "µ": 1_000, "ms": 1_000_000, "s": 1_000_000_000, "m": 60_000_000_000,
        "h": 3_600_000_000_000, "d": 86_400_000_000_000, "w": 604_800_000_000_000,
    ]

    private mutating func number(start: SourcePosition, startIndex: Int) throws(ScriptError) -> Token {
        var sawPoint = false
        while let c = peek() {
            if Self.isDigit(c) {
                advance()
            } else if c == "." {
                if sawPoint {
                    throw ScriptError("malformed number \"\(text(from: startIndex)).\": more than one decimal point", at: start)
                }
                sawPoint = true
                advance()
            } else {
                break
            }
        }
        let digits = text(from: startIndex)
        let unitStart = index
        if let c = peek(), Self.isIdentifierPart(c) {
            while let c = peek(), Self.isIdentifierPart(c) { advance() }
            let unit = text(from: unitStart)
            let raw = text(from: startIndex)
            if sawPoint {
                if Self.durationUnits[unit] != nil {
                    throw ScriptError("invalid duration \"\(raw)\": durations must be whole numbers (write it in a smaller unit)", at: start)
                }
                throw ScriptError("malformed number \"\(raw)\"", at: start)
            }
            guard let unitNanos = Self.durationUnits[unit] else {
                throw ScriptError("invalid duration unit \"\(unit)\" in \"\(raw)\"; valid units are u, µ, ms, s, m, h, d, w", at: start)
            }
            let (magnitude, overflow) = Int64(digits).map { $0.multipliedReportingOverflow(by: unitNanos) } ?? (0, true)
            if overflow {
                throw ScriptError("duration \(raw) is too long: it overflows 64-bit nanoseconds (about 292 years)", at: start)
            }
            var token = Token(kind: .duration, text: raw, value: raw, position: start, endOffset: offset)
            token.intValue = magnitude
            return token
        }
        var token = Token(kind: sawPoint ? .float : .int, text: digits, value: digits, position: start, endOffset: offset)
        if sawPoint {
            guard let value = Double(digits.hasPrefix(".") ? "0" + digits : digits) else {
                throw ScriptError("malformed number \"\(digits)\"", at: start)
            }
            guard value.isFinite else {
                let shown = digits.count > 24 ? "\(digits.prefix(12))…\(digits.suffix(8)) (\(digits.count) characters)" : digits
                throw ScriptError(
                    "float \(shown) overflows a 64-bit float (max about 1.8e308)", at: start)
            }
            token.floatValue = value
        } else if digits.count > 1, digits.hasPrefix("0") {
            guard let value = Int64(digits.dropFirst(), radix: 8) else {
                if digits.contains(where: { $0 == "8" || $0 == "9" }) {
                    throw ScriptError("invalid octal integer \"\(digits)\": a leading 0 makes an integer octal, whose digits are 0-7", at: start)
                }
                throw ScriptError("integer \(digits) overflows a 64-bit signed integer", at: start)
            }
            token.intValue = value
            token.octal = true
        } else {
            guard let value = Int64(digits) else {
                throw ScriptError("integer \(digits) overflows a 64-bit signed integer (max \(Int64.max))", at: start)
            }
            token.intValue = value
        }
        return token
    }

    /// A `"double-quoted"` field or tag reference; `\"` escapes a quote.
    private mutating func quoted(start: SourcePosition, startIndex: Int) throws(ScriptError) -> Token {
        advance()
        var value = String.UnicodeScalarView()
        while true {
            guard let c = peek(), c != "\n" else {
                throw ScriptError("unterminated field reference: no closing '\"' on the line of the reference starting here", at: start)
            }
            advance()
            if c == "\\", peek() == "\"" {
                advance()
                value.append("\"")
            } else if c == "\"" {
                return Token(kind: .reference, text: text(from: startIndex), value: String(value), position: start, endOffset: offset)
            } else {
                value.append(c)
            }
        }
    }

    /// `'single'` (where `\'` escapes a quote) or `'''triple'''` (no escapes, may span lines).
    private mutating func singleQuoted(start: SourcePosition, startIndex: Int) throws(ScriptError) -> Token {
        if peek(1) == "'", peek(2) == "'" {
            advance(); advance(); advance()
            let contentStart = index
            while index < scalars.count {
                if peek() == "'", peek(1) == "'", peek(2) == "'" {
                    let content = text(from: contentStart)
                    advance(); advance(); advance()
                    return Token(kind: .tripleString, text: text(from: startIndex), value: content, position: start, endOffset: offset)
                }
                advance()
            }
            throw ScriptError("unterminated triple-quoted string: no closing ''' after the string starting here", at: start)
        }
        advance()
        var value = String.UnicodeScalarView()
        while let c = peek() {
            advance()
            if c == "\\", peek() == "'" {
                advance()
                value.append("'")
            } else if c == "'" {
                return Token(kind: .string, text: text(from: startIndex), value: String(value), position: start, endOffset: offset)
            } else {
                value.append(c)
            }
        }
        throw ScriptError("unterminated string: no closing ' after the string starting here", at: start)
    }

    /// A `/regex/` literal on one line; `\/` is a slash inside the pattern.
    private mutating func regex(start: SourcePosition, startIndex: Int) throws(ScriptError) -> Token {
        advance()
        let patternStart = index
        while true {
            guard let c = peek(), c != "\n" else {
                throw ScriptError("unterminated regex: no closing \"/\" on the line of the regex starting here", at: start)
            }
            if c == "\\", peek(1) == "/" {
                advance(); advance()
                continue
            }
            if c == "/" {
                let pattern = text(from: patternStart)
                advance()
                return Token(kind: .regex, text: text(from: startIndex), value: pattern, position: start, endOffset: offset)
            }
            advance()
        }
    }
}
