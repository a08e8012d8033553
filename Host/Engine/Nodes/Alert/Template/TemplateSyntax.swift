/// The parsed form of a Go `text/template` (the subset alert scripts use).
indirect enum TemplateNode: Sendable {
    case text(String)
    case action(TemplatePipeline)
    case conditional(TemplatePipeline, then: [TemplateNode], otherwise: [TemplateNode]?)
    /// `range`; `key`/`value` are the declared variables (`range $k, $v := .Tags`).
    case range(TemplatePipeline, key: String?, value: String?, body: [TemplateNode], otherwise: [TemplateNode]?)
    case with(TemplatePipeline, body: [TemplateNode], otherwise: [TemplateNode]?)
}

/// `cmd | cmd | …`, optionally assigning its value to variables (`$x := …`).
struct TemplatePipeline: Sendable {
    var declarations: [String] = []
    /// `true` for `$x = …` (assign to an existing variable), `false` for `:=`.
    var isAssignment = false
    var commands: [TemplateCommand]
}

/// One command: a function and its arguments, or a single operand.
struct TemplateCommand: Sendable {
    var arguments: [TemplateOperand]
}

indirect enum TemplateOperand: Sendable {
    /// `.A.B` (`[]` is dot itself).
    case field([String])
    /// `$x.A.B` (`$` alone is the root).
    case variable(String, [String])
    /// A function name (`index`, `printf`, …).
    case function(String)
    case string(String)
    case int(Int64)
    case float(Double)
    case bool(Bool)
    case null
    /// `( pipeline ).A.B`
    case pipeline(TemplatePipeline, [String])
}

/// A template that does not parse, or fails while rendering; `description` reads as Go's errors do:
/// `template: message:1: function "foo" not defined`.
struct TemplateError: Error, Sendable, CustomStringConvertible {
    var template: String
    /// The line in the template, when known.
    var line: Int?
    var message: String
    var description: String {
        if let line { return "template: \(template):\(line): \(message)" }
        return "template: \(template): \(message)"
    }
}

/// Splits a template into text and actions and parses the actions.
struct TemplateParser {
    private let name: String
    private let src: [Unicode.Scalar]
    private var pos = 0
    private var line = 1
    private let functions: Set<String>
    /// The conditional parsed after `{{else if …}}`, handed to the enclosing `if`.
    private var pendingElseIf: TemplateNode?

    init(name: String, source: String, functions: Set<String>) {
        self.name = name
        self.src = Array(source.unicodeScalars)
        self.functions = functions
    }

    private func fail(_ message: String) -> TemplateError {
        TemplateError(template: name, line: line, message: message)
    }

    mutating func parse() throws(TemplateError) -> [TemplateNode] {
        let (nodes, end) = try parseList(stopAt: [])
        if let end { throw fail("unexpected {{\(end)}}") }
        return nodes
    }

    /// Parses nodes until one of the `stopAt` keywords (`end`, `else`) and returns it (nil at EOF).
    private mutating func parseList(stopAt: Set<String>) throws(TemplateError) -> ([TemplateNode], String?) {
        var nodes: [TemplateNode] = []
        while pos < src.count {
            // Text up to the next "{{".
            var text = String.UnicodeScalarView()
            while pos < src.count && !(src[pos] == "{" && pos + 1 < src.count && src[pos + 1] == "{") {
                if src[pos] == "\n" { line += 1 }
                text.append(src[pos])
                pos += 1
            }
            if pos >= src.count {
                if !text.isEmpty { nodes.append(.text(String(text))) }
                break
            }
            pos += 2
            // "{{- " trims the whitespace before.
            if pos + 1 < src.count && src[pos] == "-" && isSpace(src[pos + 1]) {
                while let last = text.last, isSpace(last) { text.removeLast() }
                pos += 1
            }
            if !text.isEmpty { nodes.append(.text(String(text))) }
            skipSpaces()
            // Comment.
            if pos + 1 < src.count && src[pos] == "/" && src[pos + 1] == "*" {
                while pos + 1 < src.count && !(src[pos] == "*" && src[pos + 1] == "/") {
                    if src[pos] == "\n" { line += 1 }
                    pos += 1
                }
                guard pos + 1 < src.count else { throw fail("unclosed comment") }
                pos += 2
                skipSpaces()
                try closeAction()
                continue
            }
            let keyword = peekWord()
            switch keyword {
            case "end", "else":
                if !stopAt.contains(keyword) { throw fail("unexpected {{\(keyword)}}") }
                pos += keyword.count
                if keyword == "else" {
                    skipSpaces()
                    if peekWord() == "if" {
                        // `else if` chains into a nested conditional closed by the same `end`.
                        pos += 2
                        pendingElseIf = try parseConditional()
                        return (nodes, "else if")
                    }
                }
                skipSpaces()
                try closeAction()
                return (nodes, keyword)
            case "if":
                pos += 2
                nodes.append(try parseConditional())
            case "range":
                pos += 5
                nodes.append(try parseRange())
            case "with":
                pos += 4
                let pipe = try parsePipeline(allowDeclarations: true)
                try closeAction()
                let (body, end) = try parseList(stopAt: ["end", "else"])
                var otherwise: [TemplateNode]? = nil
                if end == "else" { otherwise = try parseUntilEnd() } else if end != "end" { throw fail("unexpected EOF or {{else if}} in with") }
                nodes.append(.with(pipe, body: body, otherwise: otherwise))
            case "define", "template", "block", "break", "continue":
                throw fail("{{\(keyword)}} is not supported by Tock's alert templates")
            default:
                let pipe = try parsePipeline(allowDeclarations: true)
                try closeAction()
                nodes.append(.action(pipe))
            }
        }
        return (nodes, nil)
    }

