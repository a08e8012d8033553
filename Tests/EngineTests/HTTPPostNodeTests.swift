import Foundation
import Testing
import TICKScript
import TockModel
@testable import Engine

/// Runs `script` over `points` with the configuration's `[[httppost]]`/`[deadman]` sections; returns when the task has
/// ended (httpPost's queue drained).
@discardableResult
func runConfigured(_ script: String, _ points: [Point], sections: ConfigSections = ConfigSections(),
                   taskID: String = "test", delivery: (any AlertService)? = TestAlerting.service) throws -> (Collector, TaskRunner) {
    let c = Collector()
    var options = TaskRunner.Options(taskID: taskID)
    options.configSections = sections
    options.alertService = delivery
    let runner = try TaskRunner(script: script, options: options, handlers: c.handlers)
    try runner.start()
    runner.write(points)
    try runner.stop()
    return (c, runner)
}

func buildError(_ script: String, sections: ConfigSections) -> ScriptError? {
    var builder = TaskBuilder(taskID: "t")
    builder.configSections = sections
    do {
        _ = try builder.build(try Program.parse(script))
        return nil
    } catch let e as ScriptError {
        return e
    } catch {
        Issue.record("expected a ScriptError, got \(error)")
        return nil
    }
}

@Suite("httpPost (Kapacitor http_post.go)", .serialized)
struct HTTPPostNodeTests {
    static let cpu = [
        point("cpu", ["host": "a"], ["value": .double(1.5)], at: 10),
        point("cpu", ["host": "b"], ["value": .int(7)], at: 11),
    ]

    @Test("an engine embedded without a delivery service has no HTTP client: each POST fails, naming why")
    func noPoster() throws {
        let receiver = try LocalHTTPReceiver()
        defer { receiver.close() }
        let (c, runner) = try runConfigured("""
            stream
                |from()
                    .measurement('cpu')
                |httpPost('\(receiver.url)')
            """, Self.cpu, delivery: nil)
        #expect(receiver.requests.isEmpty)
        #expect(c.points.count == 2, "the data goes on")
        #expect(runner.stats().first { $0.node == "httpPost2" }?.errors == 2)
        #expect(c.logs.contains { $0.2.contains("no HTTP client: this engine was embedded without a delivery service") }, "\(c.logs)")
    }

