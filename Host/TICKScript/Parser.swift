extension Program {
    /// How deeply expressions may nest: the height of any expression's tree, counting each parenthesis,
    /// unary or binary operator, function call, lambda and chain link (`|node()`, `.property()`) as a level.
    ///
    /// Every pass over a script (checking, formatting, building, compiling and evaluating lambdas, and
    /// comparing or freeing the tree) recurses once per level, so this bound is what keeps a hostile script
    /// from overflowing the stack of the thread that handles it. A flat chain such as `a OR b OR c …` is one
    /// level per operator too, as its tree is left-nested: 200 levels is a pipeline of 200 nodes and
    /// properties or a lambda of 200 operators, past what scripts need (split longer ones into several
    /// lambdas or nodes). Parsing past it throws "expression nested deeper than 200 levels" at the token
    /// where the limit was crossed.
    ///
    /// Measured with `tock fmt` under `ulimit -s`: a debug build needs 4–8 MiB for 1,000 levels (4–8 KiB a
    /// level), so 200 levels take at most about 1.6 MiB, within the 8 MiB of the daemon's threads and the
    /// 2 MiB the tests give a secondary thread; a release build needs several times less.
    public static let maximumDepth = 200

    /// Parses a TICKscript and, unless `check` is false, runs the checks that need no engine
    /// (``Program/check(predefined:)``): undefined and redefined variables, field references outside lambdas.
    ///
    /// The grammar and operator precedence are Kapacitor's (`tick/ast/parser.go`):
    /// `OR` < `AND` < `== != =~ !~` < `< <= > >=` < `+ -` < `* / %` < unary `- !`, all left-associative.
    /// - Throws: ``ScriptError`` at the line and column of the offending token.
    public static func parse(_ source: String, check: Bool = true) throws(ScriptError) -> Program {
        var parser = try Parser(source)
        let program = try parser.program()
        if check { try program.check() }
        return program
    }

    /// Parses the body of a lambda alone (what follows `lambda:`), as Kapacitor does for lambda-typed
    /// template variables whose value is given as text.
    public static func parseLambda(_ source: String) throws(ScriptError) -> Expression {
        var parser = try Parser(source)
        let expression = try parser.lambdaBody(after: nil)
        try parser.expectEnd()
        return expression
    }
}

/// A recursive-descent parser over the token list, mirroring Kapacitor's.
struct Parser {
    private let source: [UInt8]
    private var tokens: [Token]
    private var index = 0
    /// Tokens before this one have had their leading comments handed to a node.
    private var commentCursor = 0

    /// An expression and the offset Kapacitor would call its position (the operator of a binary or a chain
    /// link, the name of a call), used to decide whether the source laid it out over several lines.
    private struct Parsed {
        var expression: Expression
        var anchor: Int
        /// The height of the expression's tree (a literal is 1), kept at most ``Program/maximumDepth``.
        var depth = 1
    }

    /// How many `primary`/`expression` calls are active: the parser's own recursion, bounded like the tree.
    private var nesting = 0

    init(_ source: String) throws(ScriptError) {
        self.source = Array(source.utf8)
        self.tokens = try Lexer.tokenize(source)
    }

    // MARK: Token access

    private var current: Token { tokens[index] }
    private func peek(_ ahead: Int = 1) -> Token { tokens[min(index + ahead, tokens.count - 1)] }

    @discardableResult
    private mutating func advance() -> Token {
        let token = tokens[index]
        if index < tokens.count - 1 { index += 1 }
        return token
    }

    /// The comments that appeared before `token` (and any not yet handed out before it).
    private mutating func claimComments(through token: Int) -> [Comment] {
        guard commentCursor <= token else { return [] }
        var comments: [Comment] = []
        for i in commentCursor...token { comments += tokens[i].leadingComments }
        commentCursor = token + 1
        return comments
    }

    private func hasNewline(from start: Int, to end: Int) -> Bool {
        guard start < end else { return false }
        return source[start..<min(end, source.count)].contains(UInt8(ascii: "\n"))
    }

    private func error(_ expected: String, _ token: Token, hint: String = "") -> ScriptError {
        ScriptError("expected \(expected), found \(token.described)\(hint)", at: token.position)
    }

