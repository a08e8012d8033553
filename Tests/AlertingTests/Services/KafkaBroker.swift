import NIOCore
import NIOPosix
import Synchronization

/// A loopback listener that speaks just enough Kafka for a producer: it answers Metadata v1 (one broker, itself;
/// the topic with `partitions` partitions, all led by it) and Produce v3, and records every produced message with
/// its RecordBatch decoded here independently of the code under test.
final class KafkaTestBroker: Sendable {
    /// One decoded Produce request.
    struct Produced: Sendable, Equatable {
        var topic: String
        var partition: Int32
        var acks: Int16
        var timeoutMs: Int32
        var magic: UInt8
        var crcVerifies: Bool
        var attributes: Int16
        var recordCount: Int32
        var key: [UInt8]?
        var value: [UInt8]
        var headerCount: Int64
    }

    let partitions: Int32
    /// The error code the Produce answer carries.
    let produceError: Int16
    /// When given, the metadata answer names a second broker (id 1) at this port as every partition's leader.
    let leaderPort: Int?
    /// When given, every connection must authenticate with this account before Metadata or Produce.
    let account: SASLAccount?
    private let channel: any Channel
    private let state = Mutex<(produced: [Produced], apiKeys: [Int16], clientIDs: [String])>(([], [], []))
    let saslLog = Mutex<[String]>([])
    /// The port the metadata answer names for this broker, when clients reach it through a proxy (TLS).
    let advertisedPort = Mutex<Int?>(nil)

    var port: Int { channel.localAddress?.port ?? 0 }
    var produced: [Produced] { state.withLock { $0.produced } }
    /// The API keys of the requests received, in order.
    var apiKeys: [Int16] { state.withLock { $0.apiKeys } }
    /// The client id of each request received.
    var clientIDs: [String] { state.withLock { $0.clientIDs } }

    init(partitions: Int32, produceError: Int16 = 0, leaderPort: Int? = nil, account: SASLAccount? = nil) async throws {
        self.account = account
        self.partitions = partitions
        self.produceError = produceError
        self.leaderPort = leaderPort
        let box = Mutex<KafkaTestBroker?>(nil)
        channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { child in
                child.eventLoop.makeCompletedFuture {
                    try child.pipeline.syncOperations.addHandler(Handler { box.withLock { $0 } })
                }
            }
            .bind(host: "127.0.0.1", port: 0).get()
        box.withLock { $0 = self }
    }

    func stop() async { try? await channel.close().get() }

    /// The answer to one request frame (without its size prefix), framed.
    func answer(_ frame: [UInt8], session: SASLSession) throws -> [UInt8] {
        if session.rawTokens { return try rawSASL(frame, session: session) }
        var r = Reader(frame)
        let apiKey = try r.int16(), version = try r.int16(), correlation = try r.int32()
        let clientID = try r.string() ?? ""
        state.withLock { $0.apiKeys.append(apiKey); $0.clientIDs.append(clientID) }
        var w = Writer()
        w.int32(correlation)
        if account != nil && !session.authenticated && apiKey != 17 && apiKey != 36 {
            throw Bad("api key \(apiKey) before SASL authentication")
        }
        switch (apiKey, version) {
        case (17, 0), (17, 1), (36, 0):
            try saslRequest(apiKey: apiKey, version: version, &r, &w, session: session)
        case (3, 1):
            let count = try r.int32()
            var topics: [String] = []
            for _ in 0..<count { topics.append(try r.string() ?? "") }
            w.int32(leaderPort == nil ? 1 : 2)
            w.int32(0); w.string("127.0.0.1"); w.int32(Int32(advertisedPort.withLock { $0 } ?? port)); w.int16(-1)
            if let leaderPort { w.int32(1); w.string("127.0.0.1"); w.int32(Int32(leaderPort)); w.int16(-1) }
            let leader: Int32 = leaderPort == nil ? 0 : 1
            w.int32(0)
            w.int32(Int32(topics.count))
            for topic in topics {
                w.int16(0); w.string(topic); w.bytes.append(0)
                w.int32(partitions)
                for p in 0..<partitions {
                    w.int16(0); w.int32(p); w.int32(leader)
                    w.int32(1); w.int32(leader)
                    w.int32(1); w.int32(leader)
                }
            }
        case (0, 3):
            _ = try r.string()
            let acks = try r.int16(), timeout = try r.int32()
            guard try r.int32() == 1 else { throw Bad("more than one topic") }
            let topic = try r.string() ?? ""
            guard try r.int32() == 1 else { throw Bad("more than one partition") }
            let partition = try r.int32()
            let batch = try r.raw(Int(try r.int32()))
            var produced = try Self.decode(batch)
            produced.topic = topic; produced.partition = partition; produced.acks = acks; produced.timeoutMs = timeout
            state.withLock { $0.produced.append(produced) }
            w.int32(1); w.string(topic)
            w.int32(1); w.int32(partition); w.int16(produceError); w.int64(0); w.int64(-1)
            w.int32(0)
        default:
            throw Bad("unexpected request api key \(apiKey) version \(version)")
        }
        var framed = Writer()
        framed.int32(Int32(w.bytes.count))
        framed.bytes += w.bytes
        return framed.bytes
    }

