extension Program {
    /// The script in the canonical layout of Kapacitor's `tickfmt` (`tick/ast/node.go` `Format`): a blank line
    /// between statements; chain links on their own lines, `|` and `@` indented one step (4 spaces) under
    /// their source and `.property` two steps; spaces around binary operators; strings single-quoted;
    /// durations as written; comments on their own lines above what they precede.
    public func formatted() -> String {
        var printer = Printer()
        for (i, statement) in statements.enumerated() {
            if i > 0 { printer.out += "\n" }
            printer.statement(statement)
            printer.out += "\n"
        }
        if !trailingComments.isEmpty {
            if !statements.isEmpty { printer.out += "\n" }
            printer.comments(trailingComments, indent: "", onNewLine: true)
            printer.out += "\n"
        }
        return printer.out
    }
}

extension Expression {
    /// The expression in `tickfmt` layout, as it would appear at the start of a line with no indentation.
    public func formatted() -> String {
        var printer = Printer()
        printer.expression(self, indent: "", onNewLine: false)
        return printer.out
    }
}

/// Kapacitor's `Format(buf, indent, onNewLine)` recursion: `onNewLine` says the output is at the start of a
/// line, so the node writes its indentation first.
private struct Printer {
    static let step = "    "
    var out = ""

    mutating func statement(_ statement: Statement) {
        comments(statement.comments, indent: "", onNewLine: true)
        switch statement.kind {
        case .variable(let name, let value):
            out += "var \(name) = "
            expression(value, indent: "", onNewLine: false)
        case .declaration(let name, let type):
            out += "var \(name) \(type.rawValue)"
        case .dbrp(let database, let policy):
            out += "dbrp \(Self.quoteReference(database)).\(Self.quoteReference(policy))"
        case .expression(let value):
            expression(value, indent: "", onNewLine: true)
        }
    }

    /// Comment lines at `indent`, a blank line wherever the source had one between comments.
    mutating func comments(_ comments: [Comment], indent: String, onNewLine: Bool) {
        guard !comments.isEmpty else { return }
        if !onNewLine { out += "\n" }
        for (i, comment) in comments.enumerated() {
            if i > 0, comment.position.line > comments[i - 1].position.line + 1 { out += "\n" }
            out += indent + "//" + (comment.text.isEmpty ? "" : " " + comment.text) + "\n"
        }
    }

    mutating func expression(_ e: Expression, indent: String, onNewLine: Bool) {
        if case .chain(let left, let op, let name, let arguments) = e.kind {
            expression(left, indent: indent, onNewLine: onNewLine)
            out += "\n"
            let linkIndent = indent + Self.step + (op == .dot ? Self.step : "")
            comments(e.comments, indent: linkIndent, onNewLine: true)
            out += linkIndent + op.rawValue
            call(name, arguments, multiLine: e.layout.multiLine, indent: linkIndent)
            return
        }
        if case .parenthesized = e.kind {
            parenthesized(e, indent: indent, onNewLine: onNewLine)
            return
        }
        let e = Self.hoistingComments(e)
        var onNewLine = onNewLine
        if !e.comments.isEmpty {
            comments(e.comments, indent: indent, onNewLine: onNewLine)
            onNewLine = true
        }
        if onNewLine { out += indent }
        switch e.kind {
        case .identifier(let name): out += name
        case .reference(let name): out += Self.quoteReference(name)
        case .string(let text, let triple):
            out += triple ? "'''\(text)'''" : "'" + Self.escape(text, quote: "'") + "'"
        case .int(let value): out += e.layout.octal && value != 0 ? "0" + String(value, radix: 8) : String(value)
        case .float(let value): out += Self.formatFloat(value)
        case .bool(let value): out += value ? "TRUE" : "FALSE"
        case .duration(let nanoseconds, let literal): out += literal.isEmpty ? Self.formatDuration(nanoseconds) : literal
        case .regex(let pattern): out += "/\(pattern)/"
        case .star: out += "*"
        case .list(let items):
            out += "["
            for (i, item) in items.enumerated() {
                if i > 0 { out += ", " }
                expression(item, indent: indent, onNewLine: false)
            }
            out += "]"
        case .lambda(let body):
            out += "lambda: "
            expression(body, indent: indent, onNewLine: false)
        case .unary(let op, let operand):
            out += op.rawValue
            expression(operand, indent: indent, onNewLine: false)
        case .binary(let op, let left, let right):
            binary(op, left, right, multiLine: e.layout.multiLine, indent: indent)
        case .call(let function, let arguments):
            call(function, arguments, multiLine: e.layout.multiLine, indent: indent)
        case .chain, .parenthesized:
            break  // handled above
        }
    }