    /// Enters one level of the parser's recursion; throws at `token` once ``Program/maximumDepth`` is passed.
    private mutating func enter(_ token: Token) throws(ScriptError) {
        nesting += 1
        if nesting > Program.maximumDepth { throw Self.tooDeep(at: token.position) }
    }

    private static func tooDeep(at position: SourcePosition) -> ScriptError {
        ScriptError(
            "expression nested deeper than \(Program.maximumDepth) levels (parentheses, operators, function calls "
                + "and chain links all count); split it into several variables, nodes or lambdas",
            at: position)
    }

    /// `expression` with `depth`, refused past ``Program/maximumDepth`` at `position`.
    private static func node(
        _ expression: Expression, anchor: Int, depth: Int, at position: SourcePosition
    ) throws(ScriptError) -> Parsed {
        if depth > Program.maximumDepth { throw tooDeep(at: position) }
        return Parsed(expression: expression, anchor: anchor, depth: depth)
    }

    mutating func expectEnd() throws(ScriptError) {
        guard current.kind == .end else { throw error("end of the lambda", current) }
    }

    // MARK: Statements

    mutating func program() throws(ScriptError) -> Program {
        var statements: [Statement] = []
        while current.kind != .end {
            statements.append(try statement())
        }
        return Program(statements: statements, trailingComments: claimComments(through: index))
    }

    private mutating func statement() throws(ScriptError) -> Statement {
        let start = current
        let comments = claimComments(through: index)
        switch start.kind {
        case .keywordVar:
            advance()
            return try declaration(start: start, comments: comments)
        case .identifier where start.text == "dbrp" && ![.dot, .pipe, .at].contains(peek().kind):
            advance()
            return try dbrp(start: start, comments: comments)
        case .identifier:
            let value = try expression().expression
            return Statement(kind: .expression(value), position: start.position, comments: comments)
        case .pipe, .at, .dot:
            throw ScriptError(
                "expected a statement, found \(start.described): a chain must start from stream, batch or a variable",
                at: start.position)
        default:
            throw error("a statement (var, dbrp, or a chain starting from stream, batch or a variable)", start)
        }
    }

    private mutating func declaration(start: Token, comments: [Comment]) throws(ScriptError) -> Statement {
        let name = current
        guard name.kind == .identifier else { throw error("a variable name after \"var\"", name) }
        advance()
        switch current.kind {
        case .assign:
            advance()
            let value = try expression().expression
            return Statement(
                kind: .variable(name: name.text, value: value), position: start.position, comments: comments,
                namePosition: name.position)
        case .identifier:
            let typeToken = advance()
            guard let type = DeclaredType(rawValue: typeToken.text) else {
                let names = DeclaredType.allCases.map(\.rawValue)
                let suggestion = closest(to: typeToken.text, in: names).map { "; did you mean \"\($0)\"?" } ?? ""
                throw ScriptError(
                    "unknown type \"\(typeToken.text)\" in the declaration of \(name.text); expected one of "
                        + names.joined(separator: ", ") + suggestion,
                    at: typeToken.position)
            }
            if current.kind == .assign {
                throw ScriptError(
                    "a typed declaration takes no value: write \"var \(name.text) = ...\" or \"var \(name.text) \(type.rawValue)\"",
                    at: current.position)
            }
            return Statement(
                kind: .declaration(name: name.text, type: type), position: start.position, comments: comments,
                namePosition: name.position)
        case .op(.equal):
            throw error("\"=\" after \"var \(name.text)\"", current)
        default:
            throw error("\"=\" or a type after \"var \(name.text)\"", current)
        }
    }

    private mutating func dbrp(start: Token, comments: [Comment]) throws(ScriptError) -> Statement {
        let database = current
        guard database.kind == .reference else {
            throw error("a double-quoted database name after dbrp (dbrp \"db\".\"rp\")", database)
        }
        advance()
        guard current.kind == .dot else {
            throw error("\".\" between the database and the retention policy (dbrp \"db\".\"rp\")", current)
        }
        advance()
        let policy = current
        guard policy.kind == .reference else {
            throw error("a double-quoted retention policy after dbrp \(database.text). (dbrp \"db\".\"rp\")", policy)
        }
        advance()
        return Statement(
            kind: .dbrp(database: database.value, retentionPolicy: policy.value), position: start.position,
            comments: comments)
    }

    // MARK: Expressions outside lambdas

