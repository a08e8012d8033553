import Engine
import TockModel

/// One element of a section with one element per workspace (`[[slack]]`, `[[discord]]`): a name, one element the
/// default, and `global`/`state-changes-only` allowed on the default only (Kapacitor's `Configs.Validate` and
/// `config(workspace)` in services/slack and services/discord).
protocol WorkspaceElement: Sendable {
    init(_ table: ConfigTable) throws(ConfigError)
    var enabled: Bool { get }
    var isDefault: Bool { get set }
    var workspace: String { get }
    var global: Bool { get }
    var stateChangesOnly: Bool { get }
}

/// The workspace rules both sections follow.
enum Workspaces {
    /// The elements of `section`: without a section Kapacitor still has one element, its defaults, disabled; a lone
    /// element is the default.
    static func read<W: WorkspaceElement>(_ elements: [ConfigTable], section: String) throws(ConfigError) -> [W] {
        var list: [W] = []
        for table in elements.isEmpty ? [[:]] : elements { list.append(try W(table)) }
        if list.count == 1 { list[0].isDefault = true }
        if list.count > 1 {
            for w in list where w.workspace.isEmpty { throw ConfigError("[[\(section)]] workspace must not be empty when there are several") }
            guard list.contains(where: \.isDefault) else { throw ConfigError("[[\(section)]] at least one workspace must be set as default") }
        }
        for w in list {
            if w.global && !w.isDefault { throw ConfigError("[[\(section)]] only the default workspace may be global") }
            if w.stateChangesOnly && !(w.isDefault && w.global) {
                throw ConfigError("[[\(section)]] state-changes-only may only be set on the default, global workspace")
            }
        }
        return list
    }

    /// The workspace a handler names (the default when it names none), enabled.
    static func select<W: WorkspaceElement>(_ list: [W], name: String, section: String) throws(HandlerOptionError) -> W {
        guard !list.isEmpty else { throw HandlerOptionError("no [[\(section)]] configuration found") }
        let w: W
        if name.isEmpty {
            guard let d = list.first(where: \.isDefault) else { throw HandlerOptionError("[[\(section)]] has no default workspace") }
            w = d
        } else {
            guard let found = list.first(where: { $0.workspace == name }) else {
                throw HandlerOptionError("\(section) workspace \"\(name)\" is not configured (workspaces: \(list.map(\.workspace).joined(separator: ", ")))",
                                         option: "workspace")
            }
            w = found
        }
        guard w.enabled else { throw ServiceSupport.notEnabled(section, workspace: w.workspace.isEmpty ? nil : w.workspace) }
        return w
    }

    /// The default workspace's global handler, if it is global.
    static func globalHandlers<W: WorkspaceElement>(_ list: [W], kind: String) -> [AlertHandlerSpec] {
        list.first(where: \.isDefault)?.global == true ? [AlertHandlerSpec(kind: kind)] : []
    }

    /// Whether the default workspace is global with state-changes-only.
    static func globalStateChangesOnly<W: WorkspaceElement>(_ list: [W]) -> Bool {
        list.first(where: \.isDefault).map { $0.global && $0.stateChangesOnly } ?? false
    }
}
