import TICKScript
import TockModel

/// A compiled `lambda:` expression, evaluated against one point at a time.
///
/// Semantics follow Kapacitor's `tick/stateful`: `"x"` names a field, else a tag, else the evaluation fails
/// with "no field or tag exists for x" (and a name that is both a field and a tag fails, as in Kapacitor); `"time"` is the point's time; ints and floats never mix in arithmetic
/// (`"count" + 1.0` fails: use `float()`), though they compare; `AND`/`OR` short-circuit. Stateful functions
/// (`sigma`, `count`, `spread`) keep their state in this instance: a node keeps one instance per group,
/// made with ``fresh()``.
///
/// A lambda is used on its task's executor only; it is not thread-safe.
public final class Lambda {
    /// The expression the lambda was compiled from (the body of `lambda:`).
    public let expression: Expression
    /// Whether the expression calls a stateful function, so nodes know to keep one instance per group.
    public let isStateful: Bool
    private let root: Compiled

    /// Compiles `expression`. Throws ``ScriptError`` at the offending position for an unknown function, a
    /// wrong number of arguments, or a type error visible without data (`5 + 1.5`, `abs(3)`, `'a' AND TRUE`).
    public init(_ expression: Expression) throws {
        var inner = expression
        while case .lambda(let body) = inner.kind { inner = body }
        var compiler = LambdaCompiler()
        root = try compiler.compile(inner)
        isStateful = compiler.usesState
        self.expression = expression
    }

    private init(copying other: Lambda) {
        expression = other.expression
        isStateful = other.isStateful
        var inner = expression
        while case .lambda(let body) = inner.kind { inner = body }
        var compiler = LambdaCompiler()
        // The same expression compiled once already; compiling is deterministic.
        root = (try? compiler.compile(inner)) ?? other.root
    }

    /// A copy with its own, empty state for stateful functions.
    public func fresh() -> Lambda {
        isStateful ? Lambda(copying: self) : self
    }

    /// Evaluates the expression for a point with this time, fields and tags.
    public func evaluate(time: Timestamp, fields: Fields, tags: Tags) throws -> FieldValue {
        try root.eval(LambdaScope(time: time, fields: fields, tags: tags)).fieldValue()
    }

    public func evaluate(_ point: Point) throws -> FieldValue {
        try evaluate(time: point.time, fields: point.fields, tags: point.tags)
    }

    /// Evaluates a predicate; a result that is not a boolean is an error.
    public func evaluateBool(time: Timestamp, fields: Fields, tags: Tags) throws -> Bool {
        let v = try root.eval(LambdaScope(time: time, fields: fields, tags: tags))
        guard case .bool(let b) = v else {
            throw LambdaError("expression returned unexpected type \(v.type.description), expected boolean")
        }
        return b
    }

    public func evaluateBool(_ point: Point) throws -> Bool {
        try evaluateBool(time: point.time, fields: point.fields, tags: point.tags)
    }

    /// Evaluates an expression that reads no point (an expression outside a lambda, its variables
    /// substituted).
    func evaluateConstant() throws -> LValue {
        try root.eval(LambdaScope(time: 0, fields: Fields(), tags: Tags()))
    }

    /// The static result type's name when it is known without data (`boolean`, `float`, …), else `nil`.
    public var staticTypeName: String? { root.type == .unknown ? nil : root.type.description }
}

/// What a lambda sees of one point.
struct LambdaScope {
    let time: Int64
    let fields: Fields
    let tags: Tags
}

typealias LambdaEval = (LambdaScope) throws -> LValue

/// A compiled sub-expression and its static type.
struct Compiled {
    let eval: LambdaEval
    let type: LType
}

/// Turns an AST expression into closures, checking what can be checked before any data arrives.
struct LambdaCompiler {
    private(set) var usesState = false

    mutating func compile(_ e: Expression) throws -> Compiled {
        switch e.kind {
        case .parenthesized(let inner), .lambda(let inner):
            return try compile(inner)
        case .reference(let name):
            if name == "time" { return Compiled(eval: { .time($0.time) }, type: .time) }
            return Compiled(eval: { s in
                if let v = s.fields[name] {
                    // Kapacitor's fillScope refuses a name that is both a field and a tag of the point.
                    if s.tags[name] != nil { throw LambdaError("cannot have field and tags with same name \"\(name)\"") }
                    return LValue(v)
                }
                if let t = s.tags[name] { return .string(t) }
                throw LambdaError("no field or tag exists for \(name)")
            }, type: .unknown)
        case .int(let v): return constant(.int(v))
        case .float(let v): return constant(.float(v))
        case .string(let v, _): return constant(.string(v))
        case .bool(let v): return constant(.bool(v))
        case .duration(let ns, _): return constant(.duration(ns))
        case .regex(let pattern):
            do {
                return constant(.regex(try CompiledRegex(pattern)))
            } catch let error as LambdaError {
                throw ScriptError(error.message, at: e.position)
            }
        case .identifier(let name):
            throw ScriptError("undefined variable \"\(name)\" in lambda", at: e.position)
        case .star:
            throw ScriptError("'*' cannot be used in a lambda", at: e.position)
        case .list:
            throw ScriptError("a list cannot be used in a lambda", at: e.position)
        case .chain(_, _, let name, _):
            throw ScriptError("a pipeline (\(name)) cannot be used in a lambda", at: e.position)
        case .unary(let op, let operand):
            return try unary(op, operand, at: e.position)
        case .binary(let op, let l, let r):
            return try binary(op, l, r, at: e.position)
        case .call(let function, let arguments):
            return try call(function, arguments, at: e.position)
        }
    }

    private func constant(_ v: LValue) -> Compiled {
        Compiled(eval: { _ in v }, type: v.type)
    }

