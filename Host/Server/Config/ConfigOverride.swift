import Alerting
import Foundation
import Storage

/// One override of the config API, as Kapacitor's `services/config` keeps them: the options set on one element of a
/// section, or (`create`) an element added to a list section.
struct ConfigOverride: Sendable, Equatable {
    var section: String
    /// The element's ID (its element-key value); empty for a section of one element.
    var element: String
    var options: ConfigTable
    var create: Bool

    /// `section/element`, `section/` for the element of a one-element section (Kapacitor's override ID).
    var id: String { Self.id(section, element) }

    static func id(_ section: String, _ element: String) -> String { section + "/" + element }

    init(section: String, element: String, options: ConfigTable = [:], create: Bool = false) {
        self.section = section
        self.element = element
        self.options = options
        self.create = create
    }

    init(_ stored: StoredConfigOverride) throws(ConfigOverrideError) {
        let parts = stored.id.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
        section = parts[0]
        element = parts.count > 1 ? parts[1] : ""
        create = stored.create
        guard case .object(let members) = (try? JSON.parse(Array(stored.options.utf8))) ?? .null else {
            throw ConfigOverrideError("stored override \(stored.id) is not a JSON object: \(stored.options)")
        }
        var table: ConfigTable = [:]
        for (k, v) in members { if let value = ConfigJSON.value(v) { table[k] = value } }
        options = table
    }

    var stored: StoredConfigOverride {
        StoredConfigOverride(id: id, options: ConfigJSON.json(.table(options)).serialized, create: create)
    }
}

/// A config update or override that cannot apply; the message is Kapacitor's where it has one.
struct ConfigOverrideError: Error, Sendable, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// The alert service sections as the config API sees them: the file's tables with the overrides laid over them.
enum ConfigOverrides {
    /// The section's raw elements before any override: the file's tables, or the service's default elements when
    /// the file has none (`[[slack]]` always has its default workspace).
    static func baseElements(_ kind: any AlertServiceKind.Type, file: [ConfigTable]?) -> [ConfigTable] {
        if let file, !file.isEmpty { return file }
        guard let defaults = try? kind.init(elements: []) else { return [] }
        return defaults.elements.map { table in
            guard let key = kind.section.elementKey, case .string(let id)? = table[key], !id.isEmpty else { return [:] }
            return [key: .string(id)]
        }
    }

    /// The ID of an element table: its element-key value, or empty.
    static func elementID(_ table: ConfigTable, _ spec: ConfigSectionSpec) -> String {
        guard let key = spec.elementKey, case .string(let id)? = table[key] else { return "" }
        return id
    }

    /// `elements` with `overrides` (all of one section) applied in ID order, as Kapacitor's `OverrideConfig` applies
    /// them: an override sets options of the element with its ID, a `create` override appends an element.
    static func apply(_ overrides: [ConfigOverride], to elements: [ConfigTable], kind: any AlertServiceKind.Type)
        throws(ConfigOverrideError) -> [ConfigTable] {
        let spec = kind.section
        let known = knownKeys(kind)
        var out = elements
        for o in overrides.sorted(by: { $0.id < $1.id }) {
            let context = "failed to override configuration \(o.section)/\(o.create ? "" : o.element)"
            let unknown = o.options.keys.filter { !known.contains($0) }.sorted()
            if !unknown.isEmpty {
                throw ConfigOverrideError("\(context): unknown options [\(unknown.joined(separator: " "))] in section \(o.section)")
            }
            if o.create {
                let id = o.element
                if out.contains(where: { elementID($0, spec) == id }) {
                    throw ConfigOverrideError("\(context): section \"\(o.section)\" has duplicate elements: \"\(id)\"")
                }
                out.append(o.options)
                continue
            }
            if let key = spec.elementKey, o.options[key] != nil {
                throw ConfigOverrideError("\(context): cannot override element key \(key)")
            }
            guard let index = out.firstIndex(where: { elementID($0, spec) == o.element }) else {
                throw ConfigOverrideError("\(context): unknown element \"\(o.element)\" in section \(o.section)")
            }
            for (k, v) in o.options { out[index][k] = v }
        }
        return out
    }

    /// The keys the section's elements have: those its `GET /config` view shows.
    /// A list section without elements by default (`[[mqtt]]`, `[[kafka]]`, `[[httppost]]`) is probed with one.
    static func knownKeys(_ kind: any AlertServiceKind.Type) -> Set<String> {
        var probes: [[ConfigTable]] = [[]]
        if let key = kind.section.elementKey {
            probes += [[[key: .string("probe")]], [[key: .string("probe"), "url": .string("http://127.0.0.1/")]]]
        }
        var keys: Set<String> = []
        for probe in probes {
            guard let elements = try? kind.init(elements: probe).elements, !elements.isEmpty else { continue }
            keys = Set(elements.flatMap(\.keys))
            break
        }
        if let key = kind.section.elementKey { keys.insert(key) }
        return keys
    }

    /// Builds the service from its overridden elements; a refusal names the element.
    static func build(_ kind: any AlertServiceKind.Type, _ elements: [ConfigTable], context: String)
        throws(ConfigOverrideError) -> any AlertServiceKind {
        do { return try kind.init(elements: elements) } catch {
            throw ConfigOverrideError("\(context): failed validation: \(error.message)")
        }
    }

    /// The registered alert service whose section is `name`.
    static func kind(section name: String) -> (any AlertServiceKind.Type)? {
        AlertServiceRegistry.kinds.first { !$0.section.name.isEmpty && $0.section.name == name }
    }

    /// The alert sections with the stored overrides applied (the daemon's start).
    static func applied(_ sections: [String: [ConfigTable]], overrides: [ConfigOverride])
        throws(ConfigOverrideError) -> [String: [ConfigTable]] {
        var out = sections
        for (section, list) in Dictionary(grouping: overrides, by: \.section) {
            guard let kind = kind(section: section) else {
                throw ConfigOverrideError("stored config override \(list[0].id): no section \(section) can be overridden in Tock")
            }
            out[section] = try apply(list, to: baseElements(kind, file: sections[section]), kind: kind)
        }
        return out
    }
}

extension ServerConfiguration {
    /// This configuration with the overrides the config API stored laid over its alert service sections, unless
    /// `skip-config-overrides` is set (Kapacitor then starts from the file alone).
    public func applyingConfigOverrides(from store: Store) throws(ConfigurationError) -> ServerConfiguration {
        guard !skipConfigOverrides else { return self }
        var copy = self
        do {
            let overrides = try store.configOverrides().map { s throws(ConfigOverrideError) in try ConfigOverride(s) }
            copy.alertSections = try ConfigOverrides.applied(alertSections, overrides: overrides)
        } catch {
            throw ConfigurationError("config overrides in \(store.path): \(error) (set skip-config-overrides = true to start without them)")
        }
        return copy
    }
}
