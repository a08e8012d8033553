/// A place in a script: 1-based line and column (columns count Unicode scalars), and the UTF-8 offset.
public struct SourcePosition: Sendable, Hashable, CustomStringConvertible {
    public var line: Int
    public var column: Int
    public var offset: Int

    public init(line: Int, column: Int, offset: Int = 0) {
        self.line = line
        self.column = column
        self.offset = offset
    }

    public var description: String { "\(line):\(column)" }
}

/// A whole TICKscript.
public struct Program: Sendable, Hashable {
    public var statements: [Statement]
    /// Comments after the last statement.
    public var trailingComments: [Comment]

    public init(statements: [Statement], trailingComments: [Comment] = []) {
        self.statements = statements
        self.trailingComments = trailingComments
    }
}

/// A `//` comment, its text without the slashes.
public struct Comment: Sendable, Hashable {
    public var text: String
    public var position: SourcePosition
    public init(text: String, position: SourcePosition) {
        self.text = text
        self.position = position
    }
}

/// The types a template variable may be declared with (`var x float`).
public enum DeclaredType: String, Sendable, Hashable, CaseIterable {
    case string, int, float, duration, lambda, regex, bool, star, list
}

public struct Statement: Sendable, Hashable {
    public enum Kind: Sendable, Hashable {
        /// `var name = value`
        case variable(name: String, value: Expression)
        /// `var name type` — a template variable without a default.
        case declaration(name: String, type: DeclaredType)
        /// `dbrp "db"."rp"`
        case dbrp(database: String, retentionPolicy: String)
        /// A bare expression, normally a pipeline chain.
        case expression(Expression)
    }

    public var kind: Kind
    public var position: SourcePosition
    /// Comments on the lines just above the statement.
    public var comments: [Comment]
    /// Where the variable's name is written, for `var` statements (else the statement's position).
    public var namePosition: SourcePosition

    public init(kind: Kind, position: SourcePosition, comments: [Comment] = [], namePosition: SourcePosition? = nil) {
        self.kind = kind
        self.position = position
        self.comments = comments
        self.namePosition = namePosition ?? position
    }
}

public enum UnaryOperator: String, Sendable, Hashable {
    case negate = "-"
    case not = "!"
}

public enum BinaryOperator: String, Sendable, Hashable, CaseIterable {
    case add = "+", subtract = "-", multiply = "*", divide = "/", modulo = "%"
    case equal = "==", notEqual = "!=", less = "<", lessOrEqual = "<=", greater = ">", greaterOrEqual = ">="
    case regexMatch = "=~", regexNotMatch = "!~"
    case and = "AND", or = "OR"
}

/// How a chain link attaches to what is left of it.
public enum ChainOperator: String, Sendable, Hashable {
    /// `|node()` — a new child node.
    case pipe = "|"
    /// `.property()` — a property of the node on the left.
    case dot = "."
    /// `@udf()` — a new child node run by a UDF.
    case at = "@"
}

public struct Expression: Sendable, Hashable {
    public indirect enum Kind: Sendable, Hashable {
        /// A variable or a top-level source (`stream`, `batch`).
        case identifier(String)
        /// A double-quoted field or tag reference inside a lambda: `"value"`.
        case reference(String)
        case string(String, tripleQuoted: Bool)
        case int(Int64)
        case float(Double)
        case bool(Bool)
        /// A duration in nanoseconds and its literal spelling (`5m`, `10s`).
        case duration(nanoseconds: Int64, literal: String)
        /// A regex literal's pattern (between the slashes, escapes as written).
        case regex(String)
        /// `*`
        case star
        /// `[a, b, c]`
        case list([Expression])
        /// `lambda: expr`
        case lambda(Expression)
        case unary(UnaryOperator, Expression)
        case binary(BinaryOperator, Expression, Expression)
        /// A function call inside a lambda: `sigma("value")`.
        case call(function: String, arguments: [Expression])
        /// `left|name(args)`, `left.name(args)` or `left@name(args)`.
        case chain(left: Expression, op: ChainOperator, name: String, arguments: [Expression])
        /// `(expr)`, kept so the formatter can reproduce explicit parentheses.
        case parenthesized(Expression)
    }

    /// How the source laid the expression out, kept so the formatter can reproduce it as `tickfmt` does.
    public struct Layout: Sendable, Hashable {
        /// A call or chain link whose arguments span several lines, or a binary expression whose right
        /// operand starts on a later line than its operator: formatted one item per line.
        public var multiLine: Bool
        /// An integer literal written with a leading `0`, which TICKscript reads as octal (`0600`).
        public var octal: Bool

        public init(multiLine: Bool = false, octal: Bool = false) {
            self.multiLine = multiLine
            self.octal = octal
        }
    }

    public var kind: Kind
    /// Where the construct starts: a chain link at its `|`, `.` or `@`; a binary expression at its left
    /// operand; a call at its function name; a lambda at `lambda:`.
    public var position: SourcePosition
    /// Comments on the lines just above this construct (for a chain link: above its `|`, `.` or `@`).
    public var comments: [Comment]
    public var layout: Layout

    public init(_ kind: Kind, at position: SourcePosition, comments: [Comment] = [], layout: Layout = Layout()) {
        self.kind = kind
        self.position = position
        self.comments = comments
        self.layout = layout
    }
}