    /// Kapacitor keeps parentheses only around binary expressions (once, however many were written).
    mutating func parenthesized(_ e: Expression, indent: String, onNewLine: Bool) {
        var inner = e
        var comments = [Comment]()
        while case .parenthesized(let next) = inner.kind {
            comments += inner.comments
            inner = next
        }
        inner = Self.hoistingComments(inner)
        inner.comments = comments + inner.comments
        guard case .binary(let op, let left, let right) = inner.kind else {
            expression(inner, indent: indent, onNewLine: onNewLine)
            return
        }
        var onNewLine = onNewLine
        if !inner.comments.isEmpty {
            self.comments(inner.comments, indent: indent, onNewLine: onNewLine)
            onNewLine = true
        }
        if onNewLine { out += indent }
        out += "("
        binary(op, left, right, multiLine: inner.layout.multiLine, indent: indent + Self.step)
        out += ")"
    }

    /// Moves the comments of a binary expression's left operand (and of a unary operand) up to the
    /// expression, so they print above it instead of breaking the line after its indentation. (Kapacitor
    /// prints them in place, which leaves a line of spaces and is not stable under reformatting.)
    static func hoistingComments(_ e: Expression) -> Expression {
        var e = e
        switch e.kind {
        case .binary(let op, let left, let right):
            var left = hoistingComments(left)
            e.comments = left.comments + e.comments
            left.comments = []
            e.kind = .binary(op, left, right)
        case .unary(let op, let operand):
            var operand = hoistingComments(operand)
            e.comments += operand.comments
            operand.comments = []
            e.kind = .unary(op, operand)
        case .parenthesized(let inner):
            var inner = hoistingComments(inner)
            e.comments += inner.comments
            inner.comments = []
            e.kind = .parenthesized(inner)
        default:
            break
        }
        return e
    }

    mutating func binary(_ op: BinaryOperator, _ left: Expression, _ right: Expression, multiLine: Bool, indent: String) {
        expression(left, indent: indent, onNewLine: false)
        out += " " + op.rawValue + (multiLine ? "\n" : " ")
        expression(right, indent: indent, onNewLine: multiLine)
    }

    mutating func call(_ name: String, _ arguments: [Expression], multiLine: Bool, indent: String) {
        // The parser reads a call as multi-line when a line break comes before its last argument's anchor;
        // print it that way whenever the arguments would put one there, so formatting is idempotent.
        let multiLine = multiLine || Self.breaksBeforeLastAnchor(arguments)
        out += name + "("
        let argumentIndent = indent + Self.step
        for (i, argument) in arguments.enumerated() {
            if i > 0 { out += multiLine ? "," : ", " }
            if multiLine { out += "\n" }
            expression(argument, indent: argumentIndent, onNewLine: multiLine)
        }
        if multiLine, !arguments.isEmpty { out += "\n" + indent }
        out += ")"
    }

    /// Whether printing `arguments` on one line would still put a line break before the last argument's
    /// anchor (the token the parser measures a call's layout to): an earlier argument that spans lines, or
    /// a break inside the last one ahead of its anchor (a chain's last link, a binary operator after a
    /// multi-line left operand, comments).
    static func breaksBeforeLastAnchor(_ arguments: [Expression]) -> Bool {
        guard let last = arguments.last else { return false }
        return arguments.dropLast().contains(where: spansLines) || breaksBeforeAnchor(last)
    }