    /// A statement value or an argument of a chain link: a chain, a lambda, a list, or an operator expression.
    private mutating func expression() throws(ScriptError) -> Parsed {
        try enter(current)
        defer { nesting -= 1 }
        switch current.kind {
        case .identifier:
            if peek().kind == .leftParen {
                let call = try function()
                if [.dot, .pipe, .at].contains(current.kind) { return try chain(call) }
                return try precedence(call, minimum: 0)
            }
            if [.dot, .pipe, .at].contains(peek().kind) {
                return try chain(try identifier())
            }
            return try primaryExpression()
        case .lambda:
            let token = advance()
            let comments = claimComments(through: index - 1)
            let (body, depth) = try lambdaBodyAndDepth()
            return try Self.node(
                Expression(.lambda(body), at: token.position, comments: comments), anchor: token.position.offset,
                depth: depth + 1, at: token.position)
        case .leftBracket:
            return try list()
        default:
            return try primaryExpression()
        }
    }

    /// `left|name(args)`, `left.name(args)`, `left@name(args)`, repeatedly (left-associative).
    private mutating func chain(_ left: Parsed) throws(ScriptError) -> Parsed {
        var result = left
        while true {
            let op: ChainOperator
            switch current.kind {
            case .pipe: op = .pipe
            case .dot: op = .dot
            case .at: op = .at
            default: return result
            }
            let opToken = advance()
            let comments = claimComments(through: index - 1)
            let what = op == .pipe ? "a node name" : op == .dot ? "a property name" : "a UDF name"
            let name = current
            guard name.kind == .identifier else { throw error("\(what) after \"\(op.rawValue)\"", name) }
            advance()
            guard current.kind == .leftParen else {
                throw error(
                    "\"(\" after \"\(op.rawValue)\(name.text)\"", current,
                    hint: " (write \(op.rawValue)\(name.text)() even without arguments)")
            }
            let (arguments, multiLine, depth) = try argumentList(of: "\(name.text)()", nameOffset: name.position.offset)
            let link = Expression(
                .chain(left: result.expression, op: op, name: name.text, arguments: arguments),
                at: opToken.position, comments: comments, layout: .init(multiLine: multiLine))
            result = try Self.node(
                link, anchor: opToken.position.offset, depth: max(result.depth, depth) + 1, at: opToken.position)
        }
    }

    /// `name(args)` outside a lambda (a global function such as Kapacitor's old `stream()`).
    private mutating func function() throws(ScriptError) -> Parsed {
        let name = advance()
        let comments = claimComments(through: index - 1)
        let (arguments, multiLine, depth) = try argumentList(of: "\(name.text)()", nameOffset: name.position.offset)
        let call = Expression(
            .call(function: name.text, arguments: arguments), at: name.position, comments: comments,
            layout: .init(multiLine: multiLine))
        return try Self.node(call, anchor: name.position.offset, depth: depth + 1, at: name.position)
    }

    /// `( arg, arg, ... )` with the current token at `(`; a trailing comma is allowed, as in Kapacitor.
    /// - Returns: the arguments, whether they span several lines, and the depth of the deepest (0 for none).
    private mutating func argumentList(
        of callee: String, nameOffset: Int, inLambda: Bool = false
    ) throws(ScriptError) -> ([Expression], Bool, Int) {
        let open = advance()
        var arguments: [Expression] = []
        var depth = 0
        var lastAnchor = nameOffset
        while current.kind != .rightParen {
            if current.kind == .comma {
                throw error("an argument to \(callee) before \",\"", current)
            }
            if !Self.startsValue(current.kind) {
                throw error("\")\" to close the call to \(callee) at \(open.position)", current)
            }
            let argument = inLambda ? try primaryExpression() : try expression()
            arguments.append(argument.expression)
            depth = max(depth, argument.depth)
            lastAnchor = argument.anchor
            if current.kind == .comma {
                advance()
            } else if current.kind != .rightParen {
                var hint = ""
                if current.kind == .assign { hint = " (compare with ==)" }
                if current.kind == .identifier, ["and", "or"].contains(current.text.lowercased()) {
                    hint = " (the logical operators are written AND and OR)"
                }
                throw error("\",\" or \")\" to close the call to \(callee) at \(open.position)", current, hint: hint)
            }
        }
        advance()
        return (arguments, !arguments.isEmpty && hasNewline(from: nameOffset, to: lastAnchor), depth)
    }

