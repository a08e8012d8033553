extension Program {
    /// The names every task script may use without defining them: Kapacitor's two sources.
    public static let predefinedNames: Set<String> = ["stream", "batch"]

    /// Checks what needs no knowledge of the engine's nodes: every variable is defined before it is used
    /// (suggesting the closest defined name), no variable is defined twice, and double-quoted field
    /// references appear only inside lambdas.
    /// - Parameter predefined: names usable without a `var`, by default `stream` and `batch`.
    /// - Throws: the first problem, as a ``ScriptError`` at the offending name.
    public func check(predefined: Set<String> = Program.predefinedNames) throws(ScriptError) {
        var defined: [String: SourcePosition] = [:]
        for statement in statements {
            switch statement.kind {
            case .variable(let name, let value):
                try Self.checkReferences(in: value, defined: defined, predefined: predefined, inLambda: false)
                try Self.define(name, at: statement.namePosition, in: &defined, predefined: predefined)
            case .declaration(let name, _):
                try Self.define(name, at: statement.namePosition, in: &defined, predefined: predefined)
            case .dbrp:
                break
            case .expression(let value):
                try Self.checkReferences(in: value, defined: defined, predefined: predefined, inLambda: false)
            }
        }
    }

    private static func define(
        _ name: String, at position: SourcePosition, in defined: inout [String: SourcePosition], predefined: Set<String>
    ) throws(ScriptError) {
        let namePosition = position
        if predefined.contains(name) {
            throw ScriptError("cannot define a variable named \"\(name)\": the name is predefined", at: namePosition)
        }
        if let first = defined[name] {
            throw ScriptError(
                "variable \"\(name)\" is already defined at \(first); variables cannot be redefined", at: namePosition)
        }
        defined[name] = namePosition
    }

    private static func checkReferences(
        in expression: Expression, defined: [String: SourcePosition], predefined: Set<String>, inLambda: Bool
    ) throws(ScriptError) {
        func recurse(_ child: Expression, lambda: Bool = inLambda) throws(ScriptError) {
            try checkReferences(in: child, defined: defined, predefined: predefined, inLambda: lambda)
        }
        switch expression.kind {
        case .identifier(let name):
            guard defined[name] == nil, !predefined.contains(name) else { return }
            var message = "undefined variable \"\(name)\""
            if ["TRUE", "FALSE", "AND", "OR"].contains(name.uppercased()) {
                message += "; TICKscript writes \(name.uppercased()) in capitals"
            } else if let suggestion = closest(to: name, in: Array(defined.keys) + predefined.sorted()) {
                message += "; did you mean \"\(suggestion)\"?"
            }
            throw ScriptError(message, at: expression.position)
        case .reference(let name):
            if !inLambda {
                throw ScriptError(
                    "field reference \"\(name)\" is only allowed inside a lambda; use a single-quoted string '\(name)' here",
                    at: expression.position)
            }
        case .string, .int, .float, .bool, .duration, .regex, .star:
            return
        case .list(let items):
            for item in items { try recurse(item) }
        case .lambda(let body):
            try recurse(body, lambda: true)
        case .unary(_, let operand), .parenthesized(let operand):
            try recurse(operand)
        case .binary(_, let left, let right):
            try recurse(left)
            try recurse(right)
        case .call(_, let arguments):
            for argument in arguments { try recurse(argument) }
        case .chain(let left, _, _, let arguments):
            try recurse(left)
            for argument in arguments { try recurse(argument) }
        }
    }
}
