/// The few Kafka wire structures a producer needs (Kafka protocol guide, "A Guide To The Kafka Protocol"):
/// request framing, Metadata v1, Produce v3 and a magic-2 RecordBatch holding one record. Written by hand because
/// no Kafka client package is on the machine.
enum KafkaWire {
    static let produceKey: Int16 = 0
    static let metadataKey: Int16 = 3

    /// A size-prefixed request: header v1 (api key, version, correlation id, client id) then `body`.
    static func request(apiKey: Int16, version: Int16, correlationID: Int32, clientID: String, body: [UInt8]) -> [UInt8] {
        var w = KafkaWriter()
        w.int16(apiKey)
        w.int16(version)
        w.int32(correlationID)
        w.string(clientID)
        w.bytes.append(contentsOf: body)
        var framed = KafkaWriter()
        framed.int32(Int32(w.bytes.count))
        framed.bytes.append(contentsOf: w.bytes)
        return framed.bytes
    }

    /// Metadata v1 for one topic.
    static func metadataBody(topic: String) -> [UInt8] {
        var w = KafkaWriter()
        w.int32(1)
        w.string(topic)
        return w.bytes
    }

    struct Broker: Sendable, Hashable { var id: Int32; var host: String; var port: Int32 }
    struct Partition: Sendable, Hashable { var id: Int32; var leader: Int32; var error: Int16 }
    struct Metadata: Sendable { var brokers: [Broker]; var topicError: Int16; var partitions: [Partition] }

    /// A Metadata v1 response (after the correlation id) for the one topic asked.
    static func parseMetadata(_ r: inout KafkaReader, topic: String) throws(KafkaWireError) -> Metadata {
        var brokers: [Broker] = []
        for _ in 0..<(try r.count()) {
            let id = try r.int32(), host = try r.string() ?? "", port = try r.int32()
            _ = try r.string()
            brokers.append(Broker(id: id, host: host, port: port))
        }
        _ = try r.int32()
        var found: Metadata?
        for _ in 0..<(try r.count()) {
            let error = try r.int16(), name = try r.string() ?? ""
            _ = try r.int8()
            var partitions: [Partition] = []
            for _ in 0..<(try r.count()) {
                let perror = try r.int16(), id = try r.int32(), leader = try r.int32()
                for _ in 0..<(try r.count()) { _ = try r.int32() }
                for _ in 0..<(try r.count()) { _ = try r.int32() }
                partitions.append(Partition(id: id, leader: leader, error: perror))
            }
            if name == topic { found = Metadata(brokers: brokers, topicError: error, partitions: partitions.sorted { $0.id < $1.id }) }
        }
        guard let found else { throw KafkaWireError("the metadata answer does not list topic \"\(topic)\"") }
        return found
    }

    /// Produce v3 carrying `batch` for one partition of one topic.
    static func produceBody(topic: String, partition: Int32, acks: Int16, timeoutMs: Int32, batch: [UInt8]) -> [UInt8] {
        var w = KafkaWriter()
        w.int16(-1)
        w.int16(acks)
        w.int32(timeoutMs)
        w.int32(1)
        w.string(topic)
        w.int32(1)
        w.int32(partition)
        w.int32(Int32(batch.count))
        w.bytes.append(contentsOf: batch)
        return w.bytes
    }

    /// The error code a Produce v3 response (after the correlation id) gives the partition.
    static func parseProduce(_ r: inout KafkaReader, topic: String, partition: Int32) throws(KafkaWireError) -> Int16 {
        var code: Int16?
        for _ in 0..<(try r.count()) {
            let name = try r.string() ?? ""
            for _ in 0..<(try r.count()) {
                let p = try r.int32(), error = try r.int16()
                _ = try r.int64()
                _ = try r.int64()
                if name == topic && p == partition { code = error }
            }
        }
        guard let code else { throw KafkaWireError("the produce answer does not mention \(topic)[\(partition)]") }
        return code
    }

