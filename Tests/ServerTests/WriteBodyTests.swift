import CompressNIO
import Engine
import Foundation
import Hummingbird
@testable import Server
import Synchronization
import Testing
import TockModel

/// `/write` bodies as they reach `WriteHandler`: cut into chunks of every size, gzip'd or not, truncated, corrupt,
/// failing mid-way or never ending. The points are read where a task receives them.
@Suite("/write bodies: every byte once, or nothing")
struct WriteBodyTests {
    /// Line `i` of a test body, with escapes, a string with quotes, and its own timestamp (seconds).
    static func line(_ i: Int) -> String {
        #"cpu,host=h\#(i % 13),path=C:\temp\\\#(i) usage=\#(i).5,n=\#(i)i,msg="line \#(i) \"q\" \\" \#(1_000_000_000 + i)"#
    }

    /// The point line `i` is, written out by hand (not parsed), as a task gets it.
    static func expected(_ i: Int) -> (name: String, tags: Tags, fields: Fields, time: Int64) {
        ("cpu", ["host": "h\(i % 13)", "path": #"C:\temp\\\#(i)"#],
         ["usage": .double(Double(i) + 0.5), "n": .int(Int64(i)), "msg": .string(#"line \#(i) "q" \"#)],
         Int64(1_000_000_000 + i) * 1_000_000_000)
    }

    static func body(lines: Int) -> [UInt8] {
        Array((0..<lines).map { line($0) + "\n" }.joined().utf8)
    }

    static func gzip(_ bytes: [UInt8]) throws -> [UInt8] {
        var buffer = ByteBuffer(bytes: bytes)
        return Array(try buffer.compress(with: .gzip).readableBytesView)
    }

    static let gzipped1000: [UInt8] = try! gzip(body(lines: 1_000))

    /// Checks that `points` are exactly lines `0..<count`, in order.
    static func expectLines(_ points: [Point], count: Int, sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(points.count == count, sourceLocation: sourceLocation)
        for (i, p) in points.enumerated() {
            let e = expected(i)
            if p.name != e.name || p.tags != e.tags || p.fields != e.fields || p.time != e.time {
                Issue.record("point \(i) is \(p), expected \(e)", sourceLocation: sourceLocation)
                return
            }
        }
    }

    @Test("a 1,000-line gzip body cut into chunks of every size from 1 to 64 bytes (and larger) delivers exactly its lines",
          arguments: Array(1...64) + [100, 1000, 4096, 65536, gzipped1000.count])
    func gzipChunks(size: Int) async throws {
        let sink = try TaskSink()
        let response = try await sink.write(Self.gzipped1000, chunkSize: size, gzip: true)
        #expect(response.status == .noContent)
        Self.expectLines(try sink.finish(), count: 1_000)
    }

    @Test("a 100,000-line gzip body delivers exactly its lines, in chunks of 1, 7, 4096 and 65536 bytes",
          arguments: [1, 7, 4096, 65536])
    func largeGzip(size: Int) async throws {
        let compressed = try Self.gzip(Self.body(lines: 100_000))
        let sink = try TaskSink()
        let response = try await sink.write(compressed, chunkSize: size, gzip: true)
        #expect(response.status == .noContent)
        Self.expectLines(try sink.finish(), count: 100_000)
    }

    @Test("a plain body cut into chunks of every size from 1 to 16 bytes delivers exactly its lines", arguments: Array(1...16))
    func plainChunks(size: Int) async throws {
        let sink = try TaskSink()
        let response = try await sink.write(Self.body(lines: 1_000), chunkSize: size, gzip: false)
        #expect(response.status == .noContent)
        Self.expectLines(try sink.finish(), count: 1_000)
    }

    @Test("gzip members one after the other are one body, as Go's gzip reader reads them")
    func gzipMembers() async throws {
        let all = Self.body(lines: 300)
        let cut = all.firstIndex(of: UInt8(ascii: "\n"))! + 1 + 4_000 // inside a line
        let twoMembers = try Self.gzip(Array(all[..<cut])) + Self.gzip(Array(all[cut...]))
        for size in [1, 3, 512, twoMembers.count] {
            let sink = try TaskSink()
            #expect(try await sink.write(twoMembers, chunkSize: size, gzip: true).status == .noContent)
            Self.expectLines(try sink.finish(), count: 300)
        }
    }

    @Test("a gzip body cut short anywhere is 400 \"unexpected EOF\" and delivers nothing")
    func truncatedGzip() async throws {
        let compressed = try Self.gzip(Self.body(lines: 100))
        let sink = try TaskSink()
        for length in 0..<compressed.count {
            let error = try await sink.refusal(Array(compressed[..<length]), chunkSize: 7, gzip: true)
            #expect(error?.status == .badRequest)
            #expect(error?.message.contains("unexpected EOF") == true, "\(length): \(error?.message ?? "accepted")")
        }
        #expect(try sink.finish().isEmpty)
    }

    @Test("corrupt gzip — a changed byte anywhere, a wrong header, data after the end — is 400 naming the problem, and delivers nothing")
    func corruptGzip() async throws {
        let compressed = try Self.gzip(Self.body(lines: 100))
        let sink = try TaskSink()
        // Every byte after the fixed part of the header (mtime, flags and OS bytes 4...9 are not checked by the CRC).
        for at in [0, 1, 2, 3] + Array(10..<compressed.count) {
            var bad = compressed
            bad[at] ^= 0x55
            let error = try await sink.refusal(bad, chunkSize: 64, gzip: true)
            #expect(error?.status == .badRequest, "byte \(at)")
            #expect(error?.message.contains("invalid gzip body") == true, "byte \(at): \(error?.message ?? "accepted")")
        }
        let plain = try await sink.refusal(Self.body(lines: 3), chunkSize: 64, gzip: true)
        #expect(plain?.message.contains("invalid header") == true)
        let trailing = try await sink.refusal(compressed + Array("cpu v=1\n".utf8), chunkSize: 64, gzip: true)
        #expect(trailing?.message.contains("invalid header") == true)
        #expect(trailing?.message.contains("after the end of the gzip stream") == true)
        #expect(try sink.finish().isEmpty)
    }

    @Test("a body whose stream fails mid-way (bad chunked encoding, a cut connection) is 400 and delivers nothing")
    func bodyReadError() async throws {
        struct Broken: Error, CustomStringConvertible { var description: String { "invalid chunk size" } }
        let sink = try TaskSink()
        for gzip in [false, true] {
            let bytes = gzip ? Self.gzipped1000 : Self.body(lines: 1_000)
            let error = try await sink.refusal(Array(bytes[..<(bytes.count / 2)]), chunkSize: 100, gzip: gzip, failing: Broken())
            #expect(error?.status == .badRequest)
            #expect(error?.message == "cannot read the request body: invalid chunk size: nothing was written")
        }
        #expect(try sink.finish().isEmpty)
    }

    @Test("a body that ends before its Content-Length (the connection closed) is 400 and delivers nothing")
    func shortOfContentLength() async throws {
        let sink = try TaskSink()
        let bytes = Self.body(lines: 100)
        let cut = Array(bytes[..<(bytes.count - 10)])
        let error = try await sink.refusal(request: sink.request(body: RequestBody(asyncSequence: Chunks(cut, size: 500)),
                                                                 gzip: false, contentLength: bytes.count))
        #expect(error?.status == .badRequest)
        #expect(error?.message.contains("ended after \(cut.count) of its \(bytes.count) bytes") == true)
        #expect(try sink.finish().isEmpty)
    }

    @Test("a body over max-body-size after decoding is 413 and delivers nothing, not even its first lines")
    func bodyLimit() async throws {
        let sink = try TaskSink(maxBodySize: 10_000)
        let plain = try await sink.refusal(Self.body(lines: 1_000), chunkSize: 1_000, gzip: false)
        #expect(plain?.status == .payloadTooLarge)
        let gzipped = try await sink.refusal(Self.gzipped1000, chunkSize: 1_000, gzip: true)
        #expect(gzipped?.status == .payloadTooLarge)
        #expect(gzipped?.message.contains("after gzip decoding") == true)
        #expect(try sink.finish().isEmpty)
    }

    @Test("a body that never ends is answered 408 once [http] read-timeout has passed, and delivers nothing")
    func readTimeout() async throws {
        let sink = try TaskSink(readTimeout: 200 * GoDuration.millisecond)
        let (stream, continuation) = AsyncStream<ByteBuffer>.makeStream()
        continuation.yield(ByteBuffer(bytes: Self.body(lines: 10)))
        // The body never finishes: only the timeout can end the request.
        let error = try await sink.refusal(request: sink.request(body: RequestBody(asyncSequence: stream), gzip: false))
        #expect(error?.status == .requestTimeout)
        #expect(error?.message.contains("read-timeout of 200ms") == true)
        continuation.finish()
        #expect(try sink.finish().isEmpty)
    }
}

/// A running task (`stream|from().measurement('cpu')`) and a `WriteHandler` that writes to it; collects what the task's
/// `from()` emits.
final class TaskSink: Sendable {
    final class Received: Sendable {
        let points = Mutex<[Point]>([])
    }

    let runner: TaskRunner
    let handler: WriteHandler
    private let received = Received()

    init(maxBodySize: Int = 25_000_000, readTimeout: Int64 = 0) throws {
        let received = self.received
        runner = try TaskRunner(script: "stream\n    |from()\n        .measurement('cpu')\n",
                                options: .init(taskID: "sink"),
                                handlers: .init(output: { _, message in
                                    if case .point(let p) = message { received.points.withLock { $0.append(p) } }
                                }))
        try runner.start()
        let runner = self.runner
        handler = WriteHandler(routes: { db, rp in db == "telegraf" && rp == "autogen" ? StreamRoute([runner]) : .empty },
                               metrics: Metrics(), defaultRetentionPolicy: "", maxBodySize: maxBodySize,
                               readTimeout: readTimeout)
    }

    func request(body: RequestBody, gzip: Bool, contentLength: Int? = nil) -> Request {
        var fields: HTTPFields = [:]
        if gzip { fields[.contentEncoding] = "gzip" }
        if let contentLength { fields[.contentLength] = String(contentLength) }
        let head = HTTPRequest(method: .post, scheme: "http", authority: "localhost",
                               path: "/write?db=telegraf&precision=s", headerFields: fields)
        return Request(head: head, body: body)
    }

    /// Writes `bytes` in chunks of `chunkSize`, the last one failing with `failing` when given.
    func write(_ bytes: [UInt8], chunkSize: Int, gzip: Bool, failing: (any Error)? = nil) async throws -> Response {
        try await handler.handle(request(body: RequestBody(asyncSequence: Chunks(bytes, size: chunkSize, failing: failing)),
                                         gzip: gzip))
    }

    /// The error a write is answered with; nil when it was accepted.
    func refusal(_ bytes: [UInt8], chunkSize: Int, gzip: Bool, failing: (any Error)? = nil) async throws -> APIError? {
        try await refusal(request: request(body: RequestBody(asyncSequence: Chunks(bytes, size: chunkSize, failing: failing)),
                                           gzip: gzip))
    }

    func refusal(request: Request) async throws -> APIError? {
        do {
            _ = try await handler.handle(request)
            return nil
        } catch let error as APIError {
            return error
        }
    }

    /// Stops the task (it drains first) and returns every point it received.
    func finish() throws -> [Point] {
        try runner.stop()
        return received.points.withLock { $0 }
    }
}

/// A body as an async sequence of chunks of `size` bytes, optionally failing after the last one.
struct Chunks: AsyncSequence, Sendable {
    typealias Element = ByteBuffer
    let bytes: [UInt8]
    let size: Int
    let failing: (any Error)?

    init(_ bytes: [UInt8], size: Int, failing: (any Error)? = nil) {
        self.bytes = bytes
        self.size = size
        self.failing = failing
    }

    struct AsyncIterator: AsyncIteratorProtocol, Sendable {
        let chunks: Chunks
        var offset = 0
        var failed = false

        mutating func next() async throws -> ByteBuffer? {
            if offset < chunks.bytes.count {
                let end = Swift.min(offset + chunks.size, chunks.bytes.count)
                defer { offset = end }
                return ByteBuffer(bytes: chunks.bytes[offset..<end])
            }
            if let failing = chunks.failing, !failed {
                failed = true
                throw failing
            }
            return nil
        }
    }

    func makeAsyncIterator() -> AsyncIterator { AsyncIterator(chunks: self) }
}
