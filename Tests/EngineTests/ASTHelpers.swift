import TICKScript

/// Small builders for ASTs in tests, so lambda and builder tests do not depend on the parser.
enum AST {
    static func at(_ line: Int, _ column: Int) -> SourcePosition { SourcePosition(line: line, column: column) }
    static let p0 = SourcePosition(line: 1, column: 1)

    static func ref(_ name: String, _ pos: SourcePosition = p0) -> Expression { Expression(.reference(name), at: pos) }
    static func int(_ v: Int64, _ pos: SourcePosition = p0) -> Expression { Expression(.int(v), at: pos) }
    static func float(_ v: Double, _ pos: SourcePosition = p0) -> Expression { Expression(.float(v), at: pos) }
    static func str(_ v: String, _ pos: SourcePosition = p0) -> Expression { Expression(.string(v, tripleQuoted: false), at: pos) }
    static func bool(_ v: Bool) -> Expression { Expression(.bool(v), at: p0) }
    static func dur(_ ns: Int64, _ literal: String = "") -> Expression { Expression(.duration(nanoseconds: ns, literal: literal), at: p0) }
    static func regex(_ p: String) -> Expression { Expression(.regex(p), at: p0) }
    static func ident(_ name: String, _ pos: SourcePosition = p0) -> Expression { Expression(.identifier(name), at: pos) }
    static func star() -> Expression { Expression(.star, at: p0) }
    static func list(_ items: [Expression]) -> Expression { Expression(.list(items), at: p0) }
    static func lambda(_ body: Expression) -> Expression { Expression(.lambda(body), at: body.position) }
    static func not(_ e: Expression) -> Expression { Expression(.unary(.not, e), at: e.position) }
    static func neg(_ e: Expression) -> Expression { Expression(.unary(.negate, e), at: e.position) }
    static func bin(_ op: BinaryOperator, _ l: Expression, _ r: Expression, _ pos: SourcePosition = p0) -> Expression {
        Expression(.binary(op, l, r), at: pos)
    }
    static func call(_ f: String, _ args: Expression..., at pos: SourcePosition = p0) -> Expression {
        Expression(.call(function: f, arguments: args), at: pos)
    }
    static func chain(_ left: Expression, _ op: ChainOperator, _ name: String, _ args: [Expression] = [], at pos: SourcePosition = p0) -> Expression {
        Expression(.chain(left: left, op: op, name: name, arguments: args), at: pos)
    }
}
