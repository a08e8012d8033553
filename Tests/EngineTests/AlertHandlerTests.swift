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

    @Test func logAppendsOneJSONLinePerEvent() throws {
        let dir = try F.temporaryDirectory()
        let path = dir.appendingPathComponent("alerts.log").path
        let node = try critNode([("log", [.string(path)]), ("mode", [.int(0o644)])])  // what the lexer makes of `.mode(0644)`
        let out = try F.run(node, [90, 50])
        out.stopAndDrain(node)
        let text = try String(contentsOfFile: path, encoding: .utf8)
        #expect(text == out.alerts.map { $0 + "\n" }.joined())
        #expect(text.split(separator: "\n").count == 2)
        let attributes = try FileManager.default.attributesOfItem(atPath: path)
        #expect((attributes[.posixPermissions] as? Int) == 0o644)
    }

    @Test func tcpWritesTheJSONLineAndCloses() throws {
        let server = try LoopbackServer()
        let node = try critNode([("tcp", [.string("127.0.0.1:\(server.port)")])])
        let out = try F.run(node, [90])
        out.stopAndDrain(node)
        #expect(try server.acceptAll() == out.alerts[0] + "\n")
    }

    @Test func aRefusedConnectionIsLoggedAndLaterHandlersStillRun() throws {
        let port = try LoopbackServer().port  // closed again at once
        let dir = try F.temporaryDirectory()
        let path = dir.appendingPathComponent("after.log").path
        let node = try critNode([("tcp", [.string("127.0.0.1:\(port)")]), ("log", [.string(path)])])
        let out = try F.run(node, [90])
        out.stopAndDrain(node)
        #expect(out.logs.contains { $0.hasPrefix("ERROR alert handler tcp 127.0.0.1:\(port) failed: cannot connect") })
        #expect(try String(contentsOfFile: path, encoding: .utf8) == out.alerts[0] + "\n")
    }

    @Test func postSendsJSONWithHeaders() throws {
        let server = try LoopbackServer()
        let received = Received()
        let done = DispatchSemaphore(value: 0)
        DispatchQueue.global().async {
            received.value = try? server.acceptHTTP(status: 200)
            done.signal()
        }
        let node = try critNode([
            ("post", [.string("http://127.0.0.1:\(server.port)/alert")]),
            ("header", [.string("X-Team"), .string("ops")]),
            ("timeout", [.duration(5 * F.second)]),
        ])
        let out = try F.run(node, [90])
        out.stopAndDrain(node)
        #expect(done.wait(timeout: .now() + 20) == .success, "the POST arrived")
        let (head, body) = try #require(received.value)
        #expect(head.hasPrefix("POST /alert HTTP/1.1"))
        #expect(head.lowercased().contains("content-type: application/json"))
        #expect(head.lowercased().contains("x-team: ops"))
        #expect(body == out.alerts[0] + "\n")
        #expect(!out.logs.contains { $0.hasPrefix("ERROR") })
    }

    @Test func aFailedPostIsLoggedAndTheTaskGoesOn() throws {
        let server = try LoopbackServer()
        let done = DispatchSemaphore(value: 0)
        DispatchQueue.global().async {
            _ = try? server.acceptHTTP(status: 500)
            done.signal()
        }
        let node = try critNode([("post", [.string("http://127.0.0.1:\(server.port)/")])])
        let out = try F.run(node, [90, 91])
        #expect(done.wait(timeout: .now() + 20) == .success, "the first POST arrived")
        _ = try server.acceptHTTP(status: 500)
        out.stopAndDrain(node)
        #expect(out.alerts.count == 2)
        #expect(out.logs.filter { $0.contains("returned status 500") }.count == 2)
    }

    @Test func execGetsTheJSONLineOnStdin() throws {
        let dir = try F.temporaryDirectory()
        let path = dir.appendingPathComponent("exec.out").path
        let node = try critNode([("exec", [.string("/bin/sh"), .string("-c"), .string("cat > '\(path)'")])])
        let out = try F.run(node, [90])
        out.stopAndDrain(node)
        #expect(try String(contentsOfFile: path, encoding: .utf8) == out.alerts[0] + "\n")
    }

    @Test func aFailingProgramIsLoggedWithItsOutput() throws {
        let node = try critNode([("exec", [.string("sh"), .string("-c"), .string("echo broken >&2; exit 3")])])
        let out = try F.run(node, [90])
        out.stopAndDrain(node)
        #expect(out.logs.contains { $0.contains("exit status 3") && $0.contains("broken") })
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
        #expect(error([("hipChat", [])])?.message.contains("alert .hipChat() needs the alerting service") == true)
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

/// The request a test server thread received.
private final class Received: @unchecked Sendable {
    var value: (head: String, body: String)?
}
