import Engine
import TockModel

/// `[telegram]`: a Telegram bot (Kapacitor's `services/telegram/config.go`).
public struct TelegramService: AlertServiceKind {
    public static let kind = "telegram"
    public static let section = ConfigSectionSpec("telegram", redacted: ["token"])

    public var enabled = false
    /// The Bot API prefix; the request goes to `<url><token>/sendMessage`.
    public var url = "https://api.telegram.org/bot"
    public var token = ""
    public var chatID = ""
    public var parseMode = ""
    public var disableWebPagePreview = false
    public var disableNotification = false
    public var global = false
    public var stateChangesOnly = false

    public init(elements: [ConfigTable]) throws(ConfigError) {
        guard let table = elements.first else { return }
        var r = ConfigReader(table, section: Self.section.name)
        enabled = try r.bool("enabled")
        url = try r.string("url", default: url)
        token = try r.string("token")
        chatID = try r.string("chat-id")
        parseMode = try r.string("parse-mode")
        disableWebPagePreview = try r.bool("disable-web-page-preview")
        disableNotification = try r.bool("disable-notification")
        global = try r.bool("global")
        stateChangesOnly = try r.bool("state-changes-only")
        try r.finish()
        if enabled {
            try ServiceSupport.checkURL(url, key: "url", section: "telegram")
            if token.isEmpty { throw ConfigError("[telegram] must specify token") }
        }
        if !parseMode.isEmpty && !Self.validParseMode(parseMode) {
            throw ConfigError("[telegram] parse-mode \(parseMode) is not valid, please use 'Markdown' or 'HTML'")
        }
    }

    static func validParseMode(_ mode: String) -> Bool { ["markdown", "html"].contains(mode.lowercased()) }

    public var elements: [ConfigTable] {
        [["enabled": .bool(enabled), "url": .string(url), "token": ServiceSupport.redacted(token), "chat-id": .string(chatID),
          "parse-mode": .string(parseMode), "disable-web-page-preview": .bool(disableWebPagePreview),
          "disable-notification": .bool(disableNotification), "global": .bool(global),
          "state-changes-only": .bool(stateChangesOnly)]]
    }

    public var globalHandlers: [AlertHandlerSpec] { global ? [AlertHandlerSpec(kind: Self.kind)] : [] }

    public func makeSender(options: [String: HandlerOption]) throws(HandlerOptionError) -> any AlertSender {
        var r = OptionReader(options, kind: Self.kind)
        let chat = try r.string("chat-id") ?? ""
        let mode = try r.string("parse-mode") ?? ""
        let noPreview = try r.bool("disable-web-page-preview") ?? false
        let silent = try r.bool("disable-notification") ?? false
        try r.finish()
        guard enabled else { throw ServiceSupport.notEnabled("telegram") }
        let parse = mode.isEmpty ? parseMode : mode
        if !parse.isEmpty && !Self.validParseMode(parse) {
            throw HandlerOptionError("telegram parseMode \(parse) is not valid, please use 'Markdown' or 'HTML'", option: "parse-mode")
        }
        // Go's path.Join(u.Path+token, "sendMessage").
        return TelegramSender(url: ServiceSupport.joiningPath(url + token, ["sendMessage"]), chatID: chat.isEmpty ? chatID : chat,
                              parseMode: parse, disableWebPagePreview: noPreview || disableWebPagePreview,
                              disableNotification: silent || disableNotification)
    }
}

/// Sends `sendMessage` as Kapacitor's `services/telegram/service.go` does.
struct TelegramSender: AlertSender {
    let url: String
    let chatID: String
    let parseMode: String
    let disableWebPagePreview: Bool
    let disableNotification: Bool

    var description: String { "telegram chat \"\(chatID)\"" }

    func body(_ event: AlertEvent) -> [UInt8] {
        var post: [String: GoValueJSON] = ["chat_id": .string(chatID), "text": .string(event.message)]
        if !parseMode.isEmpty { post["parse_mode"] = .string(parseMode) }
        if disableWebPagePreview { post["disable_web_page_preview"] = .bool(true) }
        if disableNotification { post["disable_notification"] = .bool(true) }
        return GoValueJSON.object(post).encodedLine
    }

    func send(_ event: AlertEvent) async throws(DeliveryFailure) {
        do {
            _ = try await AlertHTTP.postJSON(url: url, body: body(event))
        } catch {
            throw ServiceSupport.failure(error, description)
        }
    }
}
