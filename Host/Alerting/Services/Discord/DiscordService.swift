import AsyncHTTPClient
import Engine

/// `[[discord]]`: one element per Discord webhook (Kapacitor's `services/discord/config.go`).
public struct DiscordService: AlertServiceKind {
    public static let kind = "discord"
    public static let section = ConfigSectionSpec("discord", repeatable: true, elementKey: "workspace")

    /// One `[[discord]]` element.
    public struct Workspace: Sendable {
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
        var list: [Workspace] = []
        // Without a section Kapacitor still has one element: its defaults, disabled.
        for table in elements.isEmpty ? [[:]] : elements { list.append(try Workspace(table)) }
        if list.count == 1 { list[0].isDefault = true }
        if list.count > 1 {
            for w in list where w.workspace.isEmpty { throw ConfigError("[[discord]] workspace must not be empty when there are several") }
            guard list.contains(where: \.isDefault) else { throw ConfigError("[[discord]] at least one workspace must be set as default") }
        }
        for w in list {
            if w.global && !w.isDefault { throw ConfigError("[[discord]] only the default workspace may be global") }
            if w.stateChangesOnly && !(w.isDefault && w.global) {
                throw ConfigError("[[discord]] state-changes-only may only be set on the default, global workspace")
            }
        }
        workspaces = list
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

    public var globalHandlers: [AlertHandlerSpec] {
        defaultWorkspace?.global == true ? [AlertHandlerSpec(kind: Self.kind)] : []
    }

    public var stateChangesOnly: Bool { defaultWorkspace.map { $0.global && $0.stateChangesOnly } ?? false }

    public func makeSender(options: [String: HandlerOption]) throws(HandlerOptionError) -> any AlertSender {
        var r = OptionReader(options, kind: Self.kind)
        let name = try r.string("workspace") ?? ""
        let timestamp = try r.bool("timestamp")
        let timestampText = try r.string("timestamp-str") ?? ""
        let username = try r.string("username") ?? ""
        let avatarURL = try r.string("avatar-url") ?? ""
        let embedTitle = try r.string("embed-title") ?? ""
        try r.finish()
        guard !workspaces.isEmpty else { throw HandlerOptionError("no [[discord]] configuration found") }
        let w: Workspace
        if name.isEmpty {
            guard let d = defaultWorkspace else { throw HandlerOptionError("[[discord]] has no default workspace") }
            w = d
        } else {
            guard let found = workspaces.first(where: { $0.workspace == name }) else {
                throw HandlerOptionError("discord workspace \"\(name)\" is not configured (workspaces: \(workspaces.map(\.workspace).joined(separator: ", ")))",
                                         option: "workspace")
            }
            w = found
        }
        guard w.enabled else { throw ServiceSupport.notEnabled("discord", workspace: w.workspace.isEmpty ? nil : w.workspace) }
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
        let embed = JSONBody.object([
            ("color", .int(Self.color(event.level))), ("title", .string(embedTitle)),
            ("description", .string(event.message)), ("timestamp", .string(time)),
        ])
        var post: [String: JSONBody] = ["embeds": .array([embed])]
        if !username.isEmpty { post["username"] = .string(username) }
        if !avatarURL.isEmpty { post["avatar_url"] = .string(avatarURL) }
        return JSONBody.map(post).encoderBytes
    }

    func send(_ event: AlertEvent) async throws(DeliveryFailure) {
        do {
            _ = try await AlertHTTP.send(.POST, url: url, headers: [("Content-Type", "application/json")], body: body(event), client: client)
        } catch {
            throw ServiceSupport.failure(error, description)
        }
    }
}