    @Test("each point is POSTed as {\"series\":[row]} and a newline, as application/json, and passed on unchanged")
    func streamBody() throws {
        let receiver = try LocalHTTPReceiver()
        defer { receiver.close() }
        let (c, runner) = try runConfigured("""
            stream
                |from()
                    .measurement('cpu')
                |httpPost('\(receiver.url)/top10')
            """, Self.cpu)
        #expect(receiver.requests.count == 2)
        let bodies = receiver.requests.map { String(decoding: $0.body, as: UTF8.self) }
        #expect(bodies == [
            #"{"series":[{"name":"cpu","tags":{"host":"a"},"columns":["time","value"],"values":[["1970-01-01T00:00:10Z",1.5]]}]}"# + "\n",
            #"{"series":[{"name":"cpu","tags":{"host":"b"},"columns":["time","value"],"values":[["1970-01-01T00:00:11Z",7]]}]}"# + "\n",
        ])
        #expect(receiver.requests.allSatisfy { $0.method == "POST" && $0.path == "/top10" })
        #expect(receiver.requests.allSatisfy { $0.header("Content-Type") == "application/json" })
        #expect(c.points == Self.cpu)
        #expect(runner.stats().first { $0.node == "httpPost2" }?.errors == 0)
    }

    @Test("a batch is one POST of its row: group tags, time + sorted fields and non-group tags")
    func batchBody() throws {
        let receiver = try LocalHTTPReceiver()
        defer { receiver.close() }
        try runConfigured("""
            stream
                |from()
                    .measurement('cpu')
                |window()
                    .period(10s)
                    .every(10s)
                |httpPost('\(receiver.url)')
            """, Self.cpu + [point("cpu", ["host": "a"], ["value": .double(2)], at: 21)])
        #expect(receiver.requests.count == 1)
        #expect(String(decoding: receiver.requests[0].body, as: UTF8.self) ==
            #"{"series":[{"name":"cpu","columns":["time","host","value"],"values":[["1970-01-01T00:00:10Z","a",1.5],["1970-01-01T00:00:11Z","b",7]]}]}"# + "\n")
    }

    @Test("an endpoint brings its URL template, headers and basic auth; .header() replaces a header of the same name")
    func endpoint() throws {
        let receiver = try LocalHTTPReceiver()
        defer { receiver.close() }
        let sections = ConfigSections(httpPostEndpoints: [
            "example": HTTPPostEndpoint(
                name: "example", url: receiver.url + "/write/{{ .Name }}/{{ index .Tags \"host\" }}",
                headers: ["X-Team": "ops", "X-Env": "prod"],
                basicAuth: .init(username: "user", password: "pass")),
        ])
        try runConfigured("""
            stream
                |from()
                    .measurement('cpu')
                |httpPost()
                    .endpoint('example')
                    .header('X-Env', 'test')
                    .header('X-Script', 'yes')
            """, [Self.cpu[0]], sections: sections)
        #expect(receiver.requests.count == 1)
        let r = try #require(receiver.requests.first)
        #expect(r.path == "/write/cpu/a")
        #expect(r.header("Authorization") == "Basic dXNlcjpwYXNz")
        #expect(r.header("X-Team") == "ops")
        #expect(r.header("X-Env") == "test")
        #expect(r.header("X-Script") == "yes")
        #expect(r.header("Content-Type") == "application/json")
    }

    @Test("basic auth is sent only when both username and password are set, as Kapacitor's BasicAuth.valid")
    func halfBasicAuth() throws {
        let receiver = try LocalHTTPReceiver()
        defer { receiver.close() }
        let sections = ConfigSections(httpPostEndpoints: [
            "e": HTTPPostEndpoint(name: "e", url: receiver.url, basicAuth: .init(username: "user", password: "")),
        ])
        try runConfigured("stream|from()|httpPost().endpoint('e')", [Self.cpu[0]], sections: sections)
        #expect(receiver.requests.count == 1)
        #expect(receiver.requests.first?.header("Authorization") == nil)
    }

    @Test("an endpoint's row template is the body, with no JSON Content-Type; its json function ends with a newline")
    func rowTemplate() throws {
        let receiver = try LocalHTTPReceiver()
        defer { receiver.close() }
        let template = #"{{ .Name }} {{ range .Values }}{{ index . "value" }}@{{ index . "time" }} {{ end }}{{ json .Tags }}"#
        let sections = ConfigSections(httpPostEndpoints: [
            "rows": HTTPPostEndpoint(name: "rows", url: receiver.url, rowTemplate: template),
        ])
        try runConfigured("stream|from()|httpPost().endpoint('rows')", [Self.cpu[0]], sections: sections)
        let r = try #require(receiver.requests.first)
        #expect(String(decoding: r.body, as: UTF8.self) == "cpu 1.5@1970-01-01 00:00:10 +0000 UTC {\"host\":\"a\"}\n")
        // Kapacitor (Go) sends none; URLSession sends it empty rather than its form default.
        #expect((r.header("Content-Type") ?? "") == "")
    }

    @Test("codeField puts the status code on the data; captureResponse logs a non-2xx body with the URL")
    func codeField() throws {
        let receiver = try LocalHTTPReceiver(answer: .status(500, "disk full"))
        defer { receiver.close() }
        let (c, runner) = try runConfigured("""
            stream
                |from()
                |httpPost('\(receiver.url)/x')
                    .codeField('code')
                    .captureResponse()
            """, Self.cpu)
        #expect(c.points.map { $0.fields["code"] } == [.int(500), .int(500)])
        #expect(c.points.map { $0.fields["value"] } == [.double(1.5), .int(7)])
        #expect(runner.stats().first { $0.node == "httpPost2" }?.errors == 2)
        let logs = c.logs.map(\.2)
        #expect(logs.contains("POST to \(receiver.url)/x returned non 2xx status code 500: disk full"), "\(logs)")
    }

    @Test("without captureResponse the log says how to see the response, as Kapacitor's does")
    func noCapture() throws {
        let receiver = try LocalHTTPReceiver(answer: .status(404, "nope"))
        defer { receiver.close() }
        let (c, _) = try runConfigured("stream|from()|httpPost('\(receiver.url)')", [Self.cpu[0]])
        #expect(c.logs.map(\.2) == [
            "POST to \(receiver.url) returned non 2xx status code 404: unknown error, use .captureResponse() to capture the HTTP response",
        ])
    }

    @Test("a receiver that is down: every POST is an error naming the URL, the data still goes on with code 0")
    func receiverDown() throws {
        let receiver = try LocalHTTPReceiver()
        let url = receiver.url
        receiver.close()
        let (c, runner) = try runConfigured("""
            stream
                |from()
                |httpPost('\(url)')
                    .codeField('code')
            """, Self.cpu)
        #expect(c.points.map { $0.fields["code"] } == [.int(0), .int(0)])
        // The second request fails too, or, when the input has ended by then, is dropped (one error either way).
        #expect(runner.stats().first { $0.node == "httpPost2" }?.errors == 2)
        #expect(c.logs.first?.2.hasPrefix("failed to POST data to \(url): ") == true, "\(c.logs)")
        #expect(c.logs.allSatisfy { $0.2.contains(url) }, "\(c.logs)")
    }

    @Test("a receiver that hangs: the task is not stalled, the queue is bounded, the end waits one timeout")
    func receiverHangs() throws {
        let receiver = try LocalHTTPReceiver(answer: .hang)
        defer { receiver.close() }
        let c = Collector()
        var options = TaskRunner.Options(taskID: "test")
        options.alertService = TestAlerting.service
        let runner = try TaskRunner(script: """
            stream
                |from()
                |httpPost('\(receiver.url)')
                    .timeout(1s)
            """, options: options, handlers: c.handlers)
        try runner.start()
        let points = (0..<300).map { point("cpu", [:], ["value": .int(Int64($0))], at: Int64($0)) }
        let started = Date()
        runner.write(points)
        try runner.stop()
        let elapsed = Date().timeIntervalSince(started)
        // All the data went on; 1 request hung, 255 waited, 44 found the queue full; the end dropped the 255 waiting.
        #expect(c.points.count == 300)
        #expect(elapsed < 15, "the task's end took \(elapsed) s")
        let logs = c.logs.map(\.2)
        #expect(logs.filter { $0.contains("dropped: 256 requests are already waiting") }.count == 44)
        #expect(logs.contains("255 POSTs to \(receiver.url) dropped at the end of the task: the receiver did not answer"), "\(logs.suffix(3))")
        #expect(logs.filter { $0.hasPrefix("failed to POST data to \(receiver.url): ") }.count == 1)
        #expect(runner.stats().first { $0.node == "httpPost2" }?.errors == 46)
    }

    @Test("define errors name the node, line and column", arguments: [
        ("stream|from()|httpPost('http://127.0.0.1:1/a', 'http://127.0.0.1:1/b')", "httpPost2: httpPost expects 0 or 1 arguments, got 2", 1, 14),
        ("stream|from()|httpPost()", "httpPost2: must provide url or endpoint", 1, 14),
        ("stream|from()\n  |httpPost('http://127.0.0.1:1').endpoint('e')", "httpPost2: only one endpoint and url may be specified", 2, 3),
        ("stream|from()|httpPost().endpoint('e').endpoint('f')", "httpPost2: httpPost expects 0 or 1 endpoints, got 2", 1, 14),
        ("stream|from()|httpPost('http://127.0.0.1:1').header('authenticate', 'x')", "httpPost2: cannot set 'authenticate' header", 1, 14),
        ("stream|from()|httpPost().endpoint('nope')",
         "httpPost2: endpoint 'nope' does not exist (the [[httppost]] endpoints are e)", 1, 14),
        ("stream|from()|httpPost('http://127.0.0.1:1/{{ .Nme }}')",
         "httpPost2: error in url templating: template: body: can't evaluate field Nme in type *kapacitor.mappedRow (available: .Name .Tags .Values)", 1, 14),
    ])
    func defineErrors(script: String, message: String, line: Int, column: Int) throws {
        let sections = ConfigSections(httpPostEndpoints: ["e": HTTPPostEndpoint(name: "e", url: "http://127.0.0.1:1")])
        let error = try #require(buildError(script, sections: sections))
        #expect(error.message == message)
        #expect(error.position.line == line && error.position.column == column, "\(error.position)")
    }

    @Test("skipSSLVerification belongs to alert .post(), not to the httpPost node (Kapacitor's node has no such property)")
    func noSkipSSL() throws {
        let error = try #require(buildError("stream|from()|httpPost('http://127.0.0.1:1').skipSSLVerification()"))
        #expect(error.message.hasPrefix("unknown property \"skipSSLVerification\" on httpPost"), "\(error.message)")
        #expect(error.position.column == 45)
    }
}
