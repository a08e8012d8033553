import Engine
import TockModel

/// `[teams]`: a Microsoft Teams incoming webhook (Kapacitor's `services/teams/config.go`).
public struct TeamsService: AlertServiceKind {
    public static let kind = "teams"
    public static let section = ConfigSectionSpec("teams")

    public var enabled = false
    /// The channel's incoming-webhook URL, which a handler's `channel-url` replaces.
    public var channelURL = ""
    public var global = false
    public var stateChangesOnly = false

    public init(elements: [ConfigTable]) throws(ConfigError) {
        guard let table = elements.first else { return }
        var r = ConfigReader(table, section: Self.section.name)
        enabled = try r.bool("enabled")
        channelURL = try r.string("channel-url")
        global = try r.bool("global")
        stateChangesOnly = try r.bool("state-changes-only")
        try r.finish()
        if enabled && channelURL.isEmpty { throw ConfigError("[teams] must specify the Teams channel webhook URL (channel-url)") }
        if !channelURL.isEmpty { try ServiceSupport.checkURL(channelURL, key: "channel-url", section: "teams") }
    }

    public var elements: [ConfigTable] {
        [["enabled": .bool(enabled), "channel-url": .string(channelURL), "global": .bool(global),
          "state-changes-only": .bool(stateChangesOnly)]]
    }

    public var globalHandlers: [AlertHandlerSpec] { global ? [AlertHandlerSpec(kind: Self.kind)] : [] }

    public func makeSender(options: [String: HandlerOption]) throws(HandlerOptionError) -> any AlertSender {
        var r = OptionReader(options, kind: Self.kind)
        let url = try r.string("channel-url") ?? ""
        try r.finish()
        guard enabled else { throw ServiceSupport.notEnabled("teams") }
        if !url.isEmpty {
            do { try ServiceSupport.checkURL(url, key: "channel-url", section: "teams") } catch {
                throw HandlerOptionError("teams option channel-url: invalid URL \"\(url)\": want http:// or https://", option: "channel-url")
            }
        }
        return TeamsSender(channelURL: url.isEmpty ? channelURL : url)
    }
}

/// Posts a MessageCard as Kapacitor's `services/teams/service.go` does: the title is the level and the alert ID,
/// the summary its first 70 bytes and `...`, the theme colour by level.
struct TeamsSender: AlertSender {
    let channelURL: String

    var description: String { "teams" }

    static func color(_ level: AlertLevel) -> String {
        switch level {
        case .warning: "FFA533"
        case .critical: "CC4A31"
        default: "34CC25"
        }
    }

    /// `json.Marshal(card)`: no trailing newline. The title is `LEVEL: [id]`, else `LEVEL: [topic]` for an event
    /// without an ID, else `LEVEL` alone, as Kapacitor's `preparePost` chooses.
    func body(_ event: AlertEvent, topic: String = "") -> [UInt8] {
        let title: String
        let summary: String
        if !event.id.isEmpty {
            title = event.level.description + ": [" + event.id + "]"
            summary = title + " - " + event.message
        } else if !topic.isEmpty {
            title = event.level.description + ": [" + topic + "]"
            summary = title + " - " + event.message
        } else {
            title = event.level.description
            summary = title + ": " + event.message
        }
        let cut = String(decoding: Array(summary.utf8).prefix(70), as: UTF8.self) + "..."
        return Array(GoValueJSON.fields([
            ("@type", .string("MessageCard")), ("@context", .string("http://schema.org/extensions")),
            ("title", .string(title)), ("text", .string(event.message)), ("summary", .string(cut)),
            ("themeColor", .string(Self.color(event.level))),
        ]).encoded.utf8)
    }

    func send(_ event: AlertEvent) async throws(DeliveryFailure) {
        try await send(event, topic: "")
    }

    func send(_ event: AlertEvent, topic: String) async throws(DeliveryFailure) {
        do {
            _ = try await AlertHTTP.postJSON(url: channelURL, body: body(event, topic: topic))
        } catch {
            throw ServiceSupport.failure(error, description)
        }
    }
}
