import Engine
import Foundation
import Testing
@testable import Alerting
import TockModel

/// The kafka service against ``KafkaTestBroker``, a loopback listener written for these tests (no Kafka broker can
/// be installed here): it answers Metadata and Produce and decodes the RecordBatch the service sends.
@Suite("kafka: the alert produced to a loopback Kafka listener", .serialized)
struct KafkaTests {
    static func service(port: Int, enabled: Bool = true, id: String? = nil) throws -> KafkaService {
        var table: ConfigTable = ["enabled": .bool(enabled), "brokers": .array([.string("127.0.0.1:\(port)")])]
        if let id { table["id"] = .string(id) }
        return try KafkaService(elements: [table])
    }

    @Test("the alert JSON and a newline, keyed by the alert ID, goes to partition crc32(ID) mod N with acks 1 and the configured timeout")
    func producesAlertJSON() async throws {
        let broker = try await KafkaTestBroker(partitions: 7)
        let sender = try Self.service(port: broker.port).makeSender(options: ["cluster": .string("default"), "topic": .string("alerts")])
        try await sender.send(Events.critical)
        await broker.stop()

        let produced = try #require(broker.produced.first)
        #expect(broker.apiKeys == [3, 0])
        #expect(broker.clientIDs == ["default", "default"])
        #expect(produced.topic == "alerts")
        #expect(produced.partition == Int32(KafkaTestBroker.crc32(Array("id".utf8)) % 7))
        #expect(produced.acks == 1)
        #expect(produced.timeoutMs == 10_000)
        #expect(produced.magic == 2)
        #expect(produced.crcVerifies)
        #expect(produced.attributes == 0)
        #expect(produced.recordCount == 1)
        #expect(produced.key == Array("id".utf8))
        #expect(String(decoding: produced.value, as: UTF8.self) == Events.critical.json + "\n")
        #expect(produced.headerCount == 0)
    }

    @Test("the produce goes to the partition's leader that the bootstrap broker's metadata names")
    func producesToLeader() async throws {
        let leader = try await KafkaTestBroker(partitions: 2)
        let bootstrap = try await KafkaTestBroker(partitions: 2, leaderPort: leader.port)
        let sender = try Self.service(port: bootstrap.port).makeSender(options: ["topic": .string("t")])
        try await sender.send(Events.critical)
        await bootstrap.stop()
        await leader.stop()
        #expect(bootstrap.apiKeys == [3])
        #expect(leader.apiKeys == [0])
        #expect(leader.produced.map(\.partition) == [Int32(KafkaTestBroker.crc32(Array("id".utf8)) % 2)])
    }

    @Test("each alert ID keeps to its crc32 partition; murmur2 uses Java Kafka's murmur2 of the ID")
    func partitionsByAlgorithm() async throws {
        let broker = try await KafkaTestBroker(partitions: 5)
        let service = try Self.service(port: broker.port)
        let crc = try service.makeSender(options: ["topic": .string("t")])
        let murmur = try service.makeSender(options: ["topic": .string("t"), "partitionAlgorithm": .string("murmur2")])
        for id in ["cpu:host=a", "cpu:host=b", "mem"] {
            var event = Events.critical
            event.id = id
            try await crc.send(event)
            try await murmur.send(event)
        }
        await broker.stop()
        let partitions = broker.produced.map(\.partition)
        let ids = ["cpu:host=a", "cpu:host=b", "mem"].map { Array($0.utf8) }
        #expect(partitions.count == 6)
        #expect(stride(from: 0, to: 6, by: 2).map { partitions[$0] } == ids.map { Int32(KafkaTestBroker.crc32($0) % 5) })
        #expect(stride(from: 1, to: 6, by: 2).map { partitions[$0] } == ids.map { Int32((KafkaPartitioner.murmur2($0) & 0x7FFF_FFFF) % 5) })
        #expect(broker.produced.filter { !$0.crcVerifies }.isEmpty)
    }

