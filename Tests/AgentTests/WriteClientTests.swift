import Foundation
import HTTPTesting
import Testing
@testable import Agent

@Suite("The agent's write client: /write with gzip and credentials, fail-over, and what each answer means")
struct WriteClientTests {
    static func batch(gzip: Bool = true) throws -> DiskBuffer.Batch {
        let text = Array("cpu,host=h1 usage_idle=99.5 1700000000000000000\n".utf8)
        return DiskBuffer.Batch(database: "tele graf", retentionPolicy: "week", points: 1, gzip: gzip,
                                body: gzip ? try Shipper.gzip(text) : text)
    }

    static func client(_ urls: [String], _ change: (inout AgentConfiguration) -> Void = { _ in }) throws -> WriteClient {
        var c = AgentConfiguration()
        c.urls = urls
        c.timeout = .seconds(2)
        change(&c)
        return try WriteClient(configuration: c, version: "9.9.9")
    }

    @Test("a batch is posted to /write?db=&rp=&precision=ns, gzip-encoded, with basic credentials and the agent's name")
    func post() async throws {
        let receiver = try await HTTPReceiver.start()
        defer { receiver.stop() }
        receiver.answer(status: 204)
        let client = try Self.client([receiver.url]) { $0.username = "agent"; $0.password = "s3cret" }
        #expect(client.write(try Self.batch()) == .written)
        await client.shutdown()
        let request = try #require(receiver.requests.first)
        #expect(request.method == "POST")
        #expect(request.path == "/write?db=tele%20graf&rp=week&precision=ns")
        #expect(request.header("Content-Encoding") == "gzip")
        #expect(request.header("Authorization") == "Basic " + Data("agent:s3cret".utf8).base64EncodedString())
        #expect(request.header("User-Agent") == "tock-agent/9.9.9")
        #expect(String(decoding: try Shipper.gunzip(request.body), as: UTF8.self) == "cpu,host=h1 usage_idle=99.5 1700000000000000000\n")
    }

    @Test("a token is sent as Authorization: Token; an uncompressed batch has no Content-Encoding")
    func token() async throws {
        let receiver = try await HTTPReceiver.start()
        defer { receiver.stop() }
        receiver.answer(status: 204)
        let client = try Self.client([receiver.url + "/"]) { $0.token = "abc" }
        #expect(client.write(try Self.batch(gzip: false)) == .written)
        await client.shutdown()
        let request = try #require(receiver.requests.first)
        #expect(request.header("Authorization") == "Token abc")
        #expect(request.header("Content-Encoding") == nil)
        #expect(request.text.hasPrefix("cpu,host=h1"))
    }

    @Test("400 is a refusal of the points; 413 asks for smaller batches; 5xx, 401 and a dead server are retried later")
    func outcomes() async throws {
        let receiver = try await HTTPReceiver.start()
        defer { receiver.stop() }
        let client = try Self.client([receiver.url])
        receiver.answer(status: 400, body: #"{"error":"partial write: field type conflict"}"#)
        #expect(client.write(try Self.batch()) == .rejected("\(receiver.url) refused the points (400): partial write: field type conflict"))
        receiver.answer(status: 413)
        guard case .tooLarge = client.write(try Self.batch()) else { Issue.record("413 is not tooLarge"); return }
        receiver.answer(status: 503, body: #"{"error":"overloaded"}"#)
        #expect(client.write(try Self.batch()) == .retry("\(receiver.url) answered 503: overloaded"))
        receiver.answer(status: 401, body: #"{"error":"authorization failed"}"#)
        guard case .retry(let reason) = client.write(try Self.batch()) else { Issue.record("401 is not retried"); return }
        #expect(reason.contains("check username/password or token"))
        await client.shutdown()
        let dead = try Self.client(["http://127.0.0.1:1"])
        guard case .retry(let why) = dead.write(try Self.batch()) else { Issue.record("a dead server is not retried"); return }
        #expect(why.hasPrefix("http://127.0.0.1:1: "))
        await dead.shutdown()
    }

    @Test("a server that cannot be reached is skipped for the next URL")
    func failover() async throws {
        let receiver = try await HTTPReceiver.start()
        defer { receiver.stop() }
        receiver.answer(status: 204)
        let client = try Self.client(["http://127.0.0.1:1", receiver.url])
        #expect(client.write(try Self.batch()) == .written)
        await client.shutdown()
        #expect(receiver.requests.count == 1)
    }

    @Test("InfluxDB's 'database not found' makes the agent create the database, then write again")
    func createsDatabase() async throws {
        let receiver = try await HTTPReceiver.start()
        defer { receiver.stop() }
        receiver.answer(status: 404, body: #"{"error":"database not found: \"tele graf\""}"#)
        receiver.answer(pathPrefix: "/query", status: 200, body: #"{"results":[{"statement_id":0}]}"#)
        let client = try Self.client([receiver.url])
        // The database is created, but this receiver still says it is missing: the batch waits, with the reason.
        #expect(client.write(try Self.batch()) == .retry("\(receiver.url) answered 404: database not found: \"tele graf\""))
        await client.shutdown()
        let paths = receiver.requests.map(\.path)
        #expect(paths.count == 3)
        #expect(paths[1] == "/query?q=CREATE%20DATABASE%20%22tele%20graf%22")
        #expect(paths[2].hasPrefix("/write?db=tele%20graf"))
    }
}

@Suite("The [agent] section of a configuration file")
struct AgentConfigurationTests {
    @Test("every key is read; sizes and durations as people write them")
    func keys() throws {
        let c = try AgentConfiguration.parse("""
            [agent]
              urls = ["https://a:9092", "https://b:9092"]
              database = "hosts"
              retention-policy = "week"
              token = "t"
              insecure-skip-verify = true
              gzip = false
              batch-size = 100
              flush-interval = "2s"
              buffer-dir = "/tmp/x"
              buffer-max-size = "64MB"
              location = "725"
              heartbeat-interval = "1m"
            """, file: "agent.conf")
        #expect(c.urls == ["https://a:9092", "https://b:9092"])
        #expect(c.database == "hosts" && c.retentionPolicy == "week" && c.token == "t")
        #expect(c.insecureSkipVerify && !c.gzip && c.batchSize == 100)
        #expect(c.flushInterval == .seconds(2) && c.heartbeatInterval == .seconds(60))
        #expect(c.bufferDirectory == "/tmp/x" && c.bufferMaxBytes == 64 << 20 && c.location == "725")
    }

    @Test("an unknown key or a mistyped value is refused with the file and line")
    func refused() {
        #expect(throws: AgentConfigurationError("agent.conf:3: [agent] bufer-dir: unknown key (known: \(AgentConfiguration.keys.sorted().joined(separator: ", ")))")) {
            try AgentConfiguration.parse("[agent]\n  url = \"http://a\"\n  bufer-dir = \"/x\"\n", file: "agent.conf")
        }
        #expect(throws: AgentConfigurationError("agent.conf:2: [agent] flush-interval \"soon\" is not a duration such as 10s")) {
            try AgentConfiguration.parse("[agent]\n  flush-interval = \"soon\"\n", file: "agent.conf")
        }
        #expect(throws: AgentConfigurationError.self) { try AgentConfiguration().validated() }
        var noScheme = AgentConfiguration()
        noScheme.urls = ["tock:9092"]
        #expect(throws: AgentConfigurationError("url \"tock:9092\" must start with http:// or https://")) { try noScheme.validated() }
    }
}