    /// Whether a token can begin an argument or operand.
    private static func startsValue(_ kind: Token.Kind) -> Bool {
        switch kind {
        case .identifier, .reference, .string, .tripleString, .int, .float, .duration, .regex, .keywordTrue,
             .keywordFalse, .lambda, .leftParen, .leftBracket, .star, .not, .op(.subtract):
            return true
        default:
            return false
        }
    }

    private mutating func list() throws(ScriptError) -> Parsed {
        let open = advance()
        let comments = claimComments(through: index - 1)
        var items: [Expression] = []
        while current.kind != .rightBracket {
            let item = current
            let itemComments = claimComments(through: index)
            switch item.kind {
            case .identifier:
                items.append(Expression(.identifier(item.text), at: item.position, comments: itemComments))
            case .string, .tripleString:
                items.append(Expression(.string(item.value, tripleQuoted: item.kind == .tripleString), at: item.position, comments: itemComments))
            case .star:
                items.append(Expression(.star, at: item.position, comments: itemComments))
            default:
                throw error("a string, a variable or * in the list at \(open.position)", item)
            }
            advance()
            if current.kind == .comma {
                advance()
            } else if current.kind != .rightBracket {
                throw error("\",\" or \"]\" to close the list at \(open.position)", current)
            }
        }
        advance()
        return Parsed(
            expression: Expression(.list(items), at: open.position, comments: comments), anchor: open.position.offset,
            depth: items.isEmpty ? 1 : 2)
    }

    private mutating func identifier() throws(ScriptError) -> Parsed {
        let token = advance()
        let comments = claimComments(through: index - 1)
        return Parsed(expression: Expression(.identifier(token.text), at: token.position, comments: comments), anchor: token.position.offset)
    }

    // MARK: Operator expressions (lambdas)

    /// The expression after `lambda:`.
    mutating func lambdaBody(after lambda: Token?) throws(ScriptError) -> Expression {
        try lambdaBodyAndDepth().expression
    }

    private mutating func lambdaBodyAndDepth() throws(ScriptError) -> (expression: Expression, depth: Int) {
        if [.rightParen, .comma, .end].contains(current.kind) {
            throw error("an expression after \"lambda:\"", current)
        }
        let body = try primaryExpression()
        return (body.expression, body.depth)
    }

    private mutating func primaryExpression() throws(ScriptError) -> Parsed {
        try precedence(try primary(), minimum: 0)
    }

    private static func precedence(of op: BinaryOperator) -> Int {
        switch op {
        case .or: 0
        case .and: 1
        case .equal, .notEqual, .regexMatch, .regexNotMatch: 2
        case .less, .lessOrEqual, .greater, .greaterOrEqual: 3
        case .add, .subtract: 4
        case .multiply, .divide, .modulo: 5
        }
    }

    private var currentOperator: BinaryOperator? {
        if case .op(let op) = current.kind { return op }
        return nil
    }

    /// Operator-precedence climbing, left-associative (Kapacitor's `precedence`).
    private mutating func precedence(_ left: Parsed, minimum: Int) throws(ScriptError) -> Parsed {
        var lhs = left
        while let op = currentOperator, Self.precedence(of: op) >= minimum {
            let lhsEnd = index > 0 ? tokens[index - 1].endOffset : 0
            let opToken = advance()
            let comments = claimComments(through: index - 1)
            if [.rightParen, .comma, .end, .rightBracket].contains(current.kind) {
                throw error("an operand after \"\(op.rawValue)\"", current)
            }
            var rhs = try primary()
            while let next = currentOperator, Self.precedence(of: next) > Self.precedence(of: op) {
                rhs = try precedence(rhs, minimum: Self.precedence(of: next))
            }
            // Kapacitor measures from the left operand's position (its operator, for a binary); measuring from
            // where the left operand ends gives the same layout for its golden cases and makes formatting a
            // fixed point.
            let multiLine = hasNewline(from: lhsEnd, to: rhs.anchor)
            let binary = Expression(
                .binary(op, lhs.expression, rhs.expression), at: lhs.expression.position, comments: comments,
                layout: .init(multiLine: multiLine))
            lhs = try Self.node(
                binary, anchor: opToken.position.offset, depth: max(lhs.depth, rhs.depth) + 1, at: opToken.position)
        }
        return lhs
    }

