import Engine
import Foundation
import TockModel

/// `talk`: a message to a Talk (jianliao) incoming webhook (Kapacitor: services/talk). Talk takes no options.
public struct TalkService: AlertServiceKind {
    public static let kind = "talk"
    public static let section = ConfigSectionSpec("talk", redacted: ["url"])

    public let enabled: Bool
    /// The incoming-webhook URL (a secret: it carries the hook's token).
    public let url: String
    public let authorName: String

    public init(elements: [ConfigTable]) throws(ConfigError) {
        var r = ConfigReader(elements.first ?? [:], section: "talk")
        enabled = try r.bool("enabled")
        url = try r.string("url")
        authorName = try r.string("author_name")
        try r.finish()
        if enabled && url.isEmpty { throw ConfigError("[talk] must specify url") }
    }

    public var elements: [ConfigTable] {
        [["enabled": .bool(enabled), "url": .bool(!url.isEmpty), "author_name": .string(authorName)]]
    }

    public func makeSender(options: [String: HandlerOption]) throws(HandlerOptionError) -> any AlertSender {
        try OptionReader(options, kind: Self.kind).finish()
        guard enabled else { throw IncidentSupport.notEnabled("talk") }
        return TalkSender(url: url, authorName: authorName)
    }
}

/// POSTs `{"authorName","text","title"}` (title the alert ID, text the message); Talk answers 200.
struct TalkSender: AlertSender {
    let url: String
    let authorName: String

    var description: String { "talk \(AlertHTTP.redacting(url))" }

    func body(_ event: AlertEvent) -> [UInt8] {
        GoValueJSON.object(["title": .string(event.id), "text": .string(event.message), "authorName": .string(authorName)]).encodedLine
    }

    func send(_ event: AlertEvent) async throws(DeliveryFailure) {
        let response = try await IncidentSupport.deliver("talk") { () async throws(DeliveryFailure) in try await AlertHTTP.postJSON(url: url, body: body(event)) }
        try IncidentSupport.expect(200, from: response, service: "Talk", field: "error")
    }
}