    /// A magic-2 RecordBatch with one record (no compression, no producer id, no headers).
    static func recordBatch(key: [UInt8]?, value: [UInt8], timestampMs: Int64) -> [UInt8] {
        var record = KafkaWriter()
        record.bytes.append(0)
        record.varint(0)
        record.varint(0)
        if let key { record.varint(Int64(key.count)); record.bytes.append(contentsOf: key) } else { record.varint(-1) }
        record.varint(Int64(value.count))
        record.bytes.append(contentsOf: value)
        record.varint(0)

        var tail = KafkaWriter()
        tail.int16(0)
        tail.int32(0)
        tail.int64(timestampMs)
        tail.int64(timestampMs)
        tail.int64(-1)
        tail.int16(-1)
        tail.int32(-1)
        tail.int32(1)
        tail.varint(Int64(record.bytes.count))
        tail.bytes.append(contentsOf: record.bytes)

        var w = KafkaWriter()
        w.int64(0)
        w.int32(Int32(4 + 1 + 4 + tail.bytes.count))
        w.int32(-1)
        w.bytes.append(2)
        w.int32(Int32(bitPattern: CRC32.castagnoli(tail.bytes)))
        w.bytes.append(contentsOf: tail.bytes)
        return w.bytes
    }

    /// Kafka's error names (`org.apache.kafka.common.protocol.Errors`) and whether a retry can succeed.
    static func error(_ code: Int16) -> (name: String, retriable: Bool) {
        switch code {
        case -1: ("UNKNOWN_SERVER_ERROR", false)
        case 1: ("OFFSET_OUT_OF_RANGE", false)
        case 2: ("CORRUPT_MESSAGE", true)
        case 3: ("UNKNOWN_TOPIC_OR_PARTITION", true)
        case 4: ("INVALID_FETCH_SIZE", false)
        case 5: ("LEADER_NOT_AVAILABLE", true)
        case 6: ("NOT_LEADER_OR_FOLLOWER", true)
        case 7: ("REQUEST_TIMED_OUT", true)
        case 8: ("BROKER_NOT_AVAILABLE", true)
        case 9: ("REPLICA_NOT_AVAILABLE", true)
        case 10: ("MESSAGE_TOO_LARGE", false)
        case 13: ("NETWORK_EXCEPTION", true)
        case 14: ("COORDINATOR_LOAD_IN_PROGRESS", true)
        case 15: ("COORDINATOR_NOT_AVAILABLE", true)
        case 16: ("NOT_COORDINATOR", true)
        case 17: ("INVALID_TOPIC_EXCEPTION", false)
        case 18: ("RECORD_LIST_TOO_LARGE", false)
        case 19: ("NOT_ENOUGH_REPLICAS", true)
        case 20: ("NOT_ENOUGH_REPLICAS_AFTER_APPEND", true)
        case 21: ("INVALID_REQUIRED_ACKS", false)
        case 29: ("TOPIC_AUTHORIZATION_FAILED", false)
        case 31: ("CLUSTER_AUTHORIZATION_FAILED", false)
        case 33: ("UNSUPPORTED_SASL_MECHANISM", false)
        case 34: ("ILLEGAL_SASL_STATE", false)
        case 35: ("UNSUPPORTED_VERSION", false)
        case 43: ("UNSUPPORTED_FOR_MESSAGE_FORMAT", false)
        case 56: ("KAFKA_STORAGE_ERROR", true)
        case 58: ("SASL_AUTHENTICATION_FAILED", false)
        case 74: ("FENCED_LEADER_EPOCH", true)
        case 87: ("INVALID_RECORD", false)
        default: ("error code \(code)", false)
        }
    }
}

/// A Kafka answer that cannot be decoded.
struct KafkaWireError: Error, Sendable, CustomStringConvertible {
    var message: String
    init(_ message: String) { self.message = message }
    var description: String { message }
}

/// Big-endian and zigzag-varint encoding of Kafka's primitive types.
struct KafkaWriter {
    var bytes: [UInt8] = []

    mutating func int16(_ v: Int16) { append(UInt64(UInt16(bitPattern: v)), 2) }
    mutating func int32(_ v: Int32) { append(UInt64(UInt32(bitPattern: v)), 4) }
    mutating func int64(_ v: Int64) { append(UInt64(bitPattern: v), 8) }

    mutating func string(_ s: String) {
        let utf8 = Array(s.utf8)
        int16(Int16(utf8.count))
        bytes.append(contentsOf: utf8)
    }