    /// After `if`: the pipeline, the body, an optional `else` (or `else if`), up to `end`.
    private mutating func parseConditional() throws(TemplateError) -> TemplateNode {
        let pipe = try parsePipeline(allowDeclarations: true)
        try closeAction()
        let (body, end) = try parseList(stopAt: ["end", "else"])
        var otherwise: [TemplateNode]? = nil
        if end == "else if", let nested = pendingElseIf {
            // `{{else if b}}` is `{{else}}{{if b}}…{{end}}` sharing the outer `end`.
            otherwise = [nested]
            pendingElseIf = nil
        } else if end == "else" {
            otherwise = try parseUntilEnd()
        } else if end == nil {
            throw fail("unexpected EOF")
        }
        return .conditional(pipe, then: body, otherwise: otherwise)
    }

    private mutating func parseRange() throws(TemplateError) -> TemplateNode {
        skipSpaces()
        var key: String? = nil, value: String? = nil
        let save = (pos, line)
        if pos < src.count && src[pos] == "$" {
            let first = readVariable()
            skipSpaces()
            if pos < src.count && src[pos] == "," {
                pos += 1
                skipSpaces()
                let second = readVariable()
                skipSpaces()
                if matchDeclare() { key = first; value = second } else { throw fail("range can only initialize variables") }
            } else if matchDeclare() {
                value = first
            } else {
                (pos, line) = save
            }
        }
        let pipe = try parsePipeline(allowDeclarations: false)
        try closeAction()
        let (body, end) = try parseList(stopAt: ["end", "else"])
        var otherwise: [TemplateNode]? = nil
        if end == "else" { otherwise = try parseUntilEnd() } else if end != "end" { throw fail("unexpected EOF or {{else if}} in range") }
        return .range(pipe, key: key, value: value, body: body, otherwise: otherwise)
    }

    private mutating func parseUntilEnd() throws(TemplateError) -> [TemplateNode] {
        let (nodes, end) = try parseList(stopAt: ["end"])
        if end == nil { throw fail("unexpected EOF") }
        return nodes
    }

    private mutating func matchDeclare() -> Bool {
        if pos + 1 < src.count && src[pos] == ":" && src[pos + 1] == "=" { pos += 2; return true }
        return false
    }

    /// Consumes optional ` -` and the closing `}}`.
    private mutating func closeAction() throws(TemplateError) {
        skipSpaces()
        if pos + 2 < src.count && src[pos] == "-" && src[pos + 1] == "}" && src[pos + 2] == "}" {
            pos += 3
            while pos < src.count && isSpace(src[pos]) {
                if src[pos] == "\n" { line += 1 }
                pos += 1
            }
            return
        }
        guard pos + 1 < src.count, src[pos] == "}", src[pos + 1] == "}" else {
            throw fail(pos < src.count ? "unexpected \"\(src[pos])\" in action" : "unclosed action")
        }
        pos += 2
    }

    private mutating func parsePipeline(allowDeclarations: Bool) throws(TemplateError) -> TemplatePipeline {
        skipSpaces()
        var pipe = TemplatePipeline(commands: [])
        if allowDeclarations && pos < src.count && src[pos] == "$" {
            let save = (pos, line)
            let v = readVariable()
            skipSpaces()
            if matchDeclare() {
                pipe.declarations = [v]
            } else if pos < src.count && src[pos] == "=" && !(pos + 1 < src.count && src[pos + 1] == "=") {
                pos += 1
                pipe.declarations = [v]
                pipe.isAssignment = true
            } else {
                (pos, line) = save
            }
        }
        while true {
            skipSpaces()
            var cmd = TemplateCommand(arguments: [])
            while true {
                skipSpaces()
                guard pos < src.count else { throw fail("unclosed action") }
                let c = src[pos]
                if c == "|" || c == ")" || (c == "}" && pos + 1 < src.count && src[pos + 1] == "}") { break }
                if c == "-" && pos + 2 < src.count && src[pos + 1] == "}" && src[pos + 2] == "}" { break }
                cmd.arguments.append(try parseOperand())
            }
            if cmd.arguments.isEmpty { throw fail("missing value for command") }
            pipe.commands.append(cmd)
            if pos < src.count && src[pos] == "|" { pos += 1; continue }
            break
        }
        return pipe
    }

