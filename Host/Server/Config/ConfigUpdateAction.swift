import Alerting
import Foundation

/// The body of `POST /kapacitor/v1/config/{section}[/{element}]`: `set`/`delete` change one element's overrides,
/// `add` creates an element of a list section, `remove` drops overrides (and the elements they created). Checks
/// and messages follow Kapacitor's `updateAction.Validate` and `overridesForUpdateAction`.
struct ConfigUpdateAction: Sendable {
    var section: String
    var element: String
    var set: ConfigTable = [:]
    var delete: [String] = []
    var add: ConfigTable = [:]
    var remove: [String] = []

    init(_ body: JSON, section: String, element: String, hasElement: Bool) throws(ConfigOverrideError) {
        self.section = section
        self.element = element
        guard case .object(let members) = body else { throw ConfigOverrideError("the body must be a JSON object") }
        for (key, value) in members {
            switch key {
            case "set": set = try Self.table(value, key)
            case "add": add = try Self.table(value, key)
            case "delete": delete = try Self.strings(value, key)
            case "remove": remove = try Self.strings(value, key)
            default: break
            }
        }
        try validate(hasElement: hasElement)
    }

    private static func table(_ value: JSON, _ key: String) throws(ConfigOverrideError) -> ConfigTable {
        if value == .null { return [:] }
        guard case .object = value, case .table(let t)? = ConfigJSON.value(value) else {
            throw ConfigOverrideError("\"\(key)\" must be an object of option names to values")
        }
        return t
    }

    private static func strings(_ value: JSON, _ key: String) throws(ConfigOverrideError) -> [String] {
        if value == .null { return [] }
        guard let items = value.arrayValue else { throw ConfigOverrideError("\"\(key)\" must be a list of names") }
        var out: [String] = []
        for item in items {
            guard let s = item.stringValue else { throw ConfigOverrideError("\"\(key)\" must be a list of names") }
            out.append(s)
        }
        return out
    }

    static func isValidName(_ s: String) -> Bool {
        !s.isEmpty && s.unicodeScalars.allSatisfy { CharacterSet.alphanumerics.contains($0) || "-_+".unicodeScalars.contains($0) }
    }

    private func validate(hasElement: Bool) throws(ConfigOverrideError) {
        func invalid(_ m: String) -> ConfigOverrideError { ConfigOverrideError("invalid update action: \(m)") }
        if section.isEmpty { throw invalid("must provide section name") }
        if !Self.isValidName(section) { throw invalid("invalid section name \"\(section)\"") }
        if !element.isEmpty && !Self.isValidName(element) { throw invalid("invalid element name \"\(element)\"") }
        if (!set.isEmpty || !delete.isEmpty) && !(add.isEmpty && remove.isEmpty) {
            throw invalid("cannot provide both set/delete and add/remove actions in the same update")
        }
        if !add.isEmpty && !element.isEmpty { throw invalid("must not provide an element name when adding an a new override") }
        if !remove.isEmpty && !element.isEmpty { throw invalid("must not provide element when removing an override") }
        if remove.isEmpty && add.isEmpty && !hasElement { throw invalid("element not specified, are you missing a trailing '/'?") }
    }

    /// The section's overrides after this action.
    func apply(to existing: [ConfigOverride], spec: ConfigSectionSpec) throws(ConfigOverrideError) -> [ConfigOverride] {
        if !remove.isEmpty {
            let ids = Set(remove.map { ConfigOverride.id(section, $0) })
            return existing.filter { !ids.contains($0.id) }
        }
        var target = element
        if !add.isEmpty {
            guard let key = spec.elementKey else {
                throw ConfigOverrideError("section \"\(section)\" is not a list, cannot add new element")
            }
            guard let value = add[key] else { throw ConfigOverrideError("missing key \"\(key)\" in \"add\" map") }
            guard case .string(let name) = value else {
                throw ConfigOverrideError("expected \"\(key)\" key to be a string, got \(Self.goType(value))")
            }
            target = name
        }
        let id = ConfigOverride.id(section, target)
        var out = existing
        if !add.isEmpty {
            if existing.contains(where: { $0.id == id }) {
                throw ConfigOverrideError("cannot add new override, override already exists for \(id)")
            }
            out.append(ConfigOverride(section: section, element: target, options: add, create: true))
            return out
        }
        var o = existing.first { $0.id == id } ?? ConfigOverride(section: section, element: target)
        for (k, v) in set { o.options[k] = v }
        for k in delete { o.options.removeValue(forKey: k) }
        out.removeAll { $0.id == id }
        out.append(o)
        return out
    }

    /// Go's `%T` of a decoded JSON value.
    static func goType(_ v: ConfigValue) -> String {
        switch v {
        case .string: "string"
        case .int, .float: "float64"
        case .bool: "bool"
        case .array: "[]interface {}"
        case .table: "map[string]interface {}"
        }
    }
}
