import TICKScript
import TockModel

/// Checks a handler property's arguments and turns them into options (the alert node's spec lets any scalar
/// through to handler properties, since the same name takes different types on different handlers).
enum HandlerArguments {
    static func check(_ values: [Value], _ signature: Signature, what: String, at position: SourcePosition) throws {
        let required = signature.required.count
        let maximum = signature.variadic == nil ? required + signature.optional.count : Int.max
        guard values.count >= required, values.count <= maximum else {
            let wanted = (signature.required + signature.optional).map(\.description)
                + (signature.variadic.map { ["\($0)…"] } ?? [])
            throw ScriptError("\(what) takes \(wanted.isEmpty ? "no arguments" : "(\(wanted.joined(separator: ", ")))"), got \(values.count)",
                              at: position)
        }
        for (i, value) in values.enumerated() {
            let type: ArgumentType
            if i < required {
                type = signature.required[i]
            } else if i - required < signature.optional.count {
                type = signature.optional[i - required]
            } else {
                type = signature.variadic!
            }
            guard matches(value, type) else {
                throw ScriptError("\(what): argument \(i + 1) must be a \(type), got \(describe(value))", at: position)
            }
        }
    }

    static func matches(_ value: Value, _ type: ArgumentType) -> Bool {
        switch (value, type) {
        case (.string, .string), (.int, .int), (.float, .float), (.bool, .bool), (.duration, .duration),
             (.regex, .regex), (.lambda, .lambda), (.star, .star), (.int, .number), (.float, .number):
            return true
        case (_, .oneOf(let types)): return types.contains { matches(value, $0) }
        case (.list(let items), .list(let t)): return items.allSatisfy { matches($0, t) }
        default: return false
        }
    }

    static func describe(_ value: Value) -> String {
        switch value {
        case .string: "string"
        case .int: "int"
        case .float: "float"
        case .bool: "bool"
        case .duration: "duration"
        case .regex: "regex"
        case .lambda: "lambda"
        case .star: "star"
        case .list: "list"
        }
    }

    static func option(_ value: Value) -> HandlerOption {
        switch value {
        case .string(let s): .string(s)
        case .int(let i): .int(i)
        case .float(let f): .float(f)
        case .bool(let b): .bool(b)
        case .duration(let d): .duration(d)
        case .regex(let r): .string(r)
        case .lambda(let e): .string("\(e)")
        case .star: .string("*")
        case .list(let items): .list(items.map(option))
        }
    }

    /// The method's positional arguments: one per key; when the method is variadic, the last key takes the rest as
    /// a list (`.email(a, b)` → `to: [a, b]`, `.exec(prog, args…)` → `prog`, `args`).
    static func applyArguments(_ values: [Value], _ signature: Signature, keys: [String],
                               to options: inout [String: HandlerOption]) {
        for (i, key) in keys.enumerated() {
            if i == keys.count - 1 && signature.variadic != nil {
                if values.count > i { options[key] = .list(values[i...].map(option)) }
            } else if i < values.count {
                options[key] = option(values[i])
            }
        }
    }

    static func apply(_ effect: HandlerPropertyEffect, _ values: [Value], to options: inout [String: HandlerOption]) {
        switch effect {
        case .set(let key):
            options[key] = values.first.map(option) ?? .bool(true)
        case .append(let key):
            var list: [HandlerOption] = []
            if case .list(let existing)? = options[key] { list = existing }
            list += values.map(option)
            options[key] = .list(list)
        case .entry(let key):
            guard values.count >= 2, case .string(let k) = values[0] else { return }
            var object: [String: HandlerOption] = [:]
            if case .object(let existing)? = options[key] { object = existing }
            object[k] = option(values[1])
            options[key] = .object(object)
        case .record(let key, let fields):
            var record: [String: HandlerOption] = [:]
            for (i, field) in fields.enumerated() where i < values.count { record[field] = option(values[i]) }
            var list: [HandlerOption] = []
            if case .list(let existing)? = options[key] { list = existing }
            list.append(.object(record))
            options[key] = .list(list)
        }
    }
}
