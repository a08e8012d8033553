import HTTPTesting
import Engine
import Testing
@testable import Alerting
import TockModel

/// Slack, Teams, Discord and Telegram send the bodies Kapacitor's services send (`services/<name>/service.go`;
/// the expected values follow `server/server_test.go` `TestServer_AlertHandlers`).
@Suite("Chat services: Slack, Teams, Discord, Telegram")
struct ChatServiceTests {
    @Test("slack: one attachment coloured by level, as Kapacitor's slacktest expects")
    func slack() async throws {
        let receiver = try await HTTPReceiver.start()
        defer { receiver.stop() }
        let sender = try Configured.service("slack", url: receiver.url).makeSender(options: [:])

        let critical = try await Configured.deliver(sender, Events.critical, to: receiver)
        #expect(critical.method == "POST")
        #expect(critical.path == "/test/slack/url")
        #expect(critical.header("Content-Type") == "application/json")
        #expect(critical.header("Authorization") == nil)
        #expect(critical.text == ##"{"as_user":false,"attachments":[{"fallback":"message","color":"danger","text":"message","mrkdwn_in":["text"]}],"channel":"#test","icon_emoji":"","text":"","username":"kapacitor"}"## + "\n")

        let ok = try await Configured.deliver(sender, Events.recovery, to: receiver)
        #expect(ok.text == ##"{"as_user":false,"attachments":[{"fallback":"message","color":"good","text":"message","mrkdwn_in":["text"]}],"channel":"#test","icon_emoji":"","text":"","username":"kapacitor"}"## + "\n")

        let warning = try await Configured.deliver(sender, Events.event(.warning, message: "a < b & c"), to: receiver)
        #expect(warning.text.contains(#""fallback":"a \u003c b \u0026 c","color":"warning""#))
    }

