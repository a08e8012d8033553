import Foundation
import LineProtocol
import NIOCore
import NIOPosix
import Synchronization
import TockModel

/// A UDP socket whose datagrams are line protocol for one database and retention policy: a `[[udp]]` section, or
/// one InfluxDB subscription with `subscription-protocol = "udp"`.
///
/// Datagrams wait in a queue of at most `capacity`; when the tasks fall behind, further datagrams are dropped and
/// counted rather than held without bound. Each datagram is parsed and delivered as a `/write` body is (``WriteHandler/ingest(_:database:retentionPolicy:precision:arrival:)``); a bad line is counted and
/// logged with its line and column within its datagram, and the good lines around it are delivered.
final class UDPListener: Sendable {
    struct Target: Sendable {
        var database: String
        var retentionPolicy: String
        var precision: Precision
    }

    /// The bound port (the kernel's choice when 0 was asked).
    let port: Int
    let target: Target
    private let channel: any Channel
    private let consumer: Task<Void, Never>
    private let counters: Counters

    /// Datagrams read from the socket; dropped because the queue was full; lines that did not parse.
    final class Counters: Sendable {
        let received = Atomic<Int>(0)
        let dropped = Atomic<Int>(0)
        let badLines = Atomic<Int>(0)
        let points = Atomic<Int>(0)
    }

    var received: Int { counters.received.load(ordering: .relaxed) }
    var dropped: Int { counters.dropped.load(ordering: .relaxed) }
    var badLines: Int { counters.badLines.load(ordering: .relaxed) }
    var points: Int { counters.points.load(ordering: .relaxed) }

    /// The largest datagram read whole (UDP's own limit).
    static let maximumDatagram = 65_536

    private init(port: Int, target: Target, channel: any Channel, consumer: Task<Void, Never>, counters: Counters) {
        self.port = port
        self.target = target
        self.channel = channel
        self.consumer = consumer
        self.counters = counters
    }

    /// Binds `host`:`port` and starts delivering.
    /// - Parameters:
    ///   - capacity: datagrams waiting for the tasks at most.
    ///   - readBuffer: `SO_RCVBUF` in bytes; 0 leaves the system's.
    ///   - label: how log lines name the listener (`[[udp]] 127.0.0.1:8089`, `subscription db.rp`).
    static func start(host: String, port: Int, target: Target, capacity: Int, readBuffer: Int, handler: WriteHandler,
                      log: LogSink, label: String) async throws -> UDPListener {
        let counters = Counters()
        let (stream, continuation) = AsyncStream.makeStream(of: ByteBuffer.self, bufferingPolicy: .bufferingOldest(max(capacity, 1)))
        var bootstrap = DatagramBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .channelOption(.socketOption(.so_reuseaddr), value: 1)
            .channelOption(.recvAllocator, value: FixedSizeRecvByteBufferAllocator(capacity: maximumDatagram))
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(DatagramHandler(continuation: continuation, counters: counters))
                }
            }
        if readBuffer > 0 {
            bootstrap = bootstrap.channelOption(.socketOption(.so_rcvbuf), value: SocketOptionValue(readBuffer))
        }
        let channel: any Channel
        do {
            channel = try await bootstrap.bind(host: host, port: port).get()
        } catch {
            continuation.finish()
            throw UDPListenerError("cannot listen for UDP on \(host):\(port) (\(label)): \(error)")
        }
        let consumer = Task.detached {
            await consume(stream, target: target, handler: handler, counters: counters, log: log, label: label)
        }
        return UDPListener(port: channel.localAddress?.port ?? port, target: target, channel: channel, consumer: consumer,
                           counters: counters)
    }

    /// Closes the socket; datagrams already queued are still delivered.
    func close() async {
        try? await channel.close()
        await consumer.value
    }

    private static func consume(_ stream: AsyncStream<ByteBuffer>, target: Target, handler: WriteHandler,
                                counters: Counters, log: LogSink, label: String) async {
        for await var datagram in stream {
            handler.metrics.writeRequested()
            // Each datagram stands alone: a line cut at the end of one does not run into the next.
            if datagram.readableBytesView.last != UInt8(ascii: "\n") { datagram.writeInteger(UInt8(ascii: "\n")) }
            let state = datagram.withUnsafeReadableBytes { bytes in
                handler.ingest(bytes, database: target.database, retentionPolicy: target.retentionPolicy,
                               precision: target.precision, arrival: nowNanoseconds())
            }
            counters.points.add(state.delivered, ordering: .relaxed)
            guard let first = state.firstError else { continue }
            counters.badLines.add(state.badLines, ordering: .relaxed)
            handler.metrics.writeFailed(badLines: state.badLines)
            log.log(.error, "bad line protocol in UDP datagram", [
                "listener": label, "line": "\(first.line)", "column": "\(first.column)", "err": first.message,
                "bad_lines": "\(state.badLines)", "points": "\(state.delivered)",
            ])
        }
    }
}

/// Hands each datagram's bytes to the queue; counts what the full queue drops.
private final class DatagramHandler: ChannelInboundHandler, Sendable {
    typealias InboundIn = AddressedEnvelope<ByteBuffer>
    let continuation: AsyncStream<ByteBuffer>.Continuation
    let counters: UDPListener.Counters

    init(continuation: AsyncStream<ByteBuffer>.Continuation, counters: UDPListener.Counters) {
        self.continuation = continuation
        self.counters = counters
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let envelope = unwrapInboundIn(data)
        counters.received.add(1, ordering: .relaxed)
        if case .dropped = continuation.yield(envelope.data) { counters.dropped.add(1, ordering: .relaxed) }
    }

    func channelInactive(context: ChannelHandlerContext) {
        continuation.finish()
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        // A read error (ICMP port unreachable and the like) does not end the listener.
    }
}

struct UDPListenerError: Error, CustomStringConvertible, Sendable {
    var description: String
    init(_ description: String) { self.description = description }
}
