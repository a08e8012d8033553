import Foundation
import Synchronization
import Testing
import UDFKit
#if canImport(Glibc)
import Glibc
#endif

/// Echoes points with a counter field; fails on a point named "fail"; fails init without option `ok`.
struct Counter: UDFHandler {
    var seen: Int64 = 0
    var state = Data()

    func info() -> Agent_InfoResponse {
        Agent_InfoResponse(wants: .stream, provides: .stream, options: ["ok": [.bool]])
    }

    mutating func initialize(_ request: Agent_InitRequest) -> UDFResult {
        request.values(of: "ok").last?.first?.boolValue == true ? .success : .failure("option ok must be true")
    }

    mutating func snapshot() throws -> Data { Data("seen=\(seen)".utf8) }

    mutating func point(_ point: Agent_Point, output: inout UDFOutput) throws {
        if point.name == "fail" { throw UDFHandlerError("boom") }
        seen += 1
        var p = point
        p.fieldsInt["seen"] = seen
        try output.emit(p)
    }
}

enum Requests {
    static func frame(_ build: (inout Agent_Request) -> Void) -> [UInt8] {
        var r = Agent_Request()
        build(&r)
        var out: [UInt8] = []
        try! FrameEncoder.appendMessage(r, to: &out)
        return out
    }

    static let info = frame { $0.info = Agent_InfoRequest() }
    static func initialize(ok: Bool) -> [UInt8] {
        frame { r in
            var v = Agent_OptionValue()
            v.type = .bool
            v.boolValue = ok
            var o = Agent_Option()
            o.name = "ok"
            o.values = [v]
            r.init_p.options = [o]
        }
    }
    static func keepalive(_ t: Int64) -> [UInt8] { frame { $0.keepalive.time = t } }
    static func point(_ name: String) -> [UInt8] { frame { $0.point.name = name } }
    static let snapshot = frame { $0.snapshot = Agent_SnapshotRequest() }
    static func restore(_ bytes: [UInt8]) -> [UInt8] { frame { $0.restore.snapshot = Data(bytes) } }
    static let begin = frame { $0.begin.name = "b" }
}

func responses(_ bytes: [UInt8]) throws -> [Agent_Response] {
    var decoder = FrameDecoder()
    decoder.append(bytes)
    var out: [Agent_Response] = []
    while let f = try decoder.nextFrame() { out.append(try Agent_Response(frame: f)) }
    try decoder.finish()
    return out
}

/// Runs an agent over `input` (delivered through a pipe, then EOF) and returns what it wrote.
func runAgent<H: UDFHandler>(_ handler: H, input: [UInt8]) throws -> (output: [UInt8], error: UDFAgentError?) {
    var fds: [Int32] = [0, 0]
    try #require(pipe(&fds) == 0)
    let outURL = FileManager.default.temporaryDirectory.appendingPathComponent("udfkit-\(UUID().uuidString)")
    let outFD = open(outURL.path, O_RDWR | O_CREAT | O_TRUNC, 0o600)
    try #require(outFD >= 0)
    defer {
        close(outFD)
        try? FileManager.default.removeItem(at: outURL)
    }
    try #require(input.count < 60_000, "the test writes the input into the pipe before running the agent")
    _ = input.withUnsafeBytes { write(fds[1], $0.baseAddress, $0.count) }
    close(fds[1])
    var agent = Agent(handler: handler, input: fds[0], output: outFD)
    var failure: UDFAgentError?
    do { try agent.run() } catch { failure = error }
    close(fds[0])
    return (Array(try Data(contentsOf: outURL)), failure)
}