    @Test("slack: workspaces are chosen by option, a token goes as a Bearer header, options replace the config")
    func slackWorkspaces() async throws {
        let receiver = try await HTTPReceiver.start()
        defer { receiver.stop() }
        let service = try SlackService(elements: [
            ["enabled": .bool(true), "workspace": .string("a"), "default": .bool(true), "url": .string(receiver.url + "/a"),
             "channel": .string("#a")],
            ["enabled": .bool(true), "workspace": .string("b"), "url": .string(receiver.url + "/api/chat.postMessage"),
             "token": .string("xoxb-1"), "icon-emoji": .string(":b:")],
        ])
        let viaDefault = try await Configured.deliver(try service.makeSender(options: [:]), Events.critical, to: receiver)
        #expect(viaDefault.path == "/a")
        #expect(viaDefault.text.contains(##""channel":"#a""##))

        let b = try service.makeSender(options: ["workspace": .string("b"), "channel": .string("#ops"), "username": .string("tock")])
        let viaB = try await Configured.deliver(b, Events.critical, to: receiver)
        #expect(viaB.path == "/api/chat.postMessage")
        #expect(viaB.header("Authorization") == "Bearer xoxb-1")
        #expect(viaB.text == ##"{"as_user":false,"attachments":[{"fallback":"message","color":"danger","text":"message","mrkdwn_in":["text"]}],"channel":"#ops","icon_emoji":":b:","text":"","username":"tock"}"## + "\n")

        #expect { try service.makeSender(options: ["workspace": .string("c")]) } throws: { error in
            (error as? HandlerOptionError)?.option == "workspace"
        }
    }

    @Test("slack: an answer {\"ok\":false} from chat.postMessage is a permanent failure carrying Slack's error")
    func slackRefusal() async throws {
        let receiver = try await HTTPReceiver.start()
        defer { receiver.stop() }
        receiver.answer(status: 200, body: #"{"ok":false,"error":"channel_not_found"}"#)
        let sender = try Configured.service("slack", url: receiver.url).makeSender(options: [:])
        await #expect { try await sender.send(Events.critical) } throws: { error in
            guard let f = error as? DeliveryFailure else { return false }
            return !f.isRetryable && f.reason.contains("channel_not_found")
        }
    }

    @Test("slack: defaults and the config API's view, with url and token redacted")
    func slackConfig() throws {
        let defaults = try SlackService(elements: [])
        #expect(defaults.elements == [[
            "enabled": .bool(false), "default": .bool(true), "workspace": .string(""), "url": .bool(false), "token": .bool(false),
            "channel": .string(""), "username": .string("kapacitor"), "icon-emoji": .string(""), "global": .bool(false),
            "state-changes-only": .bool(false), "ssl-ca": .string(""), "ssl-cert": .string(""), "ssl-key": .string(""),
            "insecure-skip-verify": .bool(false),
        ]])
        let set = try SlackService(elements: [["enabled": .bool(true), "url": .string("https://hooks.slack.com/services/T/B/X"),
                                               "global": .bool(true), "state-changes-only": .bool(true)]])
        #expect(set.elements[0]["url"] == .bool(true))
        #expect(set.globalHandlers.map(\.kind) == ["slack"])
        #expect(set.globalStateChangesOnly)
        #expect(throws: ConfigError("[[slack]] workspace \"\": must specify url")) {
            try SlackService(elements: [["enabled": .bool(true)]])
        }
        #expect(throws: ConfigError("[[slack]] at least one workspace must be set as default")) {
            try SlackService(elements: [["workspace": .string("a")], ["workspace": .string("b")]])
        }
    }

    @Test("teams: a MessageCard titled by level and alert ID, its summary cut at 70 bytes")
    func teams() async throws {
        let receiver = try await HTTPReceiver.start()
        defer { receiver.stop() }
        let sender = try Configured.service("teams", url: receiver.url).makeSender(options: [:])

        let critical = try await Configured.deliver(sender, Events.critical, to: receiver)
        #expect(critical.path == "/teams/hook")
        #expect(critical.header("Content-Type") == "application/json")
        #expect(critical.text == #"{"@type":"MessageCard","@context":"http://schema.org/extensions","title":"CRITICAL: [id]","text":"message","summary":"CRITICAL: [id] - message...","themeColor":"CC4A31"}"#)

        let ok = try await Configured.deliver(sender, Events.recovery, to: receiver)
        #expect(ok.text == #"{"@type":"MessageCard","@context":"http://schema.org/extensions","title":"OK: [id]","text":"message","summary":"OK: [id] - message...","themeColor":"34CC25"}"#)

        let long = String(repeating: "x", count: 100)
        let cut = try await Configured.deliver(sender, Events.event(.warning, message: long), to: receiver)
        let summary = "WARNING: [id] - " + String(repeating: "x", count: 70 - 16) + "..."
        #expect(cut.text.contains(#""summary":"\#(summary)","themeColor":"FFA533""#))

        let other = try TeamsService(elements: [["enabled": .bool(true), "channel-url": .string(receiver.url + "/default")]])
            .makeSender(options: ["channel-url": .string(receiver.url + "/other")])
        #expect(try await Configured.deliver(other, Events.critical, to: receiver).path == "/other")
    }

    @Test("teams: an alert without an ID is titled by the topic its handler's queue delivers for")
    func teamsTopicTitle() async throws {
        let receiver = try await HTTPReceiver.start()
        defer { receiver.stop() }
        let sender = try Configured.service("teams", url: receiver.url).makeSender(options: [:])
        let queue = DeliveryQueue(sender: sender, origin: DeliveryOrigin(task: "t", node: "alert2", topic: "cpu", kind: "teams"))
        defer { queue.cancel() }
        var event = Events.critical
        event.id = ""
        queue.collect(event)
        let request = try await receiver.waitForRequests(1)[0]
        #expect(request.text.contains(#""title":"CRITICAL: [cpu]""#), "\(request.text)")
    }

    @Test("discord: one embed coloured by level, the event time when timestamp is on, config values as defaults")
    func discord() async throws {
        let receiver = try await HTTPReceiver.start()
        defer { receiver.stop() }
        let service = try DiscordService(elements: [["enabled": .bool(true), "url": .string(receiver.url + "/discord/hook"),
                                                     "embed-title": .string("Kapacitor Alert"), "username": .string("tock"),
                                                     "timestamp": .bool(true)]])
        let sender = try service.makeSender(options: [:])
        let critical = try await Configured.deliver(sender, Events.critical, to: receiver)
        #expect(critical.path == "/discord/hook")
        #expect(critical.header("Content-Type") == "application/json")
        #expect(critical.text == #"{"embeds":[{"color":16342867,"title":"Kapacitor Alert","description":"message","timestamp":"1970-01-01T00:00:00Z"}],"username":"tock"}"# + "\n")

        let ok = try await Configured.deliver(sender, Events.event(.ok, time: 1_451_606_410_500_000_000), to: receiver)
        #expect(ok.text == #"{"embeds":[{"color":8021490,"title":"Kapacitor Alert","description":"message","timestamp":"2016-01-01T00:00:10Z"}],"username":"tock"}"# + "\n")

        let custom = try service.makeSender(options: ["timestamp": .bool(false), "avatar-url": .string("http://img/a.png"),
                                                       "embed-title": .string("CPU")])
        let warning = try await Configured.deliver(custom, Events.event(.warning), to: receiver)
        #expect(warning.text == #"{"avatar_url":"http://img/a.png","embeds":[{"color":16026936,"title":"CPU","description":"message","timestamp":""}],"username":"tock"}"# + "\n")
    }

    @Test("telegram: sendMessage under bot<token>, with Kapacitor's keys and the config's flags")
    func telegram() async throws {
        let receiver = try await HTTPReceiver.start()
        defer { receiver.stop() }
        let service = try TelegramService(elements: [["enabled": .bool(true), "url": .string(receiver.url + "/bot"),
                                                      "token": .string("TOKEN:AUTH"), "chat-id": .string("chat id"),
                                                      "parse-mode": .string("Markdown"), "disable-web-page-preview": .bool(true)]])
        let sender = try service.makeSender(options: [:])
        let critical = try await Configured.deliver(sender, Events.critical, to: receiver)
        #expect(critical.path == "/botTOKEN:AUTH/sendMessage")
        #expect(critical.header("Content-Type") == "application/json")
        #expect(critical.text == #"{"chat_id":"chat id","disable_web_page_preview":true,"parse_mode":"Markdown","text":"message"}"# + "\n")

        let silent = try service.makeSender(options: ["chat-id": .string("-100"), "parse-mode": .string("HTML"),
                                                       "disable-notification": .bool(true)])
        let ok = try await Configured.deliver(silent, Events.recovery, to: receiver)
        #expect(ok.text == #"{"chat_id":"-100","disable_notification":true,"disable_web_page_preview":true,"parse_mode":"HTML","text":"message"}"# + "\n")

        #expect { try service.makeSender(options: ["parse-mode": .string("rst")]) } throws: { error in
            (error as? HandlerOptionError)?.option == "parse-mode"
        }
        let defaults = try TelegramService(elements: [])
        #expect(defaults.elements == [[
            "enabled": .bool(false), "url": .string("https://api.telegram.org/bot"), "token": .bool(false), "chat-id": .string(""),
            "parse-mode": .string(""), "disable-web-page-preview": .bool(false), "disable-notification": .bool(false),
            "global": .bool(false), "state-changes-only": .bool(false),
        ]])
    }
    @Test("slack and discord TLS keys: a certificate needs its key, and files must be readable")
    func tlsSettings() throws {
        #expect(throws: ConfigError("[slack] ssl-cert and ssl-key go together: give both or neither")) {
            try SlackService(elements: [["ssl-cert": .string("/etc/hostname")]])
        }
        #expect(throws: ConfigError("[discord] ssl-ca: cannot read /nonexistent/ca.pem")) {
            try DiscordService(elements: [["ssl-ca": .string("/nonexistent/ca.pem")]])
        }
        let insecure = try SlackService(elements: [["insecure-skip-verify": .bool(true)]])
        #expect(insecure.elements[0]["insecure-skip-verify"] == .bool(true))
    }

    @Test("discord: several webhooks, one default; a handler picks one by workspace")
    func discordWorkspaces() async throws {
        let receiver = try await HTTPReceiver.start()
        defer { receiver.stop() }
        let service = try DiscordService(elements: [
            ["enabled": .bool(true), "workspace": .string("ops"), "url": .string(receiver.url + "/ops")],
            ["enabled": .bool(true), "workspace": .string("dev"), "default": .bool(true), "url": .string(receiver.url + "/dev")],
        ])
        #expect(try await Configured.deliver(try service.makeSender(options: [:]), Events.critical, to: receiver).path == "/dev")
        let ops = try service.makeSender(options: ["workspace": .string("ops")])
        let request = try await Configured.deliver(ops, Events.critical, to: receiver)
        #expect(request.path == "/ops")
        #expect(request.text == #"{"embeds":[{"color":16342867,"title":"","description":"message","timestamp":""}]}"# + "\n")
        #expect(throws: ConfigError("[[discord]] only the default workspace may be global")) {
            try DiscordService(elements: [["workspace": .string("a"), "default": .bool(true)], ["workspace": .string("b"), "global": .bool(true)]])
        }
    }
}
