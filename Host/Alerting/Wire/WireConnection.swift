import NIOCore
import NIOPosix
import NIOSSL

/// A connection failure or a protocol violation on a raw TCP connection, naming the peer.
public struct WireError: Error, Sendable, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// One TCP connection (optionally TLS, or upgraded to TLS later as SMTP's STARTTLS does) read as lines or as exact
/// byte counts: the transport under the SMTP, MQTT and Kafka clients, which speak their protocols by hand because no
/// Swift package for them is on the machine.
///
/// Reads end with "connection closed" when the peer closes, and when the task reading is cancelled (the delivery
/// path's per-attempt timeout); the owner then discards the connection.
actor WireConnection {
    nonisolated let peer: String
    private let channel: any Channel
    private var iterator: AsyncThrowingStream<ByteBuffer, any Error>.AsyncIterator
    private var buffer = ByteBuffer()

    private init(channel: any Channel, stream: AsyncThrowingStream<ByteBuffer, any Error>, peer: String) {
        self.channel = channel
        self.iterator = stream.makeAsyncIterator()
        self.peer = peer
    }

    /// Connects to `host:port`, with TLS from the start when `tls` is given.
    static func connect(host: String, port: Int, tls: TLSConfiguration? = nil, connectTimeout: Duration = .seconds(10)) async throws(WireError) -> WireConnection {
        let peer = "\(host):\(port)"
        let (stream, continuation) = AsyncThrowingStream<ByteBuffer, any Error>.makeStream()
        let context: NIOSSLContext?
        do { context = try tls.map { try NIOSSLContext(configuration: $0) } } catch {
            throw WireError("TLS setup for \(peer) failed: \(error)")
        }
        let serverName = Self.isIPAddress(host) ? nil : host
        let nanos = connectTimeout.components.seconds * 1_000_000_000 + connectTimeout.components.attoseconds / 1_000_000_000
        let bootstrap = ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .connectTimeout(.nanoseconds(nanos))
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    if let context {
                        try channel.pipeline.syncOperations.addHandler(NIOSSLClientHandler(context: context, serverHostname: serverName))
                    }
                    try channel.pipeline.syncOperations.addHandler(StreamBridge(continuation))
                }
            }
        do {
            let channel = try await bootstrap.connect(host: host, port: port).get()
            continuation.onTermination = { _ in channel.close(promise: nil) }
            return WireConnection(channel: channel, stream: stream, peer: peer)
        } catch {
            continuation.finish()
            throw WireError("cannot connect to \(peer): \(Self.describe(error))")
        }
    }

    /// Puts TLS under the connection from now on (after SMTP's `STARTTLS` was accepted).
    func startTLS(_ tls: TLSConfiguration, serverName: String) async throws(WireError) {
        let name = Self.isIPAddress(serverName) ? nil : serverName
        do {
            let context = try NIOSSLContext(configuration: tls)
            let channel = self.channel
            try await channel.eventLoop.submit {
                try channel.pipeline.syncOperations.addHandler(NIOSSLClientHandler(context: context, serverHostname: name), position: .first)
            }.get()
        } catch {
            throw WireError("STARTTLS with \(peer) failed: \(Self.describe(error))")
        }
    }

    func write(_ bytes: [UInt8]) async throws(WireError) {
        do {
            try await channel.writeAndFlush(ByteBuffer(bytes: bytes)).get()
        } catch {
            if let cause = await closedReason() { throw cause }
            throw WireError("writing to \(peer) failed: \(Self.describe(error))")
        }
    }

    /// Why a closed channel closed, when it closed on an error (a TLS handshake refusing the peer's certificate
    /// closes it, and only the inbound side is told why).
    private func closedReason() async -> WireError? {
        guard !channel.isActive else { return nil }
        var it = iterator
        defer { iterator = it }
        do {
            while try await it.next(isolation: self) != nil {}
            return nil
        } catch {
            return WireError("connection to \(peer) failed: \(Self.describe(error))")
        }
    }

    /// The next line without its CR LF (at most 64 KiB).
    func readLine() async throws(WireError) -> String {
        while true {
            if let i = buffer.readableBytesView.firstIndex(of: UInt8(ascii: "\n")) {
                let length = i - buffer.readerIndex
                var bytes = buffer.readBytes(length: length + 1) ?? []
                bytes.removeLast()
                if bytes.last == UInt8(ascii: "\r") { bytes.removeLast() }
                return String(decoding: bytes, as: UTF8.self)
            }
            if buffer.readableBytes > 64 << 10 { throw WireError("\(peer) sent a line longer than 64 KiB") }
            try await fill()
        }
    }

    /// Exactly `count` bytes.
    func read(_ count: Int) async throws(WireError) -> [UInt8] {
        while buffer.readableBytes < count { try await fill() }
        return buffer.readBytes(length: count) ?? []
    }

    func close() async {
        try? await channel.close().get()
    }

    private func fill() async throws(WireError) {
        var it = iterator
        let chunk: ByteBuffer?
        do { chunk = try await it.next(isolation: self) } catch {
            iterator = it
            throw WireError("connection to \(peer) failed: \(Self.describe(error))")
        }
        iterator = it
        guard var chunk else { throw WireError("connection closed by \(peer)") }
        buffer.discardReadBytes()
        buffer.writeBuffer(&chunk)
    }

    static func isIPAddress(_ host: String) -> Bool {
        (try? SocketAddress(ipAddress: host, port: 0)) != nil
    }

    static func describe(_ error: any Error) -> String {
        if let e = error as? NIOConnectionError, let first = e.connectionErrors.first { return "\(first.error)" }
        if let e = error as? ChannelError, case .connectTimeout = e { return "timed out" }
        return "\(error)"
    }
}

/// Hands the bytes a channel reads to an async stream.
private final class StreamBridge: ChannelInboundHandler, Sendable {
    typealias InboundIn = ByteBuffer
    let continuation: AsyncThrowingStream<ByteBuffer, any Error>.Continuation

    init(_ continuation: AsyncThrowingStream<ByteBuffer, any Error>.Continuation) { self.continuation = continuation }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        continuation.yield(unwrapInboundIn(data))
    }

    func channelInactive(context: ChannelHandlerContext) {
        continuation.finish()
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        continuation.finish(throwing: error)
        context.close(promise: nil)
    }
}
