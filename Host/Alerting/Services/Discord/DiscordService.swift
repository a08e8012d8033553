import AsyncHTTPClient
import Engine
import TockModel

/// `[[discord]]`: one element per Discord webhook (Kapacitor's `services/discord/config.go`).
public struct DiscordService: AlertServiceKind {
    public static let kind = "discord"
    public static let section = ConfigSectionSpec("discord", repeatable: true, elementKey: "workspace")

    /// One `[[discord]]` element.
    public struct Workspace: WorkspaceElement {
        public var enabled = false
        public var isDefault = false
        public var workspace = ""
        public var url = ""
        public var timestamp = false
        public var username = ""
        public var avatarURL = ""
        public var embedTitle = ""
        public var global = false
        public var stateChangesOnly = false
        var tls = TLSSettings()
        let client: HTTPClient

        init(_ table: ConfigTable) throws(ConfigError) {
            var r = ConfigReader(table, section: DiscordService.section.name)
            enabled = try r.bool("enabled")
            isDefault = try r.bool("default")
            workspace = try r.string("workspace")
            url = try r.string("url")
            timestamp = try r.bool("timestamp")
            username = try r.string("username")
            avatarURL = try r.string("avatar-url")
            embedTitle = try r.string("embed-title")
            global = try r.bool("global")
            stateChangesOnly = try r.bool("state-changes-only")
            tls = try TLSSettings(&r)
            try r.finish()
            if enabled && url.isEmpty { throw ConfigError("[[discord]] workspace \"\(workspace)\": must specify the Discord channel webhook URL") }
            if !url.isEmpty { try ServiceSupport.checkURL(url, key: "url", section: "discord") }
            client = try tls.client(section: "discord")
        }
    }

    public let workspaces: [Workspace]

    public init(elements: [ConfigTable]) throws(ConfigError) {
        workspaces = try Workspaces.read(elements, section: Self.section.name)
    }

    public var elements: [ConfigTable] {
        workspaces.map { w in
            var t: ConfigTable = [
                "enabled": .bool(w.enabled), "default": .bool(w.isDefault), "workspace": .string(w.workspace),
                "url": .string(w.url), "timestamp": .bool(w.timestamp), "username": .string(w.username),
                "avatar-url": .string(w.avatarURL), "embed-title": .string(w.embedTitle), "global": .bool(w.global),
                "state-changes-only": .bool(w.stateChangesOnly),
            ]
            w.tls.write(to: &t)
            return t
        }
    }

    public var defaultWorkspace: Workspace? { workspaces.first(where: \.isDefault) }

    public var globalHandlers: [AlertHandlerSpec] { Workspaces.globalHandlers(workspaces, kind: Self.kind) }

    public var globalStateChangesOnly: Bool { Workspaces.globalStateChangesOnly(workspaces) }

    public func makeSender(options: [String: HandlerOption]) throws(HandlerOptionError) -> any AlertSender {
        var r = OptionReader(options, kind: Self.kind)
        let name = try r.string("workspace") ?? ""
        let timestamp = try r.bool("timestamp")
        let timestampText = try r.string("timestamp-str") ?? ""
        let username = try r.string("username") ?? ""
        let avatarURL = try r.string("avatar-url") ?? ""
        let embedTitle = try r.string("embed-title") ?? ""
        try r.finish()
        let w = try Workspaces.select(workspaces, name: name, section: Self.section.name)
        return DiscordSender(url: w.url, workspace: w.workspace, timestamp: timestamp ?? w.timestamp, timestampText: timestampText,
                             username: username.isEmpty ? w.username : username,
                             avatarURL: avatarURL.isEmpty ? w.avatarURL : avatarURL,
                             embedTitle: embedTitle.isEmpty ? w.embedTitle : embedTitle, client: w.client)
    }
}

/// Posts one embed as Kapacitor's `services/discord/service.go` does: the message as its description, the colour by
/// level (0xF95F53 critical, 0xF48D38 warning, 0x7A65F2 otherwise), the event time when `timestamp` is on.
struct DiscordSender: AlertSender {
    let url: String
    let workspace: String
    let timestamp: Bool
    let timestampText: String
    let username: String
    let avatarURL: String
    let embedTitle: String
    let client: HTTPClient

    var description: String { "discord" + (workspace.isEmpty ? "" : " workspace \"\(workspace)\"") }

    static func color(_ level: AlertLevel) -> Int64 {
        switch level {
        case .critical: 0xF95F53
        case .warning: 0xF48D38
        default: 0x7A65F2
        }
    }

    func body(_ event: AlertEvent) -> [UInt8] {
        let time = timestamp ? (timestampText.isEmpty ? event.rfc3339 : timestampText) : ""
        let embed = GoValueJSON.fields([
            ("color", .int(Self.color(event.level))), ("title", .string(embedTitle)),
            ("description", .string(event.message)), ("timestamp", .string(time)),
        ])
        var post: [String: GoValueJSON] = ["embeds": .array([embed])]
        if !username.isEmpty { post["username"] = .string(username) }
        if !avatarURL.isEmpty { post["avatar_url"] = .string(avatarURL) }
        return GoValueJSON.object(post).encodedLine
    }

    func send(_ event: AlertEvent) async throws(DeliveryFailure) {
        do {
            _ = try await AlertHTTP.send(.POST, url: url, headers: [("Content-Type", "application/json")], body: body(event), client: client)
        } catch {
            throw ServiceSupport.failure(error, description)
        }
    }
}