    private mutating func primary() throws(ScriptError) -> Parsed {
        let token = current
        try enter(token)
        defer { nesting -= 1 }
        switch token.kind {
        case .leftParen:
            advance()
            let comments = claimComments(through: index - 1)
            if current.kind == .rightParen { throw error("an expression inside \"(\" at \(token.position)", current) }
            let inner = try primaryExpression()
            guard current.kind == .rightParen else {
                throw error("\")\" to close \"(\" at \(token.position)", current, hint: current.kind == .assign ? " (compare with ==)" : "")
            }
            advance()
            return try Self.node(
                Expression(.parenthesized(inner.expression), at: token.position, comments: comments), anchor: inner.anchor,
                depth: inner.depth + 1, at: token.position)
        case .int, .float, .string, .tripleString, .keywordTrue, .keywordFalse, .duration, .regex, .star, .reference:
            advance()
            let comments = claimComments(through: index - 1)
            let kind: Expression.Kind
            switch token.kind {
            case .int: kind = .int(token.intValue)
            case .float: kind = .float(token.floatValue)
            case .string: kind = .string(token.value, tripleQuoted: false)
            case .tripleString: kind = .string(token.value, tripleQuoted: true)
            case .keywordTrue: kind = .bool(true)
            case .keywordFalse: kind = .bool(false)
            case .duration: kind = .duration(nanoseconds: token.intValue, literal: token.text)
            case .regex: kind = .regex(token.value)
            case .star: kind = .star
            default: kind = .reference(token.value)
            }
            let literal = Expression(kind, at: token.position, comments: comments, layout: .init(octal: token.octal))
            return Parsed(expression: literal, anchor: token.position.offset)
        case .identifier:
            if peek().kind == .leftParen {
                let name = advance()
                let comments = claimComments(through: index - 1)
                let (arguments, multiLine, depth) = try argumentList(
                    of: "\(name.text)()", nameOffset: name.position.offset, inLambda: true)
                let call = Expression(
                    .call(function: name.text, arguments: arguments), at: name.position, comments: comments,
                    layout: .init(multiLine: multiLine))
                return try Self.node(call, anchor: name.position.offset, depth: depth + 1, at: name.position)
            }
            if token.text == "lambda", [.reference, .string, .int, .float, .identifier, .leftParen, .not].contains(peek().kind) {
                throw error("\":\" right after \"lambda\"", peek(), hint: " (write lambda: expression)")
            }
            return try identifier()
        case .op(.subtract), .not:
            advance()
            let comments = claimComments(through: index - 1)
            if [.rightParen, .comma, .end].contains(current.kind) {
                throw error("an operand after \"\(token.text)\"", current)
            }
            let operand = try primary()
            let op: UnaryOperator = token.kind == .not ? .not : .negate
            return try Self.node(
                Expression(.unary(op, operand.expression), at: token.position, comments: comments),
                anchor: token.position.offset, depth: operand.depth + 1, at: token.position)
        case .lambda:
            throw error("a value", token, hint: " (a lambda cannot be nested in an expression)")
        case .leftBracket:
            throw error("a value", token, hint: " (a list cannot be used inside a lambda or an operator expression)")
        default:
            throw error("a value (number, string, duration, field reference, variable, function call or \"(\")", token)
        }
    }
}

/// The candidate closest to `name` by edit distance, if it is close enough to be a likely typo.
func closest(to name: String, in candidates: some Sequence<String>) -> String? {
    let target = Array(name.lowercased())
    var best: (String, Int)?
    for candidate in candidates {
        let distance = editDistance(target, Array(candidate.lowercased()))
        if distance < (best?.1 ?? .max) { best = (candidate, distance) }
    }
    guard let (candidate, distance) = best else { return nil }
    let allowed = max(1, min(3, name.count / 2))
    return distance <= allowed ? candidate : nil
}

private func editDistance(_ a: [Character], _ b: [Character]) -> Int {
    if a.isEmpty { return b.count }
    if b.isEmpty { return a.count }
    var previous = Array(0...b.count)
    for i in 1...a.count {
        var row = [i] + Array(repeating: 0, count: b.count)
        for j in 1...b.count {
            row[j] = min(previous[j] + 1, row[j - 1] + 1, previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
        }
        previous = row
    }
    return previous[b.count]
}
