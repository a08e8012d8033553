import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix

/// A loopback HTTP server for tests: records every request (method, path with query, headers, body) and answers
/// each with the status, headers and body it is told to give.
///
/// ```swift
/// let receiver = try await HTTPReceiver.start()
/// defer { receiver.stop() }
/// receiver.answer(status: 503, body: #"{"error":"busy"}"#)
/// let request = try await receiver.waitForRequests(1)[0]
/// ```
public final class HTTPReceiver: @unchecked Sendable {
    /// One request as it arrived.
    public struct Request: Sendable, CustomStringConvertible {
        public var method: String
        /// The request target: path and query.
        public var path: String
        public var headers: [(name: String, value: String)]
        public var body: [UInt8]

        public var text: String { String(decoding: body, as: UTF8.self) }

        /// The first value of a header, by case-insensitive name.
        public func header(_ name: String) -> String? {
            headers.first { $0.name.lowercased() == name.lowercased() }?.value
        }

        public var description: String { "\(method) \(path) \(text)" }
    }

    /// What the receiver answers.
    public struct Answer: Sendable {
        var status: Int
        var headers: [(String, String)]
        var body: String
    }

    private let lock = NSLock()
    private var recorded: [Request] = []
    private var reply = Answer(status: 200, headers: [], body: "ok")
    private var replies: [(prefix: String, answer: Answer)] = []
    private var channel: (any Channel)?

    /// `http://127.0.0.1:<port>`.
    public private(set) var url = ""

    private init() {}

    /// Starts a receiver on an ephemeral loopback port.
    public static func start() async throws -> HTTPReceiver {
        let receiver = HTTPReceiver()
        let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline()
                    try channel.pipeline.syncOperations.addHandler(RecordingHandler(receiver: receiver))
                }
            }
            .bind(host: "127.0.0.1", port: 0).get()
        receiver.channel = channel
        receiver.url = "http://127.0.0.1:\(channel.localAddress?.port ?? 0)"
        return receiver
    }

    /// Sets the answer to the following requests.
    public func answer(status: Int, body: String = "", headers: [(String, String)] = []) {
        lock.lock()
        reply = Answer(status: status, headers: headers, body: body)
        lock.unlock()
    }

    /// Sets the answer to the following requests whose path starts with `prefix` (others get the general answer).
    public func answer(pathPrefix prefix: String, status: Int, body: String = "", headers: [(String, String)] = []) {
        lock.lock()
        replies.append((prefix, Answer(status: status, headers: headers, body: body)))
        lock.unlock()
    }

    /// The requests so far, in arrival order.
    public var requests: [Request] {
        lock.lock()
        defer { lock.unlock() }
        return recorded
    }

    /// Waits until `count` requests have arrived and returns them; throws after `limit` (a guard against a hang,
    /// not a measure of speed).
    public func waitForRequests(_ count: Int, limit: Duration = .seconds(20)) async throws -> [Request] {
        let clock = ContinuousClock()
        let deadline = clock.now + limit
        while clock.now < deadline {
            let now = requests
            if now.count >= count { return now }
            try await Task.sleep(for: .milliseconds(10))
        }
        throw ReceiverError("expected \(count) request(s) at \(url), got \(requests.count): \(requests)")
    }

    /// Closes the listening socket.
    public func stop() {
        lock.lock()
        let c = channel
        channel = nil
        lock.unlock()
        c?.close(promise: nil)
    }

    fileprivate func record(_ request: Request) -> Answer {
        lock.lock()
        defer { lock.unlock() }
        recorded.append(request)
        return replies.last { request.path.hasPrefix($0.prefix) }?.answer ?? reply
    }
}

public struct ReceiverError: Error, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}

private final class RecordingHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    let receiver: HTTPReceiver
    private var head: HTTPRequestHead?
    private var body: [UInt8] = []

    init(receiver: HTTPReceiver) { self.receiver = receiver }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let h):
            head = h
            body = []
        case .body(var buffer):
            body += buffer.readBytes(length: buffer.readableBytes) ?? []
        case .end:
            guard let head else { return }
            let answer = receiver.record(HTTPReceiver.Request(
                method: head.method.rawValue, path: head.uri, headers: head.headers.map { ($0.name, $0.value) }, body: body))
            var headers = HTTPHeaders(answer.headers)
            headers.replaceOrAdd(name: "Content-Length", value: String(answer.body.utf8.count))
            let status = HTTPResponseStatus(statusCode: answer.status)
            context.write(wrapOutboundOut(.head(HTTPResponseHead(version: head.version, status: status, headers: headers))), promise: nil)
            context.write(wrapOutboundOut(.body(.byteBuffer(context.channel.allocator.buffer(string: answer.body)))), promise: nil)
            context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
            self.head = nil
        }
    }
}