    mutating func varint(_ v: Int64) {
        var z = UInt64(bitPattern: (v << 1) ^ (v >> 63))
        while z >= 0x80 {
            bytes.append(UInt8(z & 0x7F) | 0x80)
            z >>= 7
        }
        bytes.append(UInt8(z))
    }

    private mutating func append(_ v: UInt64, _ width: Int) {
        for i in stride(from: width - 1, through: 0, by: -1) { bytes.append(UInt8(truncatingIfNeeded: v >> (8 * UInt64(i)))) }
    }
}

/// Reads Kafka's primitive types; a short buffer is an error naming what was being read.
struct KafkaReader {
    let bytes: [UInt8]
    var offset = 0

    init(_ bytes: [UInt8]) { self.bytes = bytes }

    var remaining: Int { bytes.count - offset }

    mutating func int8() throws(KafkaWireError) -> Int8 { Int8(truncatingIfNeeded: try take(1)) }
    mutating func int16() throws(KafkaWireError) -> Int16 { Int16(truncatingIfNeeded: try take(2)) }
    mutating func int32() throws(KafkaWireError) -> Int32 { Int32(truncatingIfNeeded: try take(4)) }
    mutating func int64() throws(KafkaWireError) -> Int64 { Int64(bitPattern: try take(8)) }

    /// An array length; a null array (-1) reads as empty.
    mutating func count() throws(KafkaWireError) -> Int {
        let n = try int32()
        guard n <= remaining else { throw KafkaWireError("an array of \(n) elements is longer than the answer") }
        return max(0, Int(n))
    }

    mutating func string() throws(KafkaWireError) -> String? {
        let n = Int(try int16())
        guard n >= 0 else { return nil }
        return String(decoding: try raw(n), as: UTF8.self)
    }

    mutating func raw(_ n: Int) throws(KafkaWireError) -> [UInt8] {
        guard n <= remaining else { throw KafkaWireError("the answer ends \(n - remaining) bytes early") }
        defer { offset += n }
        return Array(bytes[offset..<offset + n])
    }

    mutating func varint() throws(KafkaWireError) -> Int64 {
        var z: UInt64 = 0, shift: UInt64 = 0
        while true {
            let b = try raw(1)[0]
            z |= UInt64(b & 0x7F) << shift
            if b & 0x80 == 0 { break }
            shift += 7
            guard shift < 64 else { throw KafkaWireError("a varint is longer than 10 bytes") }
        }
        return Int64(bitPattern: z >> 1) ^ -Int64(bitPattern: z & 1)
    }

    private mutating func take(_ width: Int) throws(KafkaWireError) -> UInt64 {
        var v: UInt64 = 0
        for b in try raw(width) { v = v << 8 | UInt64(b) }
        return v
    }
}

/// Table-driven CRC-32 in its two Kafka uses: IEEE (the `crc32` partitioner) and Castagnoli (the RecordBatch CRC).
enum CRC32 {
    private static let ieeeTable = table(0xEDB8_8320)
    private static let castagnoliTable = table(0x82F6_3B78)

    static func ieee(_ bytes: [UInt8]) -> UInt32 { checksum(bytes, ieeeTable) }
    static func castagnoli(_ bytes: [UInt8]) -> UInt32 { checksum(bytes, castagnoliTable) }

    private static func checksum(_ bytes: [UInt8], _ table: [UInt32]) -> UInt32 {
        var c: UInt32 = 0xFFFF_FFFF
        for b in bytes { c = table[Int((c ^ UInt32(b)) & 0xFF)] ^ (c >> 8) }
        return c ^ 0xFFFF_FFFF
    }

    private static func table(_ poly: UInt32) -> [UInt32] {
        (0..<256).map { i in
            var c = UInt32(i)
            for _ in 0..<8 { c = c & 1 == 1 ? poly ^ (c >> 1) : c >> 1 }
            return c
        }
    }
}

