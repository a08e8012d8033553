import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix

/// The loopback HTTP receiver of `tock bench alerts`: answers every POST with an empty 200 (keep-alive) and records,
/// per alert, the wall-clock time it arrived. An alert is known by its sequence number, the digits of its JSON's
/// `"message"` (the bench's alert sets `.message('{{ index .Fields "seq" }}')`).
final class BenchAlertsReceiver: @unchecked Sendable {
    private let lock = NSLock()
    // Guarded by `lock`.
    private var delivered: [Int64]
    private var count = 0
    private var unknown = 0
    private var firstBody: [UInt8]?
    private var channel: (any Channel)?

    /// `http://127.0.0.1:<port>/alert`.
    private(set) var url = ""

    private init(capacity: Int) { delivered = Array(repeating: 0, count: capacity) }

    /// A receiver on an ephemeral loopback port, for alerts numbered `0..<capacity`.
    static func start(capacity: Int) throws -> BenchAlertsReceiver {
        let receiver = BenchAlertsReceiver(capacity: capacity)
        let channel = try ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline()
                    try channel.pipeline.syncOperations.addHandler(StampingHandler(receiver: receiver))
                }
            }
            .bind(host: "127.0.0.1", port: 0).wait()
        receiver.channel = channel
        receiver.url = "http://127.0.0.1:\(channel.localAddress?.port ?? 0)/alert"
        return receiver
    }

    /// Forgets every delivery, for the next run.
    func reset() {
        lock.withLock {
            for i in delivered.indices { delivered[i] = 0 }
            count = 0
            unknown = 0
        }
    }

    /// Alerts received (with a sequence number in range) and requests without one.
    var received: (alerts: Int, unknown: Int) { lock.withLock { (count, unknown) } }

    /// The arrival times (Unix ns) by sequence number; 0 for an alert that never came.
    var deliveries: [Int64] { lock.withLock { delivered } }

    /// The first alert body received, as sent.
    var sampleBody: [UInt8]? { lock.withLock { firstBody } }

    /// Waits (on this thread) until `alerts` alerts arrived or `limit` seconds passed; whether they all came.
    func wait(for alerts: Int, limit: Double) -> Bool {
        let deadline = Date().addingTimeInterval(limit)
        while Date() < deadline {
            if received.alerts >= alerts { return true }
            Thread.sleep(forTimeInterval: 0.001)
        }
        return received.alerts >= alerts
    }

    func stop() {
        let c = lock.withLock { () -> (any Channel)? in
            defer { channel = nil }
            return channel
        }
        try? c?.close().wait()
    }

    fileprivate func record(_ body: [UInt8], at time: Int64) {
        let seq = Self.sequence(in: body)
        lock.withLock {
            if firstBody == nil { firstBody = body }
            guard let seq, seq >= 0, seq < delivered.count else {
                unknown += 1
                return
            }
            if delivered[seq] == 0 { count += 1 }
            delivered[seq] = time
        }
    }

    private static let marker = Array(#""message":""#.utf8)

    /// The integer at the start of the body's `"message"` string.
    static func sequence(in body: [UInt8]) -> Int? {
        guard body.count > marker.count else { return nil }
        var i = 0
        search: while i + marker.count <= body.count {
            for j in 0..<marker.count where body[i + j] != marker[j] {
                i += 1
                continue search
            }
            break
        }
        i += marker.count
        var value = 0, digits = 0
        while i < body.count, body[i] >= 0x30, body[i] <= 0x39 {
            value = value * 10 + Int(body[i] - 0x30)
            digits += 1
            i += 1
        }
        return digits > 0 ? value : nil
    }

    /// Now, in Unix nanoseconds: the clock both this process and the Python children read.
    static func unixNanoseconds() -> Int64 {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return Int64(ts.tv_sec) * 1_000_000_000 + Int64(ts.tv_nsec)
    }
}

private final class StampingHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    let receiver: BenchAlertsReceiver
    private var head: HTTPRequestHead?
    private var body: [UInt8] = []

    init(receiver: BenchAlertsReceiver) { self.receiver = receiver }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let h):
            head = h
            body.removeAll(keepingCapacity: true)
        case .body(var buffer):
            body += buffer.readBytes(length: buffer.readableBytes) ?? []
        case .end:
            guard let head else { return }
            receiver.record(body, at: BenchAlertsReceiver.unixNanoseconds())
            var headers = HTTPHeaders()
            headers.add(name: "Content-Length", value: "0")
            if !head.isKeepAlive { headers.add(name: "Connection", value: "close") }
            context.write(wrapOutboundOut(.head(HTTPResponseHead(version: head.version, status: .ok, headers: headers))), promise: nil)
            let keepAlive = head.isKeepAlive
            context.writeAndFlush(wrapOutboundOut(.end(nil))).whenComplete { [channel = context.channel] _ in
                if !keepAlive { channel.close(promise: nil) }
            }
            self.head = nil
        }
    }
}
