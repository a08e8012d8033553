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
        #expect(options.handlers.map(\.name) == ["post http://127.0.0.1:1/a", "log /tmp/x.log", "post http://127.0.0.1:1/b", "tcp 127.0.0.1:9"])
        let second = options.handlers[2] as? PostHandler
        #expect(second?.headers.map(\.name) == ["B"])
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
        #expect(error([("header", [.string("a"), .string("b")])])?.message == ".header(name, value) must follow .post()")
        #expect(error([("flapping", [.float(0.2), .float(1.5)])])?.message == "alert flap thresholds are percentages and should be between 0 and 1")
        #expect(error([("topic", [.string("ops")])]) != nil)
    }
}

/// The request a test server thread received.
private final class Received: @unchecked Sendable {
    var value: (head: String, body: String)?
}
