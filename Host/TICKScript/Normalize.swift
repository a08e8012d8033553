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
