import Engine
import Foundation
import TICKScript
import TockModel

/// Kapacitor's task `vars` JSON (`{"name": {"type": "float", "value": 0.5}}`) to and from script values.
enum TaskVars {
    /// Reads a `vars` object; errors name the variable.
    static func parse(_ json: JSON) throws(APIError) -> [String: VariableValue] {
        guard let members = json.objectValue else {
            if json == .null { return [:] }
            throw APIError(.badRequest, "vars must be an object")
        }
        var result: [String: VariableValue] = [:]
        for (name, v) in members {
            result[name] = try value(v, name: name)
        }
        return result
    }

    static func value(_ v: JSON, name: String) throws(APIError) -> VariableValue {
        guard let type = v["type"]?.stringValue else {
            throw APIError(.badRequest, "var \(name): missing \"type\"")
        }
        let value = v["value"] ?? .null
        func bad() -> APIError { APIError(.badRequest, "var \(name): invalid value \(value.serialized) for type \(type)") }
        switch type {
        case "bool":
            guard let b = value.boolValue else { throw bad() }
            return .bool(b)
        case "int":
            guard let i = value.int64Value else { throw bad() }
            return .int(i)
        case "float":
            guard let d = value.doubleValue else { throw bad() }
            return .float(d)
        case "duration":
            if let ns = value.int64Value { return .duration(nanoseconds: ns) }
            guard let s = value.stringValue, let ns = GoDuration.parse(s, days: true) else { throw bad() }
            return .duration(nanoseconds: ns)
        case "string":
            guard let s = value.stringValue else { throw bad() }
            return .string(s)
        case "regex":
            guard let s = value.stringValue else { throw bad() }
            return .regex(s)
        case "lambda":
            guard let s = value.stringValue else { throw bad() }
            return .lambda(s)
        case "star":
            return .star
        case "list":
            guard let items = value.arrayValue else { throw bad() }
            var list: [VariableValue] = []
            for item in items { list.append(try self.value(item, name: name)) }
            return .list(list)
        default:
            throw APIError(.badRequest, "var \(name): unknown type \"\(type)\"")
        }
    }

    /// The JSON form of a variable value.
    /// A built value as a template variable's value; nil for what vars cannot hold.
    static func variableValue(_ value: Value) -> VariableValue? {
        switch value {
        case .string(let s): .string(s)
        case .int(let i): .int(i)
        case .float(let f): .float(f)
        case .bool(let b): .bool(b)
        case .duration(let d): .duration(nanoseconds: d)
        case .regex(let r): .regex(r)
        case .star: .star
        case .lambda(let e): .lambda(e.formatted())
        case .list(let items):
            items.allSatisfy({ variableValue($0) != nil }) ? .list(items.compactMap(variableValue)) : nil
        }
    }

    static func json(_ value: VariableValue) -> JSON {
        let (type, v): (String, JSON) = switch value {
        case .bool(let b): ("bool", .bool(b))
        case .int(let i): ("int", .int(i))
        case .float(let d): ("float", .double(d))
        case .duration(let ns): ("duration", .string(GoDuration.format(ns)))
        case .string(let s): ("string", .string(s))
        case .regex(let s): ("regex", .string(s))
        case .lambda(let s): ("lambda", .string(s))
        case .star: ("star", .string(""))
        case .list(let items): ("list", .array(items.map(json)))
        }
        return .object([("type", .string(type)), ("value", v)])
    }

    /// The JSON object of a set of vars, keys sorted.
    static func json(_ vars: [String: VariableValue]) -> JSON {
        .object(vars.keys.sorted().map { ($0, json(vars[$0]!)) })
    }
}