/// Kapacitor's partitioners (`services/kafka/hash.go`): a keyed message goes to hash(key) mod partitions, an
/// unkeyed one to a random partition.
enum KafkaPartitioner: String, Sendable, CaseIterable {
    case crc32
    case murmur2
    /// sarama's `NewCustomHashPartitioner(murmur3.New32)`, as Kapacitor's `writerConfig` builds it.
    case murmur3
    /// sarama's `NewHashPartitioner` (32-bit FNV-1a).
    case fnv1a = "fnv-1a"

    func partition(key: [UInt8]?, count: Int32) -> Int32 {
        guard let key, !(self == .crc32 && key.isEmpty) else { return Int32.random(in: 0..<count) }
        switch self {
        case .crc32: return Int32((CRC32.ieee(key) % UInt32(count)) & 0x7FFF_FFFF)
        case .murmur2: return Int32((Self.murmur2(key) & 0x7FFF_FFFF) % UInt32(count))
        case .murmur3: return Self.saramaHashPartition(Self.murmur3(key), count: count)
        case .fnv1a: return Self.saramaHashPartition(Self.fnv1a(key), count: count)
        }
    }

    /// sarama's `hashPartitioner.Partition`: `int32(sum) % n` (Go's remainder keeps the sign), negated when negative.
    static func saramaHashPartition(_ sum: UInt32, count: Int32) -> Int32 {
        let p = Int32(bitPattern: sum) % count
        return p < 0 ? -p : p
    }

    /// 32-bit FNV-1a (Go's `hash/fnv.New32a`).
    static func fnv1a(_ data: [UInt8]) -> UInt32 {
        var h: UInt32 = 0x811C_9DC5
        for byte in data {
            h ^= UInt32(byte)
            h = h &* 0x0100_0193
        }
        return h
    }

    /// MurmurHash3 x86_32 with seed 0 (`github.com/spaolacci/murmur3.New32`).
    static func murmur3(_ data: [UInt8]) -> UInt32 {
        let c1: UInt32 = 0xCC9E_2D51, c2: UInt32 = 0x1B87_3593
        func rotl(_ x: UInt32, _ r: UInt32) -> UInt32 { (x << r) | (x >> (32 - r)) }
        var h: UInt32 = 0
        let blocks = data.count / 4
        for i in 0..<blocks {
            let j = i * 4
            var k = UInt32(data[j]) | UInt32(data[j + 1]) << 8 | UInt32(data[j + 2]) << 16 | UInt32(data[j + 3]) << 24
            k = rotl(k &* c1, 15) &* c2
            h ^= k
            h = rotl(h, 13) &* 5 &+ 0xE654_6B64
        }
        let base = blocks * 4
        var k: UInt32 = 0
        switch data.count - base {
        case 3:
            k ^= UInt32(data[base + 2]) << 16
            fallthrough
        case 2:
            k ^= UInt32(data[base + 1]) << 8
            fallthrough
        case 1:
            k ^= UInt32(data[base])
            h ^= rotl(k &* c1, 15) &* c2
        default: break
        }
        h ^= UInt32(truncatingIfNeeded: data.count)
        h ^= h >> 16
        h = h &* 0x85EB_CA6B
        h ^= h >> 13
        h = h &* 0xC2B2_AE35
        h ^= h >> 16
        return h
    }

    /// Java Kafka's `Utils.murmur2`, as kafka-go and Kapacitor port it.
    static func murmur2(_ data: [UInt8]) -> UInt32 {
        let m: UInt32 = 0x5BD1_E995
        var h: UInt32 = 0x9747_B28C ^ UInt32(data.count)
        let blocks = data.count / 4
        for i in 0..<blocks {
            let j = i * 4
            var k = UInt32(data[j]) | UInt32(data[j + 1]) << 8 | UInt32(data[j + 2]) << 16 | UInt32(data[j + 3]) << 24
            k = k &* m
            k ^= k >> 24
            k = k &* m
            h = h &* m
            h ^= k
        }
        let rest = data.count % 4, base = data.count & ~3
        if rest >= 3 { h ^= UInt32(data[base + 2]) << 16 }
        if rest >= 2 { h ^= UInt32(data[base + 1]) << 8 }
        if rest >= 1 {
            h ^= UInt32(data[base])
            h = h &* m
        }
        h ^= h >> 13
        h = h &* m
        h ^= h >> 15
        return h
    }
}
