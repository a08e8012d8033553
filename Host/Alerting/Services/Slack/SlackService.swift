import AsyncHTTPClient
import Engine
import TockModel

/// `[[slack]]`: one element per Slack workspace (Kapacitor's `services/slack/config.go`).
public struct SlackService: AlertServiceKind {
    public static let kind = "slack"
    public static let section = ConfigSectionSpec("slack", repeatable: true, elementKey: "workspace", redacted: ["url", "token"])

    /// One `[[slack]]` element.
    public struct Workspace: WorkspaceElement {
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
        workspaces = try Workspaces.read(elements, section: Self.section.name)
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

    public var globalHandlers: [AlertHandlerSpec] { Workspaces.globalHandlers(workspaces, kind: Self.kind) }

    public var globalStateChangesOnly: Bool { Workspaces.globalStateChangesOnly(workspaces) }

    public func makeSender(options: [String: HandlerOption]) throws(HandlerOptionError) -> any AlertSender {
        var r = OptionReader(options, kind: Self.kind)
        let name = try r.string("workspace") ?? ""
        let channel = try r.string("channel") ?? ""
        let username = try r.string("username") ?? ""
        let iconEmoji = try r.string("icon-emoji") ?? ""
        try r.finish()
        let w = try Workspaces.select(workspaces, name: name, section: Self.section.name)
        return SlackSender(url: w.url, token: w.token, channel: channel.isEmpty ? w.channel : channel,
                           username: username.isEmpty ? w.username : username,
                           iconEmoji: iconEmoji.isEmpty ? w.iconEmoji : iconEmoji,
                           workspace: w.workspace, client: w.client)
    }
}
