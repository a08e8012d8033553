import Foundation
import LineProtocol
import Logging
import NIOCore
import NIOPosix
import Synchronization
import TockModel

/// A UDP socket whose datagrams are line protocol for one database and retention policy: a `[[udp]]` section, or
/// one InfluxDB subscription with `subscription-protocol = "udp"`.
///
/// Datagrams are gathered into batches, as InfluxDB's and Kapacitor's udp service does: a batch goes to the tasks
/// once it holds `batch-size` lines or `batch-timeout` after its first datagram (``Batching``; subscriptions' listeners
/// deliver each datagram at once). Batches wait in a queue of at most `capacity`; when the tasks fall behind,
/// further batches are dropped and their datagrams counted rather than held without bound. A batch is parsed and
/// delivered as a `/write` body is (``WriteHandler/ingest(_:database:retentionPolicy:precision:arrival:)``); a bad
/// line is counted and logged with its line and column within its datagram, and the good lines around it are
/// delivered.
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

    /// When a batch of datagrams goes to the tasks: at `size` lines, or `timeout` nanoseconds after its first
    /// datagram. A size of 1 hands each datagram over alone.
    struct Batching: Sendable {
        var size: Int
        var timeout: Int64
        static let none = Batching(size: 1, timeout: 0)
    }

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
    ///   - capacity: batches waiting for the tasks at most.
    ///   - batching: when a batch is handed over.
    ///   - readBuffer: `SO_RCVBUF` in bytes; 0 leaves the system's.
    ///   - label: how log lines name the listener (`[[udp]] 127.0.0.1:8089`, `subscription db.rp`).
    static func start(host: String, port: Int, target: Target, capacity: Int, batching: Batching = .none, readBuffer: Int,
                      handler: WriteHandler, log: Logger, label: String) async throws -> UDPListener {
        let counters = Counters()
        let (stream, continuation) = AsyncStream.makeStream(of: DatagramBatch.self, bufferingPolicy: .bufferingOldest(max(capacity, 1)))
        var bootstrap = DatagramBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .channelOption(.socketOption(.so_reuseaddr), value: 1)
            .channelOption(.recvAllocator, value: FixedSizeRecvByteBufferAllocator(capacity: maximumDatagram))
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(
                        DatagramHandler(continuation: continuation, counters: counters, batching: batching))
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

    private static func consume(_ stream: AsyncStream<DatagramBatch>, target: Target, handler: WriteHandler,
                                counters: Counters, log: Logger, label: String) async {
        for await batch in stream {
            handler.metrics.writeRequested()
            let state = batch.bytes.withUnsafeReadableBytes { bytes in
                handler.ingest(bytes, database: target.database, retentionPolicy: target.retentionPolicy,
                               precision: target.precision, arrival: nowNanoseconds())
            }
            counters.points.add(state.delivered, ordering: .relaxed)
            guard let first = state.firstError else { continue }
            counters.badLines.add(state.badLines, ordering: .relaxed)
            handler.metrics.writeFailed(badLines: state.badLines)
            let (datagram, line) = batch.locate(line: first.line)
            let which = batch.firstLines.count > 1 ? "\(datagram) of \(batch.firstLines.count)" : "1"
            log.error("bad line protocol in UDP datagram", metadata: [
                "listener": .string(label), "datagram": .string(which), "line": "\(line)", "column": "\(first.column)",
                "err": .string(first.message), "bad_lines": "\(state.badLines)", "points": "\(state.delivered)",
            ])
        }
    }
}

/// Datagrams handed to the tasks together, each ending in a line break (a line cut at the end of one does not run
/// into the next).
struct DatagramBatch: Sendable {
    var bytes = ByteBuffer()
    /// The line of ``bytes`` each datagram starts on (1-based).
    var firstLines: [Int] = []
    var lines = 0

    mutating func append(_ datagram: ByteBuffer) {
        var datagram = datagram
        if datagram.readableBytesView.last != UInt8(ascii: "\n") { datagram.writeInteger(UInt8(ascii: "\n")) }
        firstLines.append(lines + 1)
        lines += datagram.readableBytesView.reduce(0) { $1 == UInt8(ascii: "\n") ? $0 + 1 : $0 }
        bytes.writeImmutableBuffer(datagram)
    }

    /// The datagram (1-based) holding line `line` of the batch, and the line within it.
    func locate(line: Int) -> (datagram: Int, line: Int) {
        let index = (firstLines.lastIndex { $0 <= line }) ?? 0
        return (index + 1, line - (firstLines.isEmpty ? 1 : firstLines[index]) + 1)
    }
}

/// Gathers datagrams into batches and hands them to the queue; counts the datagrams a full queue drops. Its state is
/// touched only on the channel's event loop.
private final class DatagramHandler: ChannelInboundHandler, @unchecked Sendable {
    typealias InboundIn = AddressedEnvelope<ByteBuffer>
    let continuation: AsyncStream<DatagramBatch>.Continuation
    let counters: UDPListener.Counters
    let batching: UDPListener.Batching
    private var pending: DatagramBatch?
    private var timeout: Scheduled<Void>?

    init(continuation: AsyncStream<DatagramBatch>.Continuation, counters: UDPListener.Counters, batching: UDPListener.Batching) {
        self.continuation = continuation
        self.counters = counters
        self.batching = batching
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let envelope = unwrapInboundIn(data)
        counters.received.add(1, ordering: .relaxed)
        var batch = pending ?? DatagramBatch()
        batch.append(envelope.data)
        pending = batch
        if batch.lines >= batching.size || batching.timeout <= 0 {
            flush()
        } else if timeout == nil {
            timeout = context.eventLoop.scheduleTask(in: .nanoseconds(batching.timeout)) { [self] in
                timeout = nil
                flush()
            }
        }
    }

    private func flush() {
        timeout?.cancel()
        timeout = nil
        guard let batch = pending else { return }
        pending = nil
        if case .dropped = continuation.yield(batch) { counters.dropped.add(batch.firstLines.count, ordering: .relaxed) }
    }

    func channelInactive(context: ChannelHandlerContext) {
        flush()
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