    private mutating func parseOperand() throws(TemplateError) -> TemplateOperand {
        let c = src[pos]
        switch c {
        case ".":
            if pos + 1 < src.count && isDigit(src[pos + 1]) { return try parseNumber() }
            return .field(readChain())
        case "$":
            let v = readVariable()
            return .variable(v, readChain())
        case "(":
            pos += 1
            let inner = try parsePipeline(allowDeclarations: true)
            skipSpaces()
            guard pos < src.count, src[pos] == ")" else { throw fail("unclosed left paren") }
            pos += 1
            return .pipeline(inner, readChain())
        case "\"":
            return .string(try readQuoted())
        case "`":
            pos += 1
            var s = String.UnicodeScalarView()
            while pos < src.count && src[pos] != "`" {
                if src[pos] == "\n" { line += 1 }
                s.append(src[pos])
                pos += 1
            }
            guard pos < src.count else { throw fail("unterminated raw quoted string") }
            pos += 1
            return .string(String(s))
        default:
            if isDigit(c) || c == "-" || c == "+" { return try parseNumber() }
            if isLetter(c) {
                let word = readWord()
                switch word {
                case "true": return .bool(true)
                case "false": return .bool(false)
                case "nil": return .null
                default:
                    guard functions.contains(word) else { throw fail("function \"\(word)\" not defined") }
                    return .function(word)
                }
            }
            throw fail("unexpected \"\(c)\" in operand")
        }
    }

    private mutating func parseNumber() throws(TemplateError) -> TemplateOperand {
        var s = ""
        while pos < src.count, isDigit(src[pos]) || "+-.eExXabcdefABCDEF_".unicodeScalars.contains(src[pos]) {
            // A sign is part of the number only at the start or after an exponent marker.
            if (src[pos] == "-" || src[pos] == "+"), !s.isEmpty, !(s.hasSuffix("e") || s.hasSuffix("E")) { break }
            s.unicodeScalars.append(src[pos])
            pos += 1
        }
        let clean = String(s.filter { $0 != "_" })
        if let i = Int64(clean) { return .int(i) }
        if clean.hasPrefix("0x") || clean.hasPrefix("0X"), let i = Int64(clean.dropFirst(2), radix: 16) { return .int(i) }
        if let d = Double(clean) { return .float(d) }
        throw fail("bad number syntax: \"\(s)\"")
    }

    private mutating func readQuoted() throws(TemplateError) -> String {
        pos += 1
        var s = String.UnicodeScalarView()
        while pos < src.count && src[pos] != "\"" {
            var c = src[pos]
            if c == "\n" { throw fail("unterminated quoted string") }
            if c == "\\" && pos + 1 < src.count {
                pos += 1
                switch src[pos] {
                case "n": c = "\n"
                case "t": c = "\t"
                case "r": c = "\r"
                case "\\": c = "\\"
                case "\"": c = "\""
                case "'": c = "'"
                default: throw fail("invalid escape \\\(src[pos]) in quoted string")
                }
            }
            s.append(c)
            pos += 1
        }
        guard pos < src.count else { throw fail("unterminated quoted string") }
        pos += 1
        return String(s)
    }

    /// `.A.B.C` → ["A","B","C"]; a lone `.` → [].
    private mutating func readChain() -> [String] {
        var chain: [String] = []
        while pos < src.count && src[pos] == "." {
            let start = pos + 1
            var end = start
            while end < src.count && (isLetter(src[end]) || isDigit(src[end])) { end += 1 }
            if end == start {
                // A lone dot ends the chain (it is "dot" itself only when the chain is empty).
                if chain.isEmpty { pos += 1 }
                break
            }
            chain.append(String(String.UnicodeScalarView(src[start..<end])))
            pos = end
        }
        return chain
    }

    private mutating func readVariable() -> String {
        var s = "$"
        pos += 1
        while pos < src.count && (isLetter(src[pos]) || isDigit(src[pos])) {
            s.unicodeScalars.append(src[pos])
            pos += 1
        }
        return s
    }

    private mutating func readWord() -> String {
        var s = ""
        while pos < src.count && (isLetter(src[pos]) || isDigit(src[pos])) {
            s.unicodeScalars.append(src[pos])
            pos += 1
        }
        return s
    }

    private func peekWord() -> String {
        var i = pos
        var s = ""
        while i < src.count && isLetter(src[i]) { s.unicodeScalars.append(src[i]); i += 1 }
        if i < src.count && (isDigit(src[i]) || src[i] == "_") { return "" }
        return s
    }

    private mutating func skipSpaces() {
        while pos < src.count && isSpace(src[pos]) {
            if src[pos] == "\n" { line += 1 }
            pos += 1
        }
    }

    private func isSpace(_ c: Unicode.Scalar) -> Bool { c == " " || c == "\t" || c == "\n" || c == "\r" }
    private func isDigit(_ c: Unicode.Scalar) -> Bool { c >= "0" && c <= "9" }
    private func isLetter(_ c: Unicode.Scalar) -> Bool { c == "_" || c.properties.isAlphabetic }
}

