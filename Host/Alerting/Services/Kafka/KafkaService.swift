import Engine
import Foundation
import TockModel

/// Kapacitor's `[[kafka]]` clusters and the `kafka` handler (`.kafka().cluster('c').kafkaTopic('t')`): the alert's
/// JSON (or the rendered `template`) is produced to the topic, keyed by the alert ID so that one alert's events
/// stay on one partition (`services/kafka/service.go`, `config.go`, `hash.go`).
public struct KafkaService: AlertServiceKind {
    public static let kind = "kafka"
    public static let section = ConfigSectionSpec("kafka", repeatable: true, elementKey: "id", redacted: ["sasl-password"])

    /// One `[[kafka]]` element, with Kapacitor's defaults (a zero `timeout`, `batch-size` or `batch-timeout` means
    /// the default, as `ApplyConditionalDefaults` does).
    public struct Cluster: Sendable, Hashable {
        public var enabled = false
        public var id = "default"
        public var brokers: [String] = []
        /// Nanoseconds.
        public var timeout: Int64 = 10_000_000_000
        public var batchSize: Int64 = 100
        /// Nanoseconds.
        public var batchTimeout: Int64 = 1_000_000_000
        public var useSSL = false
        public var sslCA = ""
        public var sslCert = ""
        public var sslKey = ""
        public var insecureSkipVerify = false
        /// `sasl-*` keys (Kapacitor's `SASLAuth`): SASL is on when `saslUsername` or `saslMechanism` is set.
        public var saslUsername = ""
        public var saslPassword = ""
        /// `PLAIN` (the default), `SCRAM-SHA-256` or `SCRAM-SHA-512`; `GSSAPI` and `OAUTHBEARER` are refused.
        public var saslMechanism = ""
        /// The SaslHandshake version, 0 or 1; `nil` means 1, as sarama's default for Kafka 1.0 and later.
        public var saslVersion: Int64?
        /// `sasl_extensions`, `sasl-access-token` and `sasl-gssapi-*` serve only OAUTHBEARER and GSSAPI, which Tock
        /// refuses; they are kept and shown, as Kapacitor ignores them for the other mechanisms.
        public var saslExtensions: [String: String] = [:]
        public var saslAccessToken = ""
        public var saslGSSAPI: [String: ConfigValue] = [:]
    }

    /// The `sasl-gssapi-*` keys and whether each is a string (else a boolean).
    static let gssapiKeys: [(key: String, isString: Bool)] = [
        ("sasl-gssapi-service-name", true), ("sasl-gssapi-auth-type", true), ("sasl-gssapi-disable-pafxfast", false),
        ("sasl-gssapi-kerberos-config-path", true), ("sasl-gssapi-key-tab-path", true), ("sasl-gssapi-realm", true),
    ]

    public var clusters: [Cluster] = []
    let producers: [String: KafkaProducer]

    public init(elements: [ConfigTable]) throws(ConfigError) {
        var producers: [String: KafkaProducer] = [:]
        for table in elements {
            var r = ConfigReader(table, section: "kafka")
            var c = Cluster()
            c.enabled = try r.bool("enabled")
            c.id = try r.string("id", default: c.id)
            c.brokers = try r.strings("brokers")
            c.timeout = try r.duration("timeout")
            c.batchSize = try r.int("batch-size")
            c.batchTimeout = try r.duration("batch-timeout")
            c.useSSL = try r.bool("use-ssl")
            c.sslCA = try r.string("ssl-ca")
            c.sslCert = try r.string("ssl-cert")
            c.sslKey = try r.string("ssl-key")
            c.insecureSkipVerify = try r.bool("insecure-skip-verify")
            c.saslUsername = try r.string("sasl-username")
            c.saslPassword = try r.string("sasl-password")
            c.saslMechanism = try r.string("sasl-mechanism")
            if table["sasl-version"] != nil { c.saslVersion = try r.int("sasl-version") }
            c.saslExtensions = try r.stringMap("sasl_extensions")
            c.saslAccessToken = try r.string("sasl-access-token")
            for (key, isString) in Self.gssapiKeys where table[key] != nil {
                c.saslGSSAPI[key] = isString ? .string(try r.string(key)) : .bool(try r.bool(key))
            }
            try r.finish()
            let sasl = try KafkaSASL.read(mechanism: c.saslMechanism, username: c.saslUsername, password: c.saslPassword,
                                          version: c.saslVersion, cluster: c.id)
            if c.timeout == 0 { c.timeout = Cluster().timeout }
            if c.batchSize == 0 { c.batchSize = Cluster().batchSize }
            if c.batchTimeout == 0 { c.batchTimeout = Cluster().batchTimeout }
            if clusters.contains(where: { $0.id == c.id }) { throw ConfigError("[[kafka]] id \"\(c.id)\" is used twice") }
            if c.enabled {
                if c.id.isEmpty { throw ConfigError("[[kafka]] id must not be empty") }
                if c.brokers.isEmpty {
                    throw ConfigError("[[kafka]] \(c.id): no brokers specified, must provide at least one broker URL")
                }
                let tls = c.useSSL ? WireTLS(ca: c.sslCA, cert: c.sslCert, key: c.sslKey, insecureSkipVerify: c.insecureSkipVerify) : nil
                producers[c.id] = KafkaProducer(settings: .init(cluster: c.id, brokers: c.brokers, timeout: .nanoseconds(c.timeout),
                                                                tls: tls, sasl: sasl))
            }
            clusters.append(c)
        }
        self.producers = producers
    }