@Suite("UDFKit Agent")
struct AgentTests {
    @Test("answers info, init, keepalive, snapshot and restore, and emits points, in order")
    func conversation() throws {
        let input = Requests.info + Requests.initialize(ok: true) + Requests.keepalive(77) + Requests.point("cpu")
            + Requests.point("mem") + Requests.snapshot + Requests.restore([]) + Requests.restore([1])
        let (bytes, error) = try runAgent(Counter(), input: input)
        #expect(error == nil)
        let r = try responses(bytes)
        try #require(r.count == 8)
        #expect(r[0].info.wants == .stream)
        #expect(r[0].info.options["ok"]?.valueTypes == [.bool])
        #expect(r[1].init_p.success)
        #expect(r[2].keepalive.time == 77)
        #expect(r[3].point.name == "cpu")
        #expect(r[3].point.fieldsInt == ["seen": 1])
        #expect(r[4].point.fieldsInt == ["seen": 2])
        #expect(r[5].snapshot.snapshot == Data("seen=2".utf8))
        #expect(r[6].restore.success)
        #expect(!r[7].restore.success)
        #expect(r[7].restore.error == "restore not implemented")
    }

    @Test("a failed init is an InitResponse with the handler's message, not an error")
    func initFailure() throws {
        let (bytes, error) = try runAgent(Counter(), input: Requests.initialize(ok: false) + Requests.point("x"))
        #expect(error == nil)
        let r = try responses(bytes)
        #expect(r.count == 2)
        #expect(r[0].init_p.success == false)
        #expect(r[0].init_p.error == "option ok must be true")
    }

    @Test("a handler error becomes an ErrorResponse and stops the agent")
    func handlerError() throws {
        let input = Requests.point("a") + Requests.point("fail") + Requests.point("never")
        let (bytes, error) = try runAgent(Counter(), input: input)
        let r = try responses(bytes)
        #expect(r.count == 2)
        #expect(r[1].error.error == "error processing request of type point: boom")
        #expect(error?.description == "error processing request of type point: boom")
    }

    @Test("a stream UDF sent a batch reports that it does not accept batches")
    func batchToStreamUDF() throws {
        let (bytes, _) = try runAgent(Counter(), input: Requests.begin)
        #expect(try responses(bytes).first?.error.error
            == "error processing request of type begin: this UDF does not accept batches")
    }

    @Test("input that ends inside a frame is reported to the host")
    func truncatedInput() throws {
        let (bytes, error) = try runAgent(Counter(), input: Array(Requests.point("cpu").dropLast()))
        #expect(try responses(bytes).first?.error.error == "error reading request: unexpected EOF, expected 1 more bytes")
        #expect(error != nil)
    }

    @Test("responses are written while the host keeps the input open")
    func flushesWithoutEOF() throws {
        var toAgent: [Int32] = [0, 0], fromAgent: [Int32] = [0, 0]
        try #require(pipe(&toAgent) == 0 && pipe(&fromAgent) == 0)
        let done = Mutex<Bool>(false)
        let agentIn = toAgent[0], agentOut = fromAgent[1]
        Thread.detachNewThread {
            var agent = Agent(handler: Counter(), input: agentIn, output: agentOut)
            try? agent.run()
            done.withLock { $0 = true }
            close(agentOut)
        }
        var reader = FrameReader(fd: fromAgent[0])
        for (request, check) in [(Requests.info, "info"), (Requests.point("cpu"), "point")] {
            _ = request.withUnsafeBytes { write(toAgent[1], $0.baseAddress, $0.count) }
            // Blocks until the agent flushes; a missing flush would hang here, not pass.
            let response = try #require(try reader.next())
            if check == "info" { #expect(response.info.wants == .stream) } else { #expect(response.point.name == "cpu") }
        }
        close(toAgent[1])
        #expect(try reader.next() == nil)
        #expect(done.withLock { $0 })
        close(toAgent[0])
        close(fromAgent[0])
    }
}

/// Reads Responses from a file descriptor, blocking.
struct FrameReader {
    let fd: Int32
    var decoder = FrameDecoder()

    init(fd: Int32) { self.fd = fd }

    mutating func next() throws -> Agent_Response? {
        var buf = [UInt8](repeating: 0, count: 4096)
        while true {
            if let f = try decoder.nextFrame() { return try Agent_Response(frame: f) }
            let n = buf.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n <= 0 {
                try decoder.finish()
                return nil
            }
            decoder.append(buf[0..<n])
        }
    }
}