    /// A magic-2 RecordBatch with its one record, its CRC-32C checked over attributes..end.
    static func decode(_ batch: [UInt8]) throws -> Produced {
        var r = Reader(batch)
        _ = try r.int64()
        let length = Int(try r.int32())
        guard length == batch.count - 12 else { throw Bad("batchLength \(length) for \(batch.count - 12) bytes") }
        _ = try r.int32()
        let magic = try r.raw(1)[0]
        let crc = UInt32(bitPattern: try r.int32())
        let covered = Array(batch[r.offset...])
        let attributes = try r.int16()
        _ = try r.int32(); _ = try r.int64(); _ = try r.int64(); _ = try r.int64(); _ = try r.int16(); _ = try r.int32()
        let count = try r.int32()
        _ = try r.varint()
        _ = try r.raw(1)
        _ = try r.varint(); _ = try r.varint()
        let keyLength = try r.varint()
        let key = keyLength < 0 ? nil : try r.raw(Int(keyLength))
        let value = try r.raw(Int(try r.varint()))
        let headers = try r.varint()
        return Produced(topic: "", partition: -1, acks: 0, timeoutMs: 0, magic: magic, crcVerifies: crc == crc32c(covered),
                        attributes: attributes, recordCount: count, key: key, value: value, headerCount: headers)
    }

    /// Bitwise CRC-32C (Castagnoli, reflected polynomial 0x82F63B78).
    static func crc32c(_ bytes: [UInt8]) -> UInt32 { crc(bytes, poly: 0x82F6_3B78) }
    /// Bitwise CRC-32 (IEEE, reflected polynomial 0xEDB88320), Go's `crc32.ChecksumIEEE`.
    static func crc32(_ bytes: [UInt8]) -> UInt32 { crc(bytes, poly: 0xEDB8_8320) }

    private static func crc(_ bytes: [UInt8], poly: UInt32) -> UInt32 {
        var c: UInt32 = 0xFFFF_FFFF
        for b in bytes {
            c ^= UInt32(b)
            for _ in 0..<8 { c = c & 1 != 0 ? (c >> 1) ^ poly : c >> 1 }
        }
        return ~c
    }

    struct Bad: Error, CustomStringConvertible {
        var description: String
        init(_ d: String) { description = d }
    }

    struct Reader {
        let bytes: [UInt8]
        var offset = 0
        init(_ bytes: [UInt8]) { self.bytes = bytes }
        mutating func raw(_ n: Int) throws -> [UInt8] {
            guard n >= 0, offset + n <= bytes.count else { throw Bad("short frame") }
            defer { offset += n }
            return Array(bytes[offset..<offset + n])
        }
        mutating func big(_ n: Int) throws -> UInt64 { try raw(n).reduce(0) { $0 << 8 | UInt64($1) } }
        mutating func int16() throws -> Int16 { Int16(truncatingIfNeeded: try big(2)) }
        mutating func int32() throws -> Int32 { Int32(truncatingIfNeeded: try big(4)) }
        mutating func int64() throws -> Int64 { Int64(bitPattern: try big(8)) }
        mutating func string() throws -> String? {
            let n = Int(try int16())
            return n < 0 ? nil : String(decoding: try raw(n), as: UTF8.self)
        }
        mutating func varint() throws -> Int64 {
            var z: UInt64 = 0, shift: UInt64 = 0
            while true {
                let b = try raw(1)[0]
                z |= UInt64(b & 0x7F) << shift
                if b < 0x80 { break }
                shift += 7
            }
            return Int64(z >> 1) ^ -Int64(z & 1)
        }
    }

    struct Writer {
        var bytes: [UInt8] = []
        mutating func big(_ v: UInt64, _ n: Int) { for i in (0..<n).reversed() { bytes.append(UInt8(truncatingIfNeeded: v >> (8 * UInt64(i)))) } }
        mutating func int16(_ v: Int16) { big(UInt64(UInt16(bitPattern: v)), 2) }
        mutating func int32(_ v: Int32) { big(UInt64(UInt32(bitPattern: v)), 4) }
        mutating func int64(_ v: Int64) { big(UInt64(bitPattern: v), 8) }
        mutating func string(_ s: String) { int16(Int16(s.utf8.count)); bytes += Array(s.utf8) }
    }
}

/// Splits the byte stream into size-prefixed frames and writes each answer back.
private final class Handler: ChannelInboundHandler, @unchecked Sendable {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer
    let broker: @Sendable () -> KafkaTestBroker?
    var buffer = ByteBuffer()
    let session = KafkaTestBroker.SASLSession()

    init(_ broker: @escaping @Sendable () -> KafkaTestBroker?) { self.broker = broker }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var chunk = unwrapInboundIn(data)
        buffer.writeBuffer(&chunk)
        while let size = buffer.getInteger(at: buffer.readerIndex, as: Int32.self), buffer.readableBytes >= 4 + Int(size) {
            buffer.moveReaderIndex(forwardBy: 4)
            let frame = buffer.readBytes(length: Int(size)) ?? []
            guard let broker = broker(), let answer = try? broker.answer(frame, session: session) else {
                context.close(promise: nil)
                return
            }
            context.writeAndFlush(wrapOutboundOut(ByteBuffer(bytes: answer)), promise: nil)
        }
        buffer.discardReadBytes()
    }
}
