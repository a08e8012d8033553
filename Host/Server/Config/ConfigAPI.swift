import Alerting
import Foundation
import HTTPTypes
import Hummingbird
import Storage

/// `/kapacitor/v1/config`: the configuration as Kapacitor's config service shows it, and overrides of it
/// (`services/config/service.go`, `client/API.md` "Configuration").
///
/// Sections shown: `[[influxdb]]` (read-only in Tock: Tock cannot reconnect its clusters live) and the section of
/// every registered alert service. An update to an alert service section rebuilds that service from the file's
/// tables with every stored override laid over them and swaps it into the running ``AlertingService``: handlers
/// opened afterwards (a task enabled, a topic handler added) use the new configuration; nothing restarts. The
/// overrides are stored and laid over the file again at the next start.
struct ConfigAPI: Sendable {
    static let path = TaskAPI.base + "/config"
    let master: TaskMaster
    let configuration: ServerConfiguration
    /// Updates run one at a time: each reads, applies and stores the section's overrides.
    private let updating = NSLock()

    init(master: TaskMaster, configuration: ServerConfiguration) {
        self.master = master
        self.configuration = configuration
    }

    func register(on router: Router<BasicRequestContext>) {
        for route in [Self.path, Self.path + "/**"] {
            router.get(RouterPath(route)) { request, _ in try get(request.uri.path) }
            router.post(RouterPath(route)) { request, _ in
                try update(request.uri.path, try await TockAPI.body(request))
                return Response(status: .noContent)
            }
        }
    }

    // MARK: Reading

    private var overridesAllowed: Bool { !configuration.skipConfigOverrides }

    func checkEnabled() throws(APIError) {
        guard configuration.configOverrideEnabled else { throw APIError(.forbidden, "config override service is not enabled") }
    }

    /// Section, element, and whether the path names them (Kapacitor's `sectionAndElementFromPath`).
    static func parse(_ path: String) -> (section: String, element: String, hasSection: Bool, hasElement: Bool) {
        guard path.hasPrefix(Self.path + "/") else { return ("", "", false, false) }
        let rest = path.dropFirst(Self.path.count + 1)
        let parts = rest.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        let section = parts[0]
        let element = parts.count == 2 ? parts[1] : ""
        return (section, element, true, !element.isEmpty || (!section.isEmpty && path.hasSuffix("/")))
    }

    func get(_ path: String) throws -> Response {
        try checkEnabled()
        let (section, element, hasSection, hasElement) = Self.parse(path)
        if hasSection && section.isEmpty {
            throw APIError(.badRequest, "section not specified, do you have an extra trailing '/'?")
        }
        let sections = try self.sections()
        guard hasSection else {
            return TockAPI.json(.object([("link", Self.link(Self.path)),
                                         ("sections", .object(sections.map { ($0.name, $0.json) }))]))
        }
        guard let found = sections.first(where: { $0.name == section }) else {
            throw APIError(.notFound, "unknown section: \(section)")
        }
        guard hasElement else { return TockAPI.json(found.json) }
        guard let e = found.elements.first(where: { $0.id == element }) else {
            throw APIError(.notFound, "unknown section/element: \(section)/\(element)")
        }
        return TockAPI.json(e.json)
    }

    /// One section as the API shows it.
    struct Section {
        var name: String
        var elements: [Element]
        var json: JSON {
            .object([("link", ConfigAPI.link(ConfigAPI.path + "/" + name)), ("elements", .array(elements.map(\.json)))])
        }
    }

    struct Element {
        var section: String
        var id: String
        var options: ConfigTable
        var redacted: [String]
        var json: JSON {
            .object([("link", ConfigAPI.link(ConfigAPI.path + "/" + section + "/" + id)),
                     ("options", ConfigJSON.json(.table(options))),
                     ("redacted", redacted.isEmpty ? .null : .array(redacted.map { .string($0) }))])
        }
    }

    static func link(_ href: String) -> JSON { .object([("rel", .string("self")), ("href", .string(href))]) }

    /// Every section, by name.
    func sections() throws -> [Section] {
        var out = [Section(name: "influxdb", elements: configuration.influxDB.map {
            Element(section: "influxdb", id: $0.name, options: ConfigJSON.influxDB($0), redacted: ["password"])
        }.sorted { $0.id < $1.id })]
        let overrides = try storedOverrides()
        let live = (master.alertService as? AlertingService)?.services
        for kind in AlertServiceRegistry.kinds where !kind.section.name.isEmpty {
            let spec = kind.section
            let service: any AlertServiceKind
            if let current = live?[kind.kind] {
                service = current
            } else {
                let elements = try ConfigOverrides.apply(overrides.filter { $0.section == spec.name },
                                                         to: ConfigOverrides.baseElements(kind, file: configuration.alertSections[spec.name]),
                                                         kind: kind)
                service = try ConfigOverrides.build(kind, elements, context: "failed to resolve current config")
            }
            let elements = service.elements.map { table in
                Element(section: spec.name, id: ConfigOverrides.elementID(table, spec), options: table,
                        redacted: spec.redacted.filter { table[$0] != nil }.sorted())
            }
            out.append(Section(name: spec.name, elements: elements.sorted { $0.id < $1.id }))
        }
        return out.sorted { $0.name < $1.name }
    }

    func storedOverrides(section: String = "") throws -> [ConfigOverride] {
        guard overridesAllowed else { return [] }
        return try master.store.configOverrides(section: section).map { s throws(ConfigOverrideError) in try ConfigOverride(s) }
    }

    // MARK: Updating

    /// Applies a `{set, delete, add, remove}` update, live, then stores it.
    func update(_ path: String, _ body: JSON) throws {
        try checkEnabled()
        let (section, element, hasSection, hasElement) = Self.parse(path)
        guard hasSection else { throw APIError(.badRequest, "no section specified") }
        let action: ConfigUpdateAction
        do { action = try ConfigUpdateAction(body, section: section, element: element, hasElement: hasElement) } catch {
            throw APIError(.badRequest, "failed to apply update: \(error)")
        }
        if section == "influxdb" {
            throw APIError(.forbidden, "section influxdb cannot be changed while Tock runs: edit [[influxdb]] in kapacitor.conf and restart")
        }
        guard let kind = ConfigOverrides.kind(section: section) else {
            throw APIError(.badRequest, "failed to override configuration \(section)/\(element): unknown section \(section)")
        }
        guard overridesAllowed else {
            throw APIError(.forbidden, "config overrides are off: skip-config-overrides = true in kapacitor.conf")
        }
        try updating.withLock {
            let existing = try storedOverrides(section: section)
            let changed: [ConfigOverride]
            do { changed = try action.apply(to: existing, spec: kind.section) } catch {
                throw APIError(.badRequest, "failed to apply update: \(error)")
            }
            let service: any AlertServiceKind
            do {
                let elements = try ConfigOverrides.apply(changed, to: ConfigOverrides.baseElements(kind, file: configuration.alertSections[section]),
                                                         kind: kind)
                service = try ConfigOverrides.build(kind, elements, context: "failed to override configuration \(section)/\(action.element)")
            } catch {
                throw APIError(.badRequest, "\(error)")
            }
            (master.alertService as? AlertingService)?.replace(service)
            do { try master.store.replaceConfigOverrides(section: section, with: changed.map(\.stored)) } catch {
                throw APIError(.internalServerError, "failed to save override \(section)/\(action.element): \(error)")
            }
        }
    }
}
