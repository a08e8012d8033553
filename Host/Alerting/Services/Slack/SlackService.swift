import AsyncHTTPClient
import Engine

/// `[[slack]]`: one element per Slack workspace (Kapacitor's `services/slack/config.go`).
public struct SlackService: AlertServiceKind {
    public static let kind = "slack"
    public static let section = ConfigSectionSpec("slack", repeatable: true, elementKey: "workspace", redacted: ["url", "token"])

    /// One `[[slack]]` element.
    public struct Workspace: Sendable {
        public var enabled = false
        public var isDefault = false
        public var workspace = ""
        /// The incoming-webhook URL, or `https://slack.com/api/chat.postMessage` with a `token`.
        public var url = ""
        /// An OAuth token, sent as `Authorization: Bearer <token>`.
        public var token = ""
        public var channel = ""
        public var username = "kapacitor"
        public var iconEmoji = ""
        public var global = false
        public var stateChangesOnly = false
        var tls = TLSSettings()
        let client: HTTPClient

        init(_ table: ConfigTable) throws(ConfigError) {
            var r = ConfigReader(table, section: SlackService.section.name)
            enabled = try r.bool("enabled")
            isDefault = try r.bool("default")
            workspace = try r.string("workspace")
            url = try r.string("url")
            token = try r.string("token")
            channel = try r.string("channel")
            username = try r.string("username", default: "kapacitor")
            if username.isEmpty { username = "kapacitor" }
            iconEmoji = try r.string("icon-emoji")
            global = try r.bool("global")
            stateChangesOnly = try r.bool("state-changes-only")
            tls = try TLSSettings(&r)
            try r.finish()
            if enabled && url.isEmpty { throw ConfigError("[[slack]] workspace \"\(workspace)\": must specify url") }
            if !url.isEmpty { try ServiceSupport.checkURL(url, key: "url", section: "slack") }
            client = try tls.client(section: "slack")
        }
    }

    /// The workspaces in configuration order.
    public let workspaces: [Workspace]

    public init(elements: [ConfigTable]) throws(ConfigError) {
        var list: [Workspace] = []
        // Without a section Kapacitor still has one element: its defaults, disabled.
        for table in elements.isEmpty ? [[:]] : elements { list.append(try Workspace(table)) }
        if list.count == 1 { list[0].isDefault = true }
        if list.count > 1 {
            for w in list where w.workspace.isEmpty { throw ConfigError("[[slack]] workspace must not be empty when there are several") }
            guard list.contains(where: \.isDefault) else { throw ConfigError("[[slack]] at least one workspace must be set as default") }
        }
        for w in list {
            if w.global && !w.isDefault { throw ConfigError("[[slack]] only the default workspace may be global") }
            if w.stateChangesOnly && !(w.isDefault && w.global) {
                throw ConfigError("[[slack]] state-changes-only may only be set on the default, global workspace")
            }
        }
        workspaces = list
    }

    public var elements: [ConfigTable] {
        workspaces.map { w in
            var t: ConfigTable = [
                "enabled": .bool(w.enabled), "default": .bool(w.isDefault), "workspace": .string(w.workspace),
                "url": ServiceSupport.redacted(w.url), "token": ServiceSupport.redacted(w.token),
                "channel": .string(w.channel), "username": .string(w.username), "icon-emoji": .string(w.iconEmoji),
                "global": .bool(w.global), "state-changes-only": .bool(w.stateChangesOnly),
            ]
            w.tls.write(to: &t)
            return t
        }
    }

    /// The default workspace: the only one, or the one with `default = true`.
    public var defaultWorkspace: Workspace? { workspaces.first(where: \.isDefault) }

    public var globalHandlers: [AlertHandlerSpec] {
        defaultWorkspace?.global == true ? [AlertHandlerSpec(kind: Self.kind)] : []
    }

    /// Whether global alerts use state-changes-only mode.
    public var stateChangesOnly: Bool { defaultWorkspace.map { $0.global && $0.stateChangesOnly } ?? false }

    public func makeSender(options: [String: HandlerOption]) throws(HandlerOptionError) -> any AlertSender {
        var r = OptionReader(options, kind: Self.kind)
        let name = try r.string("workspace") ?? ""
        let channel = try r.string("channel") ?? ""
        let username = try r.string("username") ?? ""
        let iconEmoji = try r.string("icon-emoji") ?? ""
        try r.finish()
        guard !workspaces.isEmpty else { throw HandlerOptionError("no [[slack]] configuration found") }
        let w: Workspace
        if name.isEmpty {
            guard let d = defaultWorkspace else { throw HandlerOptionError("[[slack]] has no default workspace") }
            w = d
        } else {
            guard let found = workspaces.first(where: { $0.workspace == name }) else {
                throw HandlerOptionError("slack workspace \"\(name)\" is not configured (workspaces: \(workspaces.map(\.workspace).joined(separator: ", ")))",
                                         option: "workspace")
            }
            w = found
        }
        guard w.enabled else { throw ServiceSupport.notEnabled("slack", workspace: w.workspace.isEmpty ? nil : w.workspace) }
        return SlackSender(url: w.url, token: w.token, channel: channel.isEmpty ? w.channel : channel,
                           username: username.isEmpty ? w.username : username,
                           iconEmoji: iconEmoji.isEmpty ? w.iconEmoji : iconEmoji,
                           workspace: w.workspace, client: w.client)
    }
}