    static func breaksBeforeAnchor(_ e: Expression) -> Bool {
        if !e.comments.isEmpty { return true }
        switch e.kind {
        case .chain: return true
        case .binary(_, let left, _): return spansLines(left)
        case .parenthesized(let inner): return breaksBeforeAnchor(inner)
        default: return false
        }
    }

    /// Whether `e` prints over more than one line.
    static func spansLines(_ e: Expression) -> Bool {
        if !e.comments.isEmpty { return true }
        switch e.kind {
        case .chain: return true
        case .string(let text, _): return text.contains("\n")
        case .regex(let pattern): return pattern.contains("\n")
        case .list(let items): return items.contains(where: spansLines)
        case .lambda(let inner), .unary(_, let inner), .parenthesized(let inner): return spansLines(inner)
        case .binary(_, let left, let right): return e.layout.multiLine || spansLines(left) || spansLines(right)
        case .call(_, let arguments):
            return (e.layout.multiLine && !arguments.isEmpty) || breaksBeforeLastAnchor(arguments)
                || arguments.contains(where: spansLines)
        case .identifier, .reference, .int, .float, .bool, .duration, .star: return false
        }
    }

    /// Puts a backslash before every `quote`, the only escape TICKscript's quoted literals know.
    static func escape(_ text: String, quote: Character) -> String {
        var result = ""
        for character in text {
            if character == quote { result.append("\\") }
            result.append(character)
        }
        return result
    }

    static func quoteReference(_ name: String) -> String {
        "\"" + escape(name, quote: "\"") + "\""
    }

    /// Go's `strconv.FormatFloat(f, 'f', -1, 64)` plus `.0` when that has no decimal point: the shortest
    /// digits that read back as the same double, never in exponent form.
    static func formatFloat(_ value: Double) -> String {
        guard value.isFinite else { return value.description }
        let shortest = value.description  // shortest round-trip digits, maybe with an exponent
        var text: String
        if let e = shortest.firstIndex(where: { $0 == "e" || $0 == "E" }) {
            let exponent = Int(shortest[shortest.index(after: e)...])!
            var mantissa = String(shortest[..<e])
            let negative = mantissa.hasPrefix("-")
            if negative { mantissa.removeFirst() }
            let parts = mantissa.split(separator: ".", omittingEmptySubsequences: false)
            var digits = String(parts[0]) + (parts.count > 1 ? String(parts[1]) : "")
            var point = parts[0].count + exponent
            if point <= 0 {
                digits = String(repeating: "0", count: 1 - point) + digits
                point = 1
            } else if point > digits.count {
                digits += String(repeating: "0", count: point - digits.count)
            }
            let integer = digits.prefix(point)
            var fraction = String(digits.dropFirst(point))
            while fraction.hasSuffix("0") { fraction.removeLast() }
            text = (negative ? "-" : "") + integer + (fraction.isEmpty ? "" : "." + fraction)
        } else {
            text = shortest
            if text.hasSuffix(".0") { text.removeLast(2) }
        }
        if !text.contains(".") { text += ".0" }
        return text
    }

    /// influxql's `FormatDuration`: the largest unit that divides the duration exactly.
    static func formatDuration(_ nanoseconds: Int64) -> String {
        if nanoseconds == 0 { return "0s" }
        let units: [(String, Int64)] = [
            ("w", 604_800_000_000_000), ("d", 86_400_000_000_000), ("h", 3_600_000_000_000), ("m", 60_000_000_000),
            ("s", 1_000_000_000), ("ms", 1_000_000), ("u", 1_000),
        ]
        for (unit, size) in units where nanoseconds % size == 0 {
            return "\(nanoseconds / size)\(unit)"
        }
        return "\(nanoseconds)ns"
    }
}
