import Foundation
import Testing
import TICKScript
import TockModel
@testable import Engine

@Suite("Alert handlers and configuration")
struct AlertHandlerTests {
    typealias F = AlertFixtures

    func critNode(_ properties: [(String, [Value])]) throws -> AlertNode {
        var options = try AlertOptions(F.configuration(properties), condition: { _ in F.above(80) })
        options.selector = LevelSelector(crit: F.above(80))
        return AlertNode(options: options)
    }

    @Test func handlersKeepScriptOrderAndTheirOwnProperties() throws {
        let options = try AlertOptions(F.configuration([
            ("post", [.string("http://127.0.0.1:1/a")]), ("header", [.string("A"), .string("1")]),
            ("log", [.string("/tmp/x.log")]),
            ("post", [.string("http://127.0.0.1:1/b")]), ("header", [.string("B"), .string("2")]),
            ("tcp", [.string("127.0.0.1:9")]),
        ]), condition: { _ in F.above(0) })
        #expect(options.handlers.map(\.kind) == ["post", "log", "post", "tcp"])
        #expect(options.handlers[0].options == ["url": .string("http://127.0.0.1:1/a"), "headers": .object(["A": .string("1")])])
        #expect(options.handlers[1].options == ["path": .string("/tmp/x.log")])
        #expect(options.handlers[2].options["headers"] == .object(["B": .string("2")]))
        #expect(options.handlers[3].options == ["address": .string("127.0.0.1:9")])
    }

    @Test func configurationErrorsPointAtTheProperty() {
        func error(_ properties: [(String, [Value])]) -> ScriptError? {
            do {
                _ = try AlertOptions(F.configuration(properties), condition: { _ in F.above(0) })
                return nil
            } catch let e as ScriptError {
                return e
            } catch {
                return nil
            }
        }
        let relative = error([("id", [.string("x")]), ("log", [.string("alerts.log")])])
        #expect(relative?.message == "alert log path must be absolute: alerts.log is not absolute")
        #expect(relative?.position == SourcePosition(line: 5, column: 10))
        let template = error([("message", [.string("{{ .Nope }}")])])
        #expect(template?.message.hasPrefix("invalid message template on alert: template: message: can't evaluate field Nope") == true)
        #expect(error([("header", [.string("a"), .string("b")])])?.message == ".header() must follow .post()")
        #expect(error([("flapping", [.float(0.2), .float(1.5)])])?.message == "alert flap thresholds are percentages and should be between 0 and 1")
        #expect(error([("topic", [.string("ops")])]) == nil)
        #expect(error([("slack", []), ("routingKey", [.string("x")])])?.message
            == ".routingKey() must follow .victorOps() or .pagerDuty2() (the handler before it is .slack(), which has no .routingKey())")
        #expect(error([("pagerDuty2", []), ("link", [.int(3)])])?.message == ".link() on .pagerDuty2(): argument 1 must be a string, got int")
        #expect(error([("hipChat", [])])?.message.hasPrefix("HipChat was retired by Atlassian in 2019") == true)
    }

    @Test("handler properties become the options of the handler before them, keyed as topic handlers key them")
    func handlerOptionsFromProperties() throws {
        let service = RecordingAlertService()
        let options = try AlertOptions(F.configuration([
            ("email", [.string("a@example.com")]), ("to", [.string("b@example.com")]),
            ("slack", []), ("channel", [.string("#ops")]), ("iconEmoji", [.string(":fire:")]),
            ("pagerDuty2", []), ("routingKey", [.string("rk")]), ("link", [.string("http://x")]),
            ("link", [.string("http://y"), .string("Y")]),
            ("teams", []), ("channelURL", [.string("https://teams/1")]),
            // After .opsGenie(), .teams() is its property, as Go's method promotion makes it in Kapacitor.
            ("opsGenie", []), ("teams", [.string("t1"), .string("t2")]),
            ("sensu", []), ("metadata", [.string("k"), .string("v")]), ("handlers", [.string("h1")]),
            ("mqtt", [.string("alerts/cpu")]), ("qos", [.int(1)]), ("retained", [.bool(true)]),
            ("telegram", []), ("disableNotification", []),
            ("exec", [.string("/bin/echo"), .string("a"), .string("b")]),
            ("topic", [.string("ops")]),
        ]), service: service, condition: { _ in F.above(0) })
        #expect(options.topic == "ops")
        #expect(options.handlers.map(\.kind) == ["smtp", "slack", "pagerduty2", "teams", "opsgenie", "sensu", "mqtt", "telegram", "exec"])
        #expect(options.handlers[0].options == ["to": .list([.string("a@example.com"), .string("b@example.com")])])
        #expect(options.handlers[1].options == ["channel": .string("#ops"), "icon-emoji": .string(":fire:")])
        #expect(options.handlers[2].options == ["routing-key": .string("rk"), "links": .list([
            .object(["href": .string("http://x")]), .object(["href": .string("http://y"), "text": .string("Y")])])])
        #expect(options.handlers[3].options == ["channel-url": .string("https://teams/1")])
        #expect(options.handlers[4].options == ["teams-list": .list([.string("t1"), .string("t2")])])
        #expect(options.handlers[5].options == ["metadata": .object(["k": .string("v")]), "handlers": .list([.string("h1")])])
        #expect(options.handlers[6].options == ["topic": .string("alerts/cpu"), "qos": .int(1), "retained": .bool(true)])
        #expect(options.handlers[7].options == ["disable-notification": .bool(true)])
        #expect(options.handlers[8].options == ["prog": .string("/bin/echo"), "args": .list([.string("a"), .string("b")])])
    }
}
