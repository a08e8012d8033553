/// A value a task supplies for a script variable: one entry of Kapacitor's task `vars`,
/// `{"name": {"type": "float", "value": 0.5}}`.
public enum VariableValue: Sendable, Hashable {
    case bool(Bool)
    case int(Int64)
    case float(Double)
    case duration(nanoseconds: Int64)
    case string(String)
    /// A regex pattern, without slashes.
    case regex(String)
    /// A lambda's body as text, without `lambda:` (the API's form: `"\"value\" > 10"`).
    case lambda(String)
    case star
    /// Items are strings or `star`, as in a script's `['host', *]`.
    case list([VariableValue])

    public var type: DeclaredType {
        switch self {
        case .bool: .bool
        case .int: .int
        case .float: .float
        case .duration: .duration
        case .string: .string
        case .regex: .regex
        case .lambda: .lambda
        case .star: .star
        case .list: .list
        }
    }
}

/// A variable a task may set through `vars`: a typed declaration (`var crit lambda`) or a `var` whose value
/// is a literal, lambda, star or list. Variables holding pipelines are not settable.
public struct TemplateVariable: Sendable, Hashable {
    public var name: String
    public var type: DeclaredType
    /// The value the script gives it; nil for a declaration, which every task must set.
    public var defaultValue: Expression?
    /// The comment above the `var`, which Kapacitor shows as the variable's description.
    public var description: String
    /// Where the variable's name is written.
    public var position: SourcePosition
}

/// The variables of a program by name, for the engine to resolve identifiers while building a pipeline.
/// Build it from a program that has passed ``Program/check(predefined:)`` (and, for a task from a
/// template, ``Program/applying(vars:)``), so every name it is asked about is defined.
public struct Scope: Sendable {
    private var values: [String: Expression] = [:]
    private var statements: [String: Statement] = [:]

    public init(_ program: Program) {
        for statement in program.statements {
            if case .variable(let name, let value) = statement.kind {
                values[name] = value
                statements[name] = statement
            }
        }
    }

    /// The expression a `var` assigns to `name`; nil for undefined names, `stream`, `batch`, and declarations
    /// without a value.
    public subscript(name: String) -> Expression? { values[name] }

    /// The `var` statement that defines `name`.
    public func definition(of name: String) -> Statement? { statements[name] }
}

extension Program {
    /// The variables a task may set through `vars`, in script order.
    /// A variable whose value is an expression of constants (`var id = name + ':{{.Group}}'`) is settable
    /// too, with the type the expression has, as Kapacitor lists every variable whose value has a type.
    public var templateVariables: [TemplateVariable] {
        var types: [String: DeclaredType] = [:]
        return statements.compactMap { statement in
            let description = statement.comments.map(\.text).joined(separator: "\n")
            switch statement.kind {
            case .declaration(let name, let type):
                types[name] = type
                return TemplateVariable(
                    name: name, type: type, defaultValue: nil, description: description, position: statement.namePosition)
            case .variable(let name, let value):
                guard let type = value.constantType(variables: types) else { return nil }
                types[name] = type
                return TemplateVariable(
                    name: name, type: type, defaultValue: value, description: description, position: statement.namePosition)
            default:
                return nil
            }
        }
    }

    /// The program with a task's `vars` in place of the script's values: each supplied variable's `var`
    /// takes the supplied value, and typed declarations become `var` statements.
    /// - Throws: ``ScriptError`` when a declared variable gets no value, a value's type differs from the
    ///   variable's, `vars` names a variable the script does not define or one that holds a pipeline, or a
    ///   lambda's text does not parse. The error is at the variable's name in the script.
    public func applying(vars: [String: VariableValue]) throws(ScriptError) -> Program {
        let settable = Dictionary(templateVariables.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
        for name in vars.keys.sorted() where settable[name] == nil {
            let definition = statements.first {
                if case .variable(name, _) = $0.kind { return true } else { return false }
            }
            if let definition {
                throw ScriptError(
                    "variable \"\(name)\" cannot be set through vars: its value is not a literal, lambda or list",
                    at: definition.namePosition)
            }
            throw ScriptError("vars sets \"\(name)\", which the script does not define", at: SourcePosition(line: 1, column: 1))
        }
        var result = self
        for (i, statement) in statements.enumerated() {
            let name: String
            switch statement.kind {
            case .declaration(let declared, _), .variable(let declared, _): name = declared
            default: continue
            }
            guard let variable = settable[name] else { continue }
            guard let supplied = vars[name] else {
                if variable.defaultValue == nil {
                    throw ScriptError(
                        "template variable \"\(name)\" (\(variable.type.rawValue)) has no value; the task must set it in vars",
                        at: variable.position)
                }
                continue
            }
            guard supplied.type == variable.type else {
                throw ScriptError(
                    "variable \"\(name)\" is \(variable.type.withArticle), but vars gives it \(supplied.type.withArticle)",
                    at: variable.position)
            }
            let value = try supplied.expression(for: name, at: variable.position)
            result.statements[i].kind = .variable(name: name, value: value)
        }
        return result
    }
}

extension Expression {
    /// The template-variable type of a literal value (`5m` is a duration, `-1` an int, `lambda: ...` a
    /// lambda); nil for anything else, such as a pipeline.
    public var literalType: DeclaredType? {
        switch kind {
        case .string: .string
        case .int: .int
        case .float: .float
        case .bool: .bool
        case .duration: .duration
        case .regex: .regex
        case .star: .star
        case .list: .list
        case .lambda: .lambda
        case .unary(.negate, let operand), .parenthesized(let operand):
            [.int, .float, .duration].contains(operand.literalType) ? operand.literalType : nil
        default: nil
        }
    }
}

extension Expression {
    /// The type of a literal, or of an expression of literals and the variables in `variables`, by
    /// Kapacitor's rules (those of lambdas): nil for anything else, or an expression whose operand types do
    /// not fit (the build reports that one with its position).
    public func constantType(variables: [String: DeclaredType]) -> DeclaredType? {
        if let t = literalType { return t }
        switch kind {
        case .identifier(let name):
            return variables[name]
        case .parenthesized(let inner):
            return inner.constantType(variables: variables)
        case .unary(.negate, let operand):
            let t = operand.constantType(variables: variables)
            return [.int, .float, .duration].contains(t) ? t : nil
        case .unary(.not, let operand):
            return operand.constantType(variables: variables) == .bool ? .bool : nil
        case .binary(let op, let left, let right):
            guard let l = left.constantType(variables: variables), let r = right.constantType(variables: variables)
            else { return nil }
            return Self.resultType(op, l, r)
        default:
            return nil
        }
    }

