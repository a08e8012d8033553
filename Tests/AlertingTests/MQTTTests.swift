import Engine
import Foundation
import Testing
import TockModel
@testable import Alerting

/// Publishes to Debian's real `mosquitto` on loopback; a subscriber (a short Python script speaking MQTT 3.1.1 over a
/// raw socket, subscribed with QoS 2 so every message arrives with the QoS it was published with) prints each
/// PUBLISH it receives as a JSON line.
@Suite("mqtt: the alert message published to a real mosquitto", .serialized,
       .enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/sbin/mosquitto"), "mosquitto is not installed"))
struct MQTTTests {
    static let subscriber = #"""
import socket, struct, sys, json
port, topic, client = int(sys.argv[1]), sys.argv[2], sys.argv[3]
s = socket.create_connection(("127.0.0.1", port))
buf = b""
def string(x):
    b = x.encode()
    return struct.pack("!H", len(b)) + b
def send(t, body):
    n, rl = len(body), b""
    while True:
        d, n = n % 128, n // 128
        rl += bytes([d | (0x80 if n else 0)])
        if not n: break
    s.sendall(bytes([t]) + rl + body)
def read(n):
    global buf
    while len(buf) < n:
        d = s.recv(65536)
        if not d: sys.exit(0)
        buf += d
    out, buf = buf[:n], buf[n:]
    return out
def packet():
    t, mult, n = read(1)[0], 1, 0
    while True:
        b = read(1)[0]
        n += (b & 0x7f) * mult
        mult *= 128
        if not b & 0x80: break
    return t, read(n)
send(0x10, string("MQTT") + bytes([4, 2, 0, 60]) + string(client))
packet()
send(0x82, struct.pack("!H", 1) + string(topic) + bytes([2]))
packet()
print("subscribed", flush=True)
while True:
    t, body = packet()
    if t & 0xF0 == 0x30:
        qos, retain = (t >> 1) & 3, t & 1
        n = struct.unpack("!H", body[:2])[0]
        name, rest, pid = body[2:2 + n].decode(), body[2 + n:], b""
        if qos: pid, rest = rest[:2], rest[2:]
        print(json.dumps({"topic": name, "qos": qos, "retain": retain, "payload": rest.decode()}), flush=True)
        if qos == 1: send(0x40, pid)
        if qos == 2: send(0x50, pid)
    elif t & 0xF0 == 0x60:
        send(0x70, body[:2])
"""#

    struct Received: Decodable, Equatable {
        var topic: String
        var qos: Int
        var retain: Int
        var payload: String
    }

    static func broker() async throws -> ReceiverProcess {
        let port = try ReceiverProcess.freePort()
        let dir = try ReceiverProcess.temporaryDirectory("mosquitto")
        try "listener \(port) 127.0.0.1\nallow_anonymous true\npersistence false\n".write(toFile: dir + "/mosquitto.conf", atomically: true, encoding: .utf8)
        return try await ReceiverProcess("/usr/sbin/mosquitto", ["-c", dir + "/mosquitto.conf"], port: port, directory: dir, ready: nil)
    }

    static func subscribe(_ broker: ReceiverProcess, _ topic: String, client: String) async throws -> ReceiverProcess {
        try await ReceiverProcess("/usr/bin/env", ["python3", "-c", subscriber, String(broker.port), topic, client],
                                  port: broker.port, directory: "", ready: "subscribed")
    }

    static func received(_ r: ReceiverProcess, count: Int) async throws -> [Received] {
        let text = try await r.waitForOutput { $0.split(separator: "\n").filter { $0.hasPrefix("{") }.count >= count }
        return try text.split(separator: "\n").filter { $0.hasPrefix("{") }.map {
            try JSONDecoder().decode(Received.self, from: Data($0.utf8))
        }
    }

    static func service(_ port: Int) throws -> MQTTService {
        try MQTTService(elements: [["enabled": .bool(true), "name": .string("local"), "url": .string("tcp://127.0.0.1:\(port)")]])
    }

    @Test("the message goes to the topic with QoS 0, 1 and 2 (each handshake completed)")
    func qualitiesOfService() async throws {
        let broker = try await Self.broker()
        defer { broker.stop() }
        let sub = try await Self.subscribe(broker, "alerts/cpu", client: "sub-qos")
        defer { sub.stop() }
        let service = try Self.service(broker.port)
        for qos in 0...2 {
            let sender = try service.makeSender(options: ["topic": .string("alerts/cpu"), "qos": .int(Int64(qos))])
            try await sender.send(AlertFixtures.event(message: "serverA cpu is CRITICAL (qos \(qos))"))
        }
        #expect(try await Self.received(sub, count: 3) == (0...2).map {
            Received(topic: "alerts/cpu", qos: $0, retain: 0, payload: "serverA cpu is CRITICAL (qos \($0))")
        })
        await service.clients["local"]?.disconnect()
    }

    @Test("retained = true: a subscriber that comes later still gets the message, flagged retained")
    func retained() async throws {
        let broker = try await Self.broker()
        defer { broker.stop() }
        let service = try Self.service(broker.port)
        let sender = try service.makeSender(options: ["topic": .string("alerts/mem"), "retained": .bool(true), "qos": .int(1)])
        try await sender.send(AlertFixtures.event(message: "memory is WARNING"))
        let sub = try await Self.subscribe(broker, "alerts/mem", client: "sub-retained")
        defer { sub.stop() }
        #expect(try await Self.received(sub, count: 1) == [Received(topic: "alerts/mem", qos: 1, retain: 1, payload: "memory is WARNING")])
        await service.clients["local"]?.disconnect()
    }

    @Test("a broker that is down is a retryable failure naming it")
    func brokerDown() async throws {
        let port = try ReceiverProcess.freePort()
        let sender = try Self.service(port).makeSender(options: ["topic": .string("t")])
        do {
            try await sender.send(AlertFixtures.event())
            Issue.record("published to a closed port")
        } catch {
            #expect(error.isRetryable)
            #expect(error.reason.hasPrefix("mqtt broker \"local\" (127.0.0.1:\(port)): cannot connect"), "\(error.reason)")
        }
    }

    @Test("configuration: brokers by name, one default, websockets refused, the password redacted, disabled brokers refused")
    func configuration() throws {
        #expect(throws: ConfigError("[[mqtt]] no configuration is marked as the default")) {
            try MQTTService(elements: [["name": .string("a")], ["name": .string("b")]])
        }
        #expect(throws: ConfigError("[[mqtt]] ws: url \"ws://127.0.0.1:9001\": MQTT over websockets is not supported, use tcp:// or ssl://")) {
            try MQTTService(elements: [["enabled": .bool(true), "name": .string("ws"), "url": .string("ws://127.0.0.1:9001")]])
        }
        let two = try MQTTService(elements: [
            ["enabled": .bool(true), "name": .string("a"), "url": .string("tcp://127.0.0.1:1"), "password": .string("p")],
            ["name": .string("b"), "default": .bool(true)],
        ])
        #expect(two.defaultBroker == "b")
        #expect(two.elements[0]["password"] == .bool(true))
        do {
            _ = try two.makeSender(options: ["topic": .string("t")])
            Issue.record("a disabled default broker made a sender")
        } catch {
            #expect(error.message == "mqtt broker \"b\" is not enabled: set enabled = true in its [[mqtt]] section of kapacitor.conf")
        }
        do {
            _ = try two.makeSender(options: ["topic": .string("t"), "broker-name": .string("c")])
            Issue.record("an unknown broker made a sender")
        } catch {
            #expect(error.message == "unknown MQTT broker \"c\"" && error.option == "broker-name")
        }
        #expect(throws: HandlerOptionError.self) { try two.makeSender(options: ["topic": .string("t"), "broker-name": .string("a"), "qos": .int(3)]) }
        #expect(try MQTTService.qos(.string("exactly-once")) == 2)
    }
}
