import Engine
import TockModel

/// `[pushover]`: Pushover's message API (Kapacitor's `services/pushover/config.go`).
public struct PushoverService: AlertServiceKind {
    public static let kind = "pushover"
    public static let section = ConfigSectionSpec("pushover", redacted: ["token", "user-key"])
    public static let defaultURL = "https://api.pushover.net/1/messages.json"

    public var enabled = false
    public var token = ""
    public var userKey = ""
    public var url = defaultURL

    public init(elements: [ConfigTable]) throws(ConfigError) {
        guard let table = elements.first else { return }
        var r = ConfigReader(table, section: Self.section.name)
        enabled = try r.bool("enabled")
        token = try r.string("token")
        userKey = try r.string("user-key")
        url = try r.string("url", default: Self.defaultURL)
        try r.finish()
        if enabled {
            if token.isEmpty { throw ConfigError("[pushover] must specify token") }
            if userKey.isEmpty { throw ConfigError("[pushover] must specify user-key") }
            if url.isEmpty { throw ConfigError("[pushover] must specify url") }
            try ServiceSupport.checkURL(url, key: "url", section: "pushover")
        }
    }

    public var elements: [ConfigTable] {
        [["enabled": .bool(enabled), "token": ServiceSupport.redacted(token), "user-key": ServiceSupport.redacted(userKey),
          "url": .string(url)]]
    }

    public func makeSender(options: [String: HandlerOption]) throws(HandlerOptionError) -> any AlertSender {
        var r = OptionReader(options, kind: Self.kind)
        let user = try r.string("user-key") ?? ""
        let device = try r.string("device") ?? ""
        let title = try r.string("title") ?? ""
        let link = try r.string("url") ?? ""
        let linkTitle = try r.string("url-title") ?? ""
        let sound = try r.string("sound") ?? ""
        try r.finish()
        guard enabled else { throw ServiceSupport.notEnabled("pushover") }
        return PushoverSender(url: url, token: token, userKey: user.isEmpty ? userKey : user, device: device, title: title,
                              link: link, linkTitle: linkTitle, sound: sound)
    }
}

/// Posts a form as Kapacitor's `services/pushover/service.go` does (`http.PostForm`, keys sorted): priority -2 for
/// OK, -1 INFO, 0 WARNING, 1 CRITICAL; empty optional fields left out.
struct PushoverSender: AlertSender {
    let url: String
    let token: String
    let userKey: String
    let device: String
    let title: String
    let link: String
    let linkTitle: String
    let sound: String

    var description: String { "pushover" + (device.isEmpty ? "" : " device \"\(device)\"") }

    static func priority(_ level: AlertLevel) -> Int {
        switch level {
        case .ok: -2
        case .info: -1
        case .warning: 0
        case .critical: 1
        }
    }

    /// Go's `url.Values.Encode()`: keys sorted, `QueryEscape`d values (space as `+`).
    func body(_ event: AlertEvent) -> [UInt8] {
        var values: [String: String] = [
            "token": token, "user": userKey, "message": event.message, "priority": String(Self.priority(event.level)),
        ]
        if !device.isEmpty { values["device"] = device }
        if !title.isEmpty { values["title"] = title }
        if !link.isEmpty { values["url"] = link }
        if !linkTitle.isEmpty { values["url_title"] = linkTitle }
        if !sound.isEmpty { values["sound"] = sound }
        let text = values.sorted { $0.key < $1.key }.map { Self.queryEscape($0.key) + "=" + Self.queryEscape($0.value) }
            .joined(separator: "&")
        return Array(text.utf8)
    }

    /// Go's `url.QueryEscape`: unreserved bytes kept, space as `+`, everything else `%XX`.
    static func queryEscape(_ s: String) -> String {
        var out = ""
        for b in s.utf8 {
            switch b {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
                 UInt8(ascii: "-"), UInt8(ascii: "_"), UInt8(ascii: "."), UInt8(ascii: "~"):
                out.append(Character(Unicode.Scalar(b)))
            case UInt8(ascii: " "):
                out.append("+")
            default:
                out += "%" + String(b, radix: 16, uppercase: true).leftPadded(2)
            }
        }
        return out
    }

    func send(_ event: AlertEvent) async throws(DeliveryFailure) {
        do {
            _ = try await AlertHTTP.send(.POST, url: url, headers: [("Content-Type", "application/x-www-form-urlencoded")],
                                         body: body(event))
        } catch {
            throw ServiceSupport.failure(error, description)
        }
    }
}

private extension String {
    func leftPadded(_ n: Int) -> String { count >= n ? self : String(repeating: "0", count: n - count) + self }
}