    /// The clusters as `GET /kapacitor/v1/config` shows them; `sasl-password` is redacted to whether it is set.
    public var elements: [ConfigTable] {
        clusters.map { c in
            var table: ConfigTable = [
                "enabled": .bool(c.enabled), "id": .string(c.id), "brokers": .array(c.brokers.map { .string($0) }),
                "timeout": .string(GoDuration.format(c.timeout)), "batch-size": .int(c.batchSize),
                "batch-timeout": .string(GoDuration.format(c.batchTimeout)), "use-ssl": .bool(c.useSSL),
                "ssl-ca": .string(c.sslCA), "ssl-cert": .string(c.sslCert), "ssl-key": .string(c.sslKey),
                "insecure-skip-verify": .bool(c.insecureSkipVerify),
                "sasl-username": .string(c.saslUsername), "sasl-password": ServiceSupport.redacted(c.saslPassword),
                "sasl-mechanism": .string(c.saslMechanism), "sasl_extensions": .table(c.saslExtensions.mapValues { .string($0) }),
                "sasl-access-token": .string(c.saslAccessToken),
            ]
            if let version = c.saslVersion { table["sasl-version"] = .int(version) }
            for (key, isString) in Self.gssapiKeys { table[key] = c.saslGSSAPI[key] ?? (isString ? .string("") : .bool(false)) }
            return table
        }
    }

    /// Options as Kapacitor's `HandlerConfig` mapstructure tags name them: `cluster`, `topic`, `template`,
    /// `disablePartitionById`, `partitionAlgorithm`.
    public func makeSender(options: [String: HandlerOption]) throws(HandlerOptionError) -> any AlertSender {
        var r = OptionReader(options, kind: Self.kind)
        let clusterOption = try r.string("cluster") ?? ""
        let topic = try r.string("topic") ?? ""
        let source = try r.string("template") ?? ""
        let unkeyed = try r.bool("disablePartitionById") ?? false
        let algorithm = try r.string("partitionAlgorithm") ?? ""
        try r.finish()
        guard !topic.isEmpty else { throw HandlerOptionError("kafka: missing topic", option: "topic") }
        // Kapacitor's writerConfig picks a partitioner only when partitioning by ID; otherwise sarama's default, its
        // hash (FNV-1a) partitioner, runs over the key, which is the alert ID all the same.
        let partitioner: KafkaPartitioner
        if unkeyed {
            partitioner = .fnv1a
        } else if let chosen = algorithm.isEmpty ? .crc32 : KafkaPartitioner(rawValue: algorithm) {
            partitioner = chosen
        } else {
            throw HandlerOptionError("kafka: invalid partition algorithm: \"\(algorithm)\" (expected crc32, murmur2, murmur3 or fnv-1a)", option: "partitionAlgorithm")
        }
        var template: EventTemplate?
        if !source.isEmpty {
            do { template = try EventTemplate(name: "kafka alert template", source: source, data: .alertData) } catch {
                throw HandlerOptionError("kafka: failed to parse template: \(error)", option: "template")
            }
        }
        let id = clusterOption.isEmpty ? "default" : clusterOption
        guard let cluster = clusters.first(where: { $0.id == id }) else {
            throw HandlerOptionError(clusters.isEmpty ? "kafka is not enabled: add a [[kafka]] section with enabled = true to kapacitor.conf"
                                                      : "unknown kafka cluster \"\(id)\"", option: clusterOption.isEmpty ? nil : "cluster")
        }
        guard cluster.enabled, let producer = producers[id] else {
            throw HandlerOptionError("kafka cluster \"\(id)\" is not enabled: set enabled = true in its [[kafka]] section of kapacitor.conf",
                                     option: clusterOption.isEmpty ? nil : "cluster")
        }
        return KafkaSender(producer: producer, topic: topic, template: template, partitioner: partitioner)
    }
}

/// Produces one alert event.
struct KafkaSender: AlertSender {
    let producer: KafkaProducer
    let topic: String
    let template: EventTemplate?
    let partitioner: KafkaPartitioner

    var description: String { "kafka cluster \"\(producer.settings.cluster)\" topic \"\(topic)\"" }

    /// The message value: the alert JSON and a newline (Go's `json.Encoder`), or the rendered template.
    static func value(_ event: AlertEvent, template: EventTemplate?) throws(DeliveryFailure) -> [UInt8] {
        guard let template else { return event.jsonLine }
        do { return Array(try template.render(event).utf8) } catch {
            throw .permanent("kafka: failed to execute alert template: \(error)")
        }
    }

    func send(_ event: AlertEvent) async throws(DeliveryFailure) {
        let value = try Self.value(event, template: template)
        try await producer.produce(topic: topic, key: Array(event.id.utf8), value: value, partitioner: partitioner)
    }
}