    @Test("murmur3 and fnv-1a partition as sarama's hash partitioner does, over the reference hashes")
    func saramaHashPartitioners() async throws {
        #expect(KafkaPartitioner.murmur3([]) == 0)
        #expect(KafkaPartitioner.murmur3(Array("hello".utf8)) == 0x248B_FA47)
        #expect(KafkaPartitioner.murmur3(Array("The quick brown fox jumps over the lazy dog".utf8)) == 0x2E4F_F723)
        #expect(KafkaPartitioner.fnv1a([]) == 0x811C_9DC5)
        #expect(KafkaPartitioner.fnv1a(Array("a".utf8)) == 0xE40C_292C)
        #expect(KafkaPartitioner.fnv1a(Array("foobar".utf8)) == 0xBF9C_F968)
        // int32(0xBF9CF968) = -1080231576; Go's % keeps the sign (-1080231576 % 5 = -1), then it is negated.
        #expect(KafkaPartitioner.fnv1a.partition(key: Array("foobar".utf8), count: 5) == 1)

        let broker = try await KafkaTestBroker(partitions: 7)
        let service = try Self.service(port: broker.port)
        let ids = ["cpu:host=a", "cpu:host=b", "mem"]
        for algorithm in ["murmur3", "fnv-1a"] {
            let sender = try service.makeSender(options: ["topic": .string("t"), "partitionAlgorithm": .string(algorithm)])
            for id in ids {
                var event = Events.critical
                event.id = id
                try await sender.send(event)
            }
        }
        await broker.stop()
        let expected = ids.map { KafkaPartitioner.saramaHashPartition(KafkaPartitioner.murmur3(Array($0.utf8)), count: 7) }
            + ids.map { KafkaPartitioner.saramaHashPartition(KafkaPartitioner.fnv1a(Array($0.utf8)), count: 7) }
        #expect(broker.produced.map(\.partition) == expected)
    }

    @Test("murmur2 matches Java Kafka's Utils.murmur2 reference values")
    func murmur2Reference() {
        // org.apache.kafka.common.utils.UtilsTest.testMurmur2
        #expect(Int32(bitPattern: KafkaPartitioner.murmur2(Array("21".utf8))) == -973932308)
        #expect(Int32(bitPattern: KafkaPartitioner.murmur2(Array("foobar".utf8))) == -790332482)
        #expect(Int32(bitPattern: KafkaPartitioner.murmur2(Array("a-little-bit-long-string".utf8))) == -985981536)
    }

    @Test("disablePartitionById leaves sarama's default hash (FNV-1a) partitioner over the ID, still the key; template renders the value")
    func unpartitionedAndTemplate() async throws {
        let broker = try await KafkaTestBroker(partitions: 3)
        let sender = try Self.service(port: broker.port).makeSender(options: [
            "topic": .string("t"), "disablePartitionById": .bool(true), "partitionAlgorithm": .string("ignored"),
            "template": .string("{{.ID}} is {{.Level}}: {{.Message}}"),
        ])
        try await sender.send(Events.critical)
        await broker.stop()
        let produced = try #require(broker.produced.first)
        #expect(produced.key == Array(Events.critical.id.utf8))
        #expect(produced.partition == KafkaPartitioner.saramaHashPartition(KafkaPartitioner.fnv1a(Array(Events.critical.id.utf8)), count: 3))
        #expect(String(decoding: produced.value, as: UTF8.self) == "id is CRITICAL: message")
        #expect(produced.crcVerifies)
    }

    @Test("a broker error Kafka calls retriable is retryable, others permanent with Kafka's error name")
    func errorCodes() async throws {
        for (code, name, retryable) in [(Int16(6), "NOT_LEADER_OR_FOLLOWER", true), (7, "REQUEST_TIMED_OUT", true),
                                        (29, "TOPIC_AUTHORIZATION_FAILED", false), (10, "MESSAGE_TOO_LARGE", false)] {
            let broker = try await KafkaTestBroker(partitions: 1, produceError: code)
            let port = broker.port
            let sender = try Self.service(port: broker.port).makeSender(options: ["topic": .string("t")])
            let failure = await #expect(throws: DeliveryFailure.self) { try await sender.send(Events.critical) }
            await broker.stop()
            #expect(failure?.isRetryable == retryable)
            #expect(failure?.reason == "kafka cluster \"default\": produce to t[0] on 127.0.0.1:\(port): \(name)")
        }
    }

    @Test("a broker that does not listen is a retryable failure naming the cluster")
    func deadBroker() async throws {
        let broker = try await KafkaTestBroker(partitions: 1)
        let port = broker.port
        await broker.stop()
        let sender = try Self.service(port: port).makeSender(options: ["topic": .string("t")])
        let failure = await #expect(throws: DeliveryFailure.self) { try await sender.send(Events.critical) }
        #expect(failure?.isRetryable == true)
        #expect(failure?.reason.hasPrefix("kafka cluster \"default\": cannot connect to 127.0.0.1:\(port)") == true)
    }