    private static func resultType(_ op: BinaryOperator, _ l: DeclaredType, _ r: DeclaredType) -> DeclaredType? {
        switch op {
        case .and, .or:
            return l == .bool && r == .bool ? .bool : nil
        case .equal, .notEqual, .less, .lessOrEqual, .greater, .greaterOrEqual:
            let numbers: Set<DeclaredType> = [.int, .float]
            return l == r || (numbers.contains(l) && numbers.contains(r)) ? .bool : nil
        case .regexMatch, .regexNotMatch:
            return l == .string && r == .regex ? .bool : nil
        case .add, .subtract, .multiply, .divide, .modulo:
            switch (l, r, op) {
            case (.string, .string, .add): return .string
            case (.int, .int, _): return .int
            case (.float, .float, .add), (.float, .float, .subtract), (.float, .float, .multiply), (.float, .float, .divide):
                return .float
            case (.duration, .duration, .add), (.duration, .duration, .subtract): return .duration
            case (.duration, .duration, .divide): return .int
            case (.duration, .int, .multiply), (.duration, .int, .divide), (.int, .duration, .multiply): return .duration
            default: return nil
            }
        }
    }

    /// The value of a literal as the API's vars give it (a template variable's default); nil for anything
    /// that is not a literal, a lambda or a list of them.
    public var variableValue: VariableValue? {
        switch kind {
        case .string(let s, _): .string(s)
        case .int(let i): .int(i)
        case .float(let d): .float(d)
        case .bool(let b): .bool(b)
        case .duration(let ns, _): .duration(nanoseconds: ns)
        case .regex(let pattern): .regex(pattern)
        case .star: .star
        case .lambda(let body): .lambda(body.formatted())
        case .list(let items):
            items.allSatisfy({ $0.variableValue != nil }) ? .list(items.compactMap(\.variableValue)) : nil
        case .parenthesized(let operand): operand.variableValue
        case .unary(.negate, let operand):
            switch operand.variableValue {
            case .int(let i)?: .int(-i)
            case .float(let d)?: .float(-d)
            case .duration(let ns)?: .duration(nanoseconds: -ns)
            default: nil
            }
        default: nil
        }
    }

    /// The expression with every position set to `position`: for code that came from outside the script,
    /// such as a lambda given in vars, so errors point at the variable it was given for.
    func placed(at position: SourcePosition) -> Expression {
        var e = self
        e.position = position
        switch kind {
        case .list(let items): e.kind = .list(items.map { $0.placed(at: position) })
        case .lambda(let body): e.kind = .lambda(body.placed(at: position))
        case .unary(let op, let operand): e.kind = .unary(op, operand.placed(at: position))
        case .parenthesized(let inner): e.kind = .parenthesized(inner.placed(at: position))
        case .binary(let op, let left, let right): e.kind = .binary(op, left.placed(at: position), right.placed(at: position))
        case .call(let function, let arguments):
            e.kind = .call(function: function, arguments: arguments.map { $0.placed(at: position) })
        case .chain(let left, let op, let name, let arguments):
            e.kind = .chain(left: left.placed(at: position), op: op, name: name, arguments: arguments.map { $0.placed(at: position) })
        default: break
        }
        return e
    }
}

extension VariableValue {
    /// The value as an expression placed at `position`.
    func expression(for name: String, at position: SourcePosition) throws(ScriptError) -> Expression {
        let kind: Expression.Kind
        switch self {
        case .bool(let value): kind = .bool(value)
        case .int(let value): kind = .int(value)
        case .float(let value): kind = .float(value)
        case .duration(let nanoseconds): kind = .duration(nanoseconds: nanoseconds, literal: "")
        case .string(let value): kind = .string(value, tripleQuoted: false)
        case .regex(let pattern): kind = .regex(pattern)
        case .star: kind = .star
        case .lambda(let text):
            do {
                kind = .lambda(try Program.parseLambda(text).placed(at: position))
            } catch {
                throw ScriptError("the lambda vars gives \"\(name)\" does not parse: \(error)", at: position)
            }
        case .list(let items):
            var expressions: [Expression] = []
            for item in items {
                guard item.type == .string || item.type == .star else {
                    throw ScriptError(
                        "the list vars gives \"\(name)\" holds \(item.type.withArticle); lists hold strings and *", at: position)
                }
                expressions.append(try item.expression(for: name, at: position))
            }
            kind = .list(expressions)
        }
        return Expression(kind, at: position)
    }
}

extension DeclaredType {
    /// "a string", "an int".
    var withArticle: String { (self == .int ? "an " : "a ") + rawValue }
}