    private mutating func unary(_ op: UnaryOperator, _ operand: Expression, at position: SourcePosition) throws -> Compiled {
        let c = try compile(operand)
        switch op {
        case .negate:
            if ![.int, .float, .duration, .unknown].contains(c.type) {
                throw ScriptError("invalid argument to '-': \(c.type.description)", at: position)
            }
            return Compiled(eval: { s in
                switch try c.eval(s) {
                case .int(let v): return .int(0 &- v)
                case .float(let v): return .float(-v)
                case .duration(let v): return .duration(0 &- v)
                case let v: throw LambdaError("invalid argument to '-': \(v.type.description)")
                }
            }, type: c.type)
        case .not:
            if ![.bool, .unknown].contains(c.type) {
                throw ScriptError("invalid argument to '!': \(c.type.description)", at: position)
            }
            return Compiled(eval: { s in
                guard case .bool(let b) = try c.eval(s) else { throw LambdaError("invalid argument to '!': not a boolean") }
                return .bool(!b)
            }, type: .bool)
        }
    }

    private mutating func binary(_ op: BinaryOperator, _ l: Expression, _ r: Expression, at position: SourcePosition) throws -> Compiled {
        let lc = try compile(l)
        let rc = try compile(r)
        var type = LType.unknown
        if let ls = Operators.sample(lc.type), let rs = Operators.sample(rc.type) {
            do {
                type = try Operators.binary(op, ls, rs).type
            } catch let error as LambdaError {
                throw ScriptError(error.message, at: position)
            }
        } else if op.isComparison || op == .and || op == .or || op == .regexMatch || op == .regexNotMatch {
            type = .bool
        }
        let le = lc.eval, re = rc.eval
        switch op {
        case .and:
            return Compiled(eval: { s in
                guard case .bool(let a) = try le(s) else { throw Operators.logicalError(op) }
                if !a { return .bool(false) }
                guard case .bool(let b) = try re(s) else { throw Operators.logicalError(op) }
                return .bool(b)
            }, type: .bool)
        case .or:
            return Compiled(eval: { s in
                guard case .bool(let a) = try le(s) else { throw Operators.logicalError(op) }
                if a { return .bool(true) }
                guard case .bool(let b) = try re(s) else { throw Operators.logicalError(op) }
                return .bool(b)
            }, type: .bool)
        default:
            return Compiled(eval: { s in try Operators.binary(op, le(s), re(s)) }, type: type)
        }
    }

    private mutating func call(_ name: String, _ arguments: [Expression], at position: SourcePosition) throws -> Compiled {
        if name == "isPresent" {
            guard arguments.count == 1 else {
                throw ScriptError("isPresent expects exactly one argument, got \(arguments.count)", at: position)
            }
            guard case .reference(let ref) = arguments[0].kind else {
                throw ScriptError("isPresent only accepts a field or tag reference (\"name\")", at: arguments[0].position)
            }
            return Compiled(eval: { s in .bool(ref == "time" || s.fields[ref] != nil || s.tags[ref] != nil) }, type: .bool)
        }
        guard let spec = LambdaFunctions.table[name] else {
            var message = "undefined function \"\(name)\""
            if let close = Suggest.closest(to: name, in: LambdaFunctions.table.keys.sorted() + ["isPresent"]) {
                message += "; did you mean \"\(close)\"?"
            }
            throw ScriptError(message, at: position)
        }
        guard spec.arity.contains(arguments.count) else {
            let want = spec.arity.lowerBound == spec.arity.upperBound
                ? "\(spec.arity.lowerBound)" : "\(spec.arity.lowerBound) to \(spec.arity.upperBound)"
            throw ScriptError("\(name) expects \(want) argument\(spec.arity.upperBound == 1 ? "" : "s"), got \(arguments.count)", at: position)
        }
        var args: [Compiled] = []
        for (i, a) in arguments.enumerated() {
            let c = try compile(a)
            if let expected = spec.argumentTypes?[safe: i], !expected.isEmpty, c.type != .unknown, !expected.contains(c.type) {
                let names = expected.map(\.description).joined(separator: " or ")
                throw ScriptError("cannot pass \(c.type.description) as argument \(i + 1) to \(name), must be \(names)", at: a.position)
            }
            args.append(c)
        }
        var type = spec.returns
        if name == "if", args.count == 3 {
            if args[1].type != .unknown, args[2].type != .unknown, args[1].type != args[2].type {
                throw ScriptError("different return types are not supported: second argument is \(args[1].type.description) and third argument is \(args[2].type.description)", at: position)
            }
            type = args[1].type != .unknown ? args[1].type : args[2].type
        }
        if spec.stateful { usesState = true }
        let function = spec.make()
        let evals = args.map(\.eval)
        switch evals.count {
        case 0:
            return Compiled(eval: { _ in try function([]) }, type: type)
        case 1:
            let a0 = evals[0]
            return Compiled(eval: { s in try function([a0(s)]) }, type: type)
        default:
            return Compiled(eval: { s in
                var values: [LValue] = []
                values.reserveCapacity(evals.count)
                for e in evals { values.append(try e(s)) }
                return try function(values)
            }, type: type)
        }
    }
}

extension BinaryOperator {
    var isComparison: Bool {
        switch self {
        case .equal, .notEqual, .less, .lessOrEqual, .greater, .greaterOrEqual: true
        default: false
        }
    }

    var isMath: Bool {
        switch self {
        case .add, .subtract, .multiply, .divide, .modulo: true
        default: false
        }
    }
}

extension Array {
    subscript(safe i: Int) -> Element? { i >= 0 && i < count ? self[i] : nil }
}