    @Test("[[kafka]] defaults are Kapacitor's: id default, timeout 10s, batch-size 100, batch-timeout 1s")
    func configDefaults() throws {
        let service = try KafkaService(elements: [["enabled": .bool(true), "brokers": .array([.string("127.0.0.1:9092")]),
                                                   "timeout": .string("0s")]])
        #expect(service.elements == [[
            "enabled": .bool(true), "id": .string("default"), "brokers": .array([.string("127.0.0.1:9092")]),
            "timeout": .string("10s"), "batch-size": .int(100), "batch-timeout": .string("1s"), "use-ssl": .bool(false),
            "ssl-ca": .string(""), "ssl-cert": .string(""), "ssl-key": .string(""), "insecure-skip-verify": .bool(false),
            "sasl-username": .string(""), "sasl-password": .bool(false), "sasl-mechanism": .string(""),
            "sasl_extensions": .table([:]), "sasl-access-token": .string(""),
            "sasl-gssapi-service-name": .string(""), "sasl-gssapi-auth-type": .string(""), "sasl-gssapi-disable-pafxfast": .bool(false),
            "sasl-gssapi-kerberos-config-path": .string(""), "sasl-gssapi-key-tab-path": .string(""), "sasl-gssapi-realm": .string(""),
        ]])
        #expect(throws: ConfigError("[[kafka]] default: no brokers specified, must provide at least one broker URL")) {
            try KafkaService(elements: [["enabled": .bool(true)]])
        }
        #expect(throws: ConfigError.self) { try KafkaService(elements: [["enabled": .bool(true), "partitions": .int(3)]]) }
        // An empty sasl-username and sasl-mechanism leave SASL off, as Kapacitor's SetSASLConfig does.
        let unauthenticated = try KafkaService(elements: [["enabled": .bool(true), "brokers": .array([.string("b:9092")]), "sasl-username": .string("")]])
        #expect(unauthenticated.producers["default"]?.settings.sasl == nil)
    }

    @Test("handler options: unknown option, missing topic, unknown or disabled cluster and unsupported algorithms are refused")
    func optionsRefused() throws {
        let service = try Self.service(port: 9)
        #expect(throws: HandlerOptionError.self) { try service.makeSender(options: ["topic": .string("t"), "partition-algorithm": .string("crc32")]) }
        #expect(throws: HandlerOptionError("kafka: missing topic", option: "topic")) { try service.makeSender(options: [:]) }
        #expect(throws: HandlerOptionError("unknown kafka cluster \"other\"", option: "cluster")) {
            try service.makeSender(options: ["topic": .string("t"), "cluster": .string("other")])
        }
        #expect(throws: HandlerOptionError("kafka: invalid partition algorithm: \"murmur\" (expected crc32, murmur2, murmur3 or fnv-1a)", option: "partitionAlgorithm")) {
            try service.makeSender(options: ["topic": .string("t"), "partitionAlgorithm": .string("murmur")])
        }
        let disabled = try Self.service(port: 9, enabled: false)
        #expect(throws: HandlerOptionError("kafka cluster \"default\" is not enabled: set enabled = true in its [[kafka]] section of kapacitor.conf", option: nil)) {
            try disabled.makeSender(options: ["topic": .string("t")])
        }
    }

    @Test("the TICKscript properties of .kafka() set exactly the option keys the service reads (Kapacitor's HandlerConfig tags)")
    func catalogKeys() throws {
        let spec = try #require(HandlerCatalog.byMethod["kafka"])
        #expect(spec.kind == "kafka")
        let keys = Dictionary(uniqueKeysWithValues: spec.properties.map { ($0.key, $0.value.effect.key) })
        #expect(keys == ["cluster": "cluster", "kafkaTopic": "topic", "template": "template",
                         "disablePartitionById": "disablePartitionById", "partitionAlgorithm": "partitionAlgorithm"])
        let options: [String: HandlerOption] = ["cluster": .string("default"), "topic": .string("t"), "template": .string("{{.ID}}"),
                                                "disablePartitionById": .bool(true), "partitionAlgorithm": .string("murmur2")]
        _ = try Self.service(port: 9).makeSender(options: options)
    }
}
