extension Expression {
    /// The expression reduced to its meaning, for comparing two parses: positions zeroed, comments and
    /// layout dropped, and explicit parentheses removed (the tree already encodes the grouping).
    public var normalized: Expression {
        let kind: Kind
        switch self.kind {
        case .parenthesized(let inner):
            return inner.normalized
        case .identifier, .reference, .string, .int, .float, .bool, .regex, .star:
            kind = self.kind
        case .duration(let nanoseconds, _):
            kind = .duration(nanoseconds: nanoseconds, literal: "")
        case .list(let items):
            kind = .list(items.map(\.normalized))
        case .lambda(let body):
            kind = .lambda(body.normalized)
        case .unary(let op, let operand):
            kind = .unary(op, operand.normalized)
        case .binary(let op, let left, let right):
            kind = .binary(op, left.normalized, right.normalized)
        case .call(let function, let arguments):
            kind = .call(function: function, arguments: arguments.map(\.normalized))
        case .chain(let left, let op, let name, let arguments):
            kind = .chain(left: left.normalized, op: op, name: name, arguments: arguments.map(\.normalized))
        }
        return Expression(kind, at: SourcePosition(line: 0, column: 0))
    }
}

extension Statement {
    /// The statement reduced to its meaning (see ``Expression/normalized``).
    public var normalized: Statement {
        let zero = SourcePosition(line: 0, column: 0)
        switch kind {
        case .variable(let name, let value):
            return Statement(kind: .variable(name: name, value: value.normalized), position: zero)
        case .expression(let value):
            return Statement(kind: .expression(value.normalized), position: zero)
        case .declaration, .dbrp:
            return Statement(kind: kind, position: zero)
        }
    }
}

extension Program {
    /// The program reduced to its meaning: equal for two scripts that differ only in layout, comments
    /// and redundant parentheses.
    public var normalized: Program {
        Program(statements: statements.map(\.normalized))
    }
}

extension Expression {
    /// The height of the expression's tree: 1 for a literal or a name, one more per enclosing operator,
    /// parenthesis, call, lambda or chain link. Parsed expressions are at most ``Program/maximumDepth``.
    public var depth: Int {
        switch kind {
        case .identifier, .reference, .string, .int, .float, .bool, .duration, .regex, .star:
            return 1
        case .list(let items), .call(_, let items):
            return 1 + (items.map(\.depth).max() ?? 0)
        case .lambda(let inner), .parenthesized(let inner), .unary(_, let inner):
            return 1 + inner.depth
        case .binary(_, let left, let right):
            return 1 + max(left.depth, right.depth)
        case .chain(let left, _, _, let arguments):
            return 1 + max(left.depth, arguments.map(\.depth).max() ?? 0)
        }
    }
}
