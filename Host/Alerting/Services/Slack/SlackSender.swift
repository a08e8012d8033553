import AsyncHTTPClient
import Engine
import Foundation

/// Posts an event to Slack as Kapacitor's `services/slack/service.go` does: one attachment coloured by level
/// (`danger` critical, `warning` warning, `good` otherwise), the message as its text and fallback.
struct SlackSender: AlertSender {
    let url: String
    let token: String
    let channel: String
    let username: String
    let iconEmoji: String
    let workspace: String
    let client: HTTPClient

    var description: String {
        "slack" + (workspace.isEmpty ? "" : " workspace \"\(workspace)\"") + (channel.isEmpty ? "" : " channel \"\(channel)\"")
    }

    static func color(_ level: AlertLevel) -> String {
        switch level {
        case .warning: "warning"
        case .critical: "danger"
        default: "good"
        }
    }

    /// The body: a Go map (keys sorted) holding one attachment struct, newline-terminated.
    func body(_ event: AlertEvent) -> [UInt8] {
        let attachment = GoValueJSON.fields([
            ("fallback", .string(event.message)), ("color", .string(Self.color(event.level))),
            ("text", .string(event.message)), ("mrkdwn_in", .array([.string("text")])),
        ])
        return GoValueJSON.object([
            "as_user": .bool(false), "channel": .string(channel), "text": .string(""),
            "attachments": .array([attachment]), "username": .string(username), "icon_emoji": .string(iconEmoji),
        ]).encodedLine
    }

    func send(_ event: AlertEvent) async throws(DeliveryFailure) {
        var headers = [("Content-Type", "application/json")]
        if !token.isEmpty { headers.append(("Authorization", "Bearer " + token)) }
        let response: AlertHTTP.Response
        do {
            response = try await AlertHTTP.send(.POST, url: url, headers: headers, body: body(event), client: client)
        } catch {
            throw ServiceSupport.failure(error, description)
        }
        // chat.postMessage answers 200 with {"ok":false,"error":"…"} when it refuses a message.
        if let object = try? JSONSerialization.jsonObject(with: Data(response.body)) as? [String: Any],
           object["ok"] as? Bool == false {
            throw .permanent("\(description): Slack refused the message: \(object["error"] as? String ?? response.text)")
        }
    }
}
