import NIOSSL

/// A minimal MQTT 3.1.1 publisher written here over swift-nio (no Swift MQTT package is on the machine): CONNECT
/// with a clean session (as Kapacitor's paho client connects), PUBLISH with the QoS 0, 1 (PUBACK) and 2
/// (PUBREC/PUBREL/PUBCOMP) handshakes, PINGREQ while idle to keep the session, DISCONNECT when closed.
///
/// One connection per broker, shared by every handler that names it; publishes go out one at a time on it.
actor MQTTClient {
    struct Settings: Sendable, Hashable {
        var name: String
        var host: String
        var port: Int
        var tls: WireTLS?
        var clientID: String
        var username: String
        var password: String
        /// Seconds; paho's default.
        var keepAlive: UInt16 = 30
    }

    let settings: Settings
    private var connection: WireConnection?
    private var nextPacketID: UInt16 = 0
    private var busy = false
    private var waiters: [CheckedContinuation<Void, Never>] = []
    private var activity = 0

    init(settings: Settings) { self.settings = settings }

    nonisolated var peer: String { "\(settings.host):\(settings.port)" }

    /// Publishes one message; one attempt on the open connection (a stale one is replaced once).
    func publish(topic: String, qos: UInt8, retained: Bool, payload: [UInt8]) async throws(DeliveryFailure) {
        await acquire()
        defer { release() }
        activity += 1
        let reused = connection != nil
        do throws(MQTTFailure) {
            try await exchange(topic: topic, qos: qos, retained: retained, payload: payload)
        } catch {
            await drop()
            guard reused, case .wire = error else { throw error.delivery(self) }
            do throws(MQTTFailure) {
                try await exchange(topic: topic, qos: qos, retained: retained, payload: payload)
            } catch {
                await drop()
                throw error.delivery(self)
            }
        }
        scheduleKeepAlive()
    }

    /// Sends DISCONNECT and closes the connection.
    func disconnect() async {
        guard let c = connection else { return }
        connection = nil
        try? await c.write([0xE0, 0x00])
        await c.close()
    }

    // MARK: Packets

    private enum MQTTFailure: Error {
        case wire(WireError)
        case refused(String, retryable: Bool)

        func delivery(_ client: MQTTClient) -> DeliveryFailure {
            let broker = "mqtt broker \"\(client.settings.name)\" (\(client.peer))"
            return switch self {
            case .wire(let e): .retryable("\(broker): \(e)")
            case .refused(let why, let retryable): retryable ? .retryable("\(broker): \(why)") : .permanent("\(broker): \(why)")
            }
        }
    }

    private func exchange(topic: String, qos: UInt8, retained: Bool, payload: [UInt8]) async throws(MQTTFailure) {
        let c = try await open()
        var body = Self.string(topic)
        var id: UInt16 = 0
        if qos > 0 {
            nextPacketID = nextPacketID == .max ? 1 : nextPacketID + 1
            id = nextPacketID
            body += [UInt8(id >> 8), UInt8(id & 0xFF)]
        }
        body += payload
        try await send(c, 0x30 | (qos << 1) | (retained ? 1 : 0), body)
        switch qos {
        case 1:
            _ = try await expectPacket(c, type: 0x40, id: id)
        case 2:
            _ = try await expectPacket(c, type: 0x50, id: id)
            try await send(c, 0x62, [UInt8(id >> 8), UInt8(id & 0xFF)])
            _ = try await expectPacket(c, type: 0x70, id: id)
        default:
            break
        }
    }

    private func open() async throws(MQTTFailure) -> WireConnection {
        if let connection { return connection }
        let tls: TLSConfiguration?
        do { tls = try settings.tls.map { tls throws(WireError) in try tls.configuration(section: "mqtt") } } catch {
            throw .refused("\(error)", retryable: false)
        }
        let c: WireConnection
        do { c = try await WireConnection.connect(host: settings.host, port: settings.port, tls: tls) } catch { throw .wire(error) }
        var flags: UInt8 = 0x02
        var payload = Self.string(settings.clientID)
        if !settings.username.isEmpty {
            flags |= 0x80
            payload += Self.string(settings.username)
        }
        if !settings.password.isEmpty {
            flags |= 0x40
            payload += Self.string(settings.password)
        }
        let header: [UInt8] = Self.string("MQTT") + [4, flags, UInt8(settings.keepAlive >> 8), UInt8(settings.keepAlive & 0xFF)]
        do throws(MQTTFailure) {
            try await send(c, 0x10, header + payload)
            let (type, body) = try await packet(c)
            guard type & 0xF0 == 0x20, body.count >= 2 else {
                throw .refused("answered CONNECT with packet type \(type >> 4), not CONNACK", retryable: false)
            }
            switch body[1] {
            case 0: break
            case 1: throw .refused("refused the connection: unacceptable protocol version", retryable: false)
            case 2: throw .refused("refused the connection: client identifier \"\(settings.clientID)\" rejected", retryable: false)
            case 3: throw .refused("refused the connection: server unavailable", retryable: true)
            case 4: throw .refused("refused the connection: bad user name or password", retryable: false)
            case 5: throw .refused("refused the connection: not authorized", retryable: false)
            default: throw .refused("refused the connection: return code \(body[1])", retryable: false)
            }
        } catch {
            await c.close()
            throw error
        }
        connection = c
        return c
    }

    private func send(_ c: WireConnection, _ first: UInt8, _ body: [UInt8]) async throws(MQTTFailure) {
        do { try await c.write([first] + Self.remainingLength(body.count) + body) } catch { throw .wire(error) }
    }

    /// Reads packets until one of `type` for packet `id` (others, such as a late PINGRESP, are skipped).
    private func expectPacket(_ c: WireConnection, type: UInt8, id: UInt16) async throws(MQTTFailure) -> [UInt8] {
        while true {
            let (t, body) = try await packet(c)
            if t & 0xF0 == type, body.count >= 2, UInt16(body[0]) << 8 | UInt16(body[1]) == id { return body }
        }
    }

    private func packet(_ c: WireConnection) async throws(MQTTFailure) -> (UInt8, [UInt8]) {
        do throws(WireError) {
            let type = try await c.read(1)[0]
            var length = 0
            var shift = 0
            while true {
                let b = try await c.read(1)[0]
                length |= Int(b & 0x7F) << shift
                if b & 0x80 == 0 { break }
                shift += 7
                guard shift <= 21 else { throw WireError("\(c.peer) sent a malformed packet length") }
            }
            return (type, try await c.read(length))
        } catch { throw .wire(error) }
    }

    static func string(_ s: String) -> [UInt8] {
        let bytes = Array(s.utf8)
        return [UInt8(bytes.count >> 8 & 0xFF), UInt8(bytes.count & 0xFF)] + bytes
    }

    static func remainingLength(_ n: Int) -> [UInt8] {
        var out: [UInt8] = []
        var x = n
        repeat {
            var b = UInt8(x % 128)
            x /= 128
            if x > 0 { b |= 0x80 }
            out.append(b)
        } while x > 0
        return out
    }

    // MARK: One exchange at a time; keep-alive

    private func acquire() async {
        if !busy {
            busy = true
            return
        }
        await withCheckedContinuation { waiters.append($0) }
    }

    private func release() {
        if waiters.isEmpty { busy = false } else { waiters.removeFirst().resume() }
    }

    private func drop() async {
        guard let c = connection else { return }
        connection = nil
        await c.close()
    }

    /// Pings after half the keep-alive without a publish, so the broker keeps the connection.
    private func scheduleKeepAlive() {
        let seen = activity
        let interval = Int64(settings.keepAlive) * 500_000_000
        Task {
            try? await Task.sleep(for: .nanoseconds(interval))
            await self.ping(seen)
        }
    }

    private func ping(_ seen: Int) async {
        guard seen == activity, let c = connection else { return }
        await acquire()
        defer { release() }
        guard seen == activity else { return }
        do throws(MQTTFailure) {
            try await send(c, 0xC0, [])
            let (type, _) = try await packet(c)
            guard type & 0xF0 == 0xD0 else { throw .wire(WireError("no PINGRESP")) }
            scheduleKeepAlive()
        } catch {
            await drop()
        }
    }
}
