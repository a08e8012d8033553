import Engine
import Foundation
import TockModel

/// Kapacitor's `[[mqtt]]` brokers and the `mqtt` handler (`.mqtt('topic')`): the alert message is published to the
/// topic on the named (or default) broker with the handler's QoS and retained flag (`services/mqtt/service.go`).
public struct MQTTService: AlertServiceKind {
    public static let kind = "mqtt"
    public static let section = ConfigSectionSpec("mqtt", repeatable: true, elementKey: "name", redacted: ["password"])

    /// One `[[mqtt]]` element.
    public struct Broker: Sendable, Hashable {
        public var enabled = false
        public var name = "default"
        public var isDefault = false
        public var url = ""
        public var sslCA = ""
        public var sslCert = ""
        public var sslKey = ""
        public var insecureSkipVerify = false
        public var clientID = ""
        public var username = ""
        public var password = ""
    }

    public var brokers: [Broker] = []
    /// The broker a handler without `broker-name` uses: the one marked `default`, or the only one.
    public var defaultBroker: String?
    let clients: [String: MQTTClient]

    public init(elements: [ConfigTable]) throws(ConfigError) {
        var clients: [String: MQTTClient] = [:]
        for table in elements {
            var r = ConfigReader(table, section: "mqtt")
            var b = Broker()
            b.enabled = try r.bool("enabled")
            b.name = try r.string("name", default: b.name)
            b.isDefault = try r.bool("default")
            b.url = try r.string("url")
            b.sslCA = try r.string("ssl-ca")
            b.sslCert = try r.string("ssl-cert")
            b.sslKey = try r.string("ssl-key")
            b.insecureSkipVerify = try r.bool("insecure-skip-verify")
            b.clientID = try r.string("client-id")
            b.username = try r.string("username")
            b.password = try r.string("password")
            try r.finish()
            if b.name.isEmpty { throw ConfigError("[[mqtt]] must specify a name for the mqtt broker") }
            if brokers.contains(where: { $0.name == b.name }) { throw ConfigError("[[mqtt]] name \"\(b.name)\" is used twice") }
            if b.enabled {
                if b.url.isEmpty { throw ConfigError("[[mqtt]] \(b.name): must specify a url for mqtt service") }
                let (host, port, secure) = try Self.parse(b.url, broker: b.name)
                let tls = secure ? WireTLS(ca: b.sslCA, cert: b.sslCert, key: b.sslKey, insecureSkipVerify: b.insecureSkipVerify) : nil
                clients[b.name] = MQTTClient(settings: .init(name: b.name, host: host, port: port, tls: tls,
                                                             clientID: b.clientID.isEmpty ? b.name : b.clientID,
                                                             username: b.username, password: b.password))
            }
            brokers.append(b)
        }
        let defaults = brokers.filter(\.isDefault)
        if defaults.count > 1 { throw ConfigError("[[mqtt]] more than one configuration is marked as the default") }
        if defaults.isEmpty && brokers.count > 1 { throw ConfigError("[[mqtt]] no configuration is marked as the default") }
        defaultBroker = brokers.count == 1 ? brokers[0].name : defaults.first?.name
        self.clients = clients
    }

    /// `tcp://host:port` or `ssl://host:port` (also `mqtt://`, `tls://`, `mqtts://`); websockets are refused.
    static func parse(_ url: String, broker: String) throws(ConfigError) -> (String, Int, Bool) {
        guard let parts = URLComponents(string: url), let scheme = parts.scheme?.lowercased(), let host = parts.host, !host.isEmpty else {
            throw ConfigError("[[mqtt]] \(broker): invalid url \"\(url)\" (expected tcp://host:port or ssl://host:port)")
        }
        switch scheme {
        case "tcp", "mqtt": return (host, parts.port ?? 1883, false)
        case "ssl", "tls", "mqtts": return (host, parts.port ?? 8883, true)
        case "ws", "wss":
            throw ConfigError("[[mqtt]] \(broker): url \"\(url)\": MQTT over websockets is not supported, use tcp:// or ssl://")
        default:
            throw ConfigError("[[mqtt]] \(broker): url \"\(url)\" has an unknown scheme \(scheme) (use tcp:// or ssl://)")
        }
    }

    public var elements: [ConfigTable] {
        brokers.map { b in
            [
                "enabled": .bool(b.enabled), "name": .string(b.name), "default": .bool(b.isDefault), "url": .string(b.url),
                "ssl-ca": .string(b.sslCA), "ssl-cert": .string(b.sslCert), "ssl-key": .string(b.sslKey),
                "insecure-skip-verify": .bool(b.insecureSkipVerify), "client-id": .string(b.clientID),
                "username": .string(b.username), "password": .bool(!b.password.isEmpty),
            ]
        }
    }

    public func makeSender(options: [String: HandlerOption]) throws(HandlerOptionError) -> any AlertSender {
        var r = OptionReader(options, kind: Self.kind)
        let brokerName = try r.string("broker-name") ?? ""
        let topic = try r.string("topic") ?? ""
        let qos = try Self.qos(r.value("qos"))
        let retained = try r.bool("retained") ?? false
        try r.finish()
        guard !topic.isEmpty else { throw HandlerOptionError("mqtt: missing MQTT topic", option: "topic") }
        let name = brokerName.isEmpty ? (defaultBroker ?? "") : brokerName
        guard let broker = brokers.first(where: { $0.name == name }) else {
            throw HandlerOptionError(brokers.isEmpty ? "mqtt is not enabled: add an [[mqtt]] section with enabled = true to kapacitor.conf"
                                                     : "unknown MQTT broker \"\(name)\"", option: brokerName.isEmpty ? nil : "broker-name")
        }
        guard broker.enabled, let client = clients[name] else {
            throw HandlerOptionError("mqtt broker \"\(name)\" is not enabled: set enabled = true in its [[mqtt]] section of kapacitor.conf",
                                     option: brokerName.isEmpty ? nil : "broker-name")
        }
        return MQTTSender(client: client, topic: topic, qos: qos, retained: retained)
    }

    /// 0, 1, 2, or the names Kapacitor's QoSLevel reads (`at-most-once`, `at-least-once`, `exactly-once`).
    static func qos(_ option: HandlerOption?) throws(HandlerOptionError) -> UInt8 {
        guard let option else { return 0 }
        if let i = option.int, (0...2).contains(i) { return UInt8(i) }
        switch option.string {
        case "at-most-once": return 0
        case "at-least-once": return 1
        case "exactly-once", "exactly-one": return 2
        default: throw HandlerOptionError("mqtt option qos must be 0, 1 or 2", option: "qos")
        }
    }
}

/// Publishes the alert message.
struct MQTTSender: AlertSender {
    let client: MQTTClient
    let topic: String
    let qos: UInt8
    let retained: Bool

    var description: String { "mqtt broker \"\(client.settings.name)\" topic \"\(topic)\"" }

    func send(_ event: AlertEvent) async throws(DeliveryFailure) {
        try await client.publish(topic: topic, qos: qos, retained: retained, payload: Array(event.message.utf8))
    }
}
