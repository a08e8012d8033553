import TICKScript
import TockModel

/// Expressions outside lambdas (`name + ':{{.Group}}'`, `5m * 2`, `-x`, `period / 5`, `!flag`), evaluated
/// once when the script is built.
///
/// Kapacitor's `tick/eval.go` hands such an expression, its identifiers resolved, to the same evaluator
/// lambdas use, with an empty scope; so the typing is a lambda's: strings concatenate with `+`, ints and
/// floats never mix in arithmetic (`5 * 2.0` is an error), a duration times or divided by an int is a
/// duration, a duration divided by a duration is an int, comparisons and `AND`/`OR` give booleans.
extension BuildState {
    func constant(_ e: Expression) throws -> Value {
        try checkConstant(e)
        let substituted = try substitute(e)
        let lambda = try Lambda(substituted)
        do {
            return try Self.value(of: lambda.evaluateConstant(), at: e.position)
        } catch let error as LambdaError {
            throw ScriptError(error.message, at: e.position)
        }
    }

    /// Refuses what an expression outside a lambda cannot hold: field references, and variables holding
    /// nodes, lambdas, lists or `*`.
    private func checkConstant(_ e: Expression) throws {
        switch e.kind {
        case .reference(let name):
            throw ScriptError(
                "field or tag reference \"\(name)\" is only allowed inside a lambda; write '\(name)' for a string",
                at: e.position)
        case .identifier(let name):
            switch scope[name] {
            case .node?:
                throw ScriptError("\"\(name)\" is a node and cannot be used in an expression", at: e.position)
            case .value(let v)?:
                switch v {
                case .lambda, .list, .star:
                    throw ScriptError(
                        "\"\(name)\" holds a \(Self.typeName(v)), which cannot be used in an expression outside a lambda",
                        at: e.position)
                default: return
                }
            case nil:
                throw ScriptError("undefined variable \"\(name)\"", at: e.position)
            }
        case .lambda:
            throw ScriptError("a lambda cannot be an operand outside a lambda", at: e.position)
        case .list, .star:
            throw ScriptError("a list or * cannot be an operand", at: e.position)
        case .chain:
            throw ScriptError("a pipeline cannot be used as a value here", at: e.position)
        case .unary(_, let x), .parenthesized(let x):
            try checkConstant(x)
        case .binary(_, let l, let r):
            try checkConstant(l)
            try checkConstant(r)
        case .call(_, let arguments):
            for a in arguments { try checkConstant(a) }
        case .string, .int, .float, .bool, .duration, .regex:
            return
        }
    }

    private static func value(of v: LValue, at position: SourcePosition) throws -> Value {
        switch v {
        case .float(let f): return .float(f)
        case .int(let i): return .int(i)
        case .string(let s): return .string(s)
        case .bool(let b): return .bool(b)
        case .duration(let d): return .duration(d)
        case .regex(let r): return .regex(r.pattern)
        case .time:
            throw ScriptError("a time cannot be used as a value outside a lambda", at: position)
        }
    }
}

extension TaskBuilder {
    /// The value of every script variable that holds a constant (a literal or an expression of constants,
    /// such as `var id = name + ':{{.Group}}'`), in script order, as the build would see it: for the API to
    /// show a variable's default value. Variables that hold nodes, and any whose value does not evaluate,
    /// are left out.
    public func constants(of program: Program) -> [String: Value] {
        var state = BuildState(builder: self)
        var result: [String: Value] = [:]
        for statement in program.statements {
            switch statement.kind {
            case .variable(let name, let expression):
                if case .chain = expression.kind { continue }
                if case .identifier(let source) = expression.kind, source == "stream" || source == "batch" { continue }
                guard let v = try? state.value(expression) else { continue }
                state.scope[name] = .value(v)
                result[name] = v
            case .declaration(let name, _):
                if let v = variables[name] {
                    state.scope[name] = .value(v)
                    result[name] = v
                }
            default:
                continue
            }
        }
        return result
    }
}
