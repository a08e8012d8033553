import Foundation

/// Produces one record per call to a Kafka cluster: asks a bootstrap broker for the topic's metadata (Metadata v1),
/// picks the partition, and sends a Produce v3 with `acks = 1` (sarama's default `WaitForLocal`, which Kapacitor
/// keeps) to the partition's leader. Each call opens its own connections and closes them, so a dead broker never
/// leaves a half-read connection behind.
struct KafkaProducer: Sendable {
    struct Settings: Sendable, Hashable {
        var cluster: String
        var brokers: [String]
        var timeout: Duration
        var tls: WireTLS?
        /// SASL authentication on every connection, after TLS when `tls` is set; `nil` when off.
        var sasl: KafkaSASL? = nil
        /// The cluster's `id`, as Kapacitor sets sarama's `ClientID`.
        var clientID: String { cluster }
    }

    let settings: Settings

    /// One attempt; broker errors Kafka calls retriable, and network errors, are `.retryable`.
    func produce(topic: String, key: [UInt8]?, value: [UInt8], partitioner: KafkaPartitioner) async throws(DeliveryFailure) {
        let name = "kafka cluster \"\(settings.cluster)\""
        var opened: [WireConnection] = []
        let outcome: Result<Void, KafkaFailure>
        do throws(KafkaFailure) {
            let (bootstrap, metadata) = try await discover(topic: topic, opened: &opened)
            if metadata.topicError != 0 { throw KafkaFailure.broker(metadata.topicError, "metadata for topic \"\(topic)\"") }
            guard !metadata.partitions.isEmpty else { throw KafkaFailure.broker(3, "topic \"\(topic)\" has no partitions") }
            let index = partitioner.partition(key: key, count: Int32(metadata.partitions.count))
            let partition = metadata.partitions[Int(index)]
            if partition.error != 0 && partition.error != 9 {
                throw KafkaFailure.broker(partition.error, "metadata for \(topic)[\(partition.id)]")
            }
            guard let leader = metadata.brokers.first(where: { $0.id == partition.leader }) else {
                throw KafkaFailure.broker(5, "\(topic)[\(partition.id)] has leader \(partition.leader), which the metadata does not list")
            }
            let connection: WireConnection
            if bootstrap.peer == "\(leader.host):\(leader.port)" {
                connection = bootstrap
            } else {
                connection = try await connect(leader.host, Int(leader.port))
                opened.append(connection)
            }
            let ms = settings.timeout.components.seconds * 1000 + settings.timeout.components.attoseconds / 1_000_000_000_000_000
            let batch = KafkaWire.recordBatch(key: key, value: value, timestampMs: Int64(Date().timeIntervalSince1970 * 1000))
            let body = KafkaWire.produceBody(topic: topic, partition: partition.id, acks: 1, timeoutMs: Int32(clamping: ms), batch: batch)
            var answer = try await exchange(connection, apiKey: KafkaWire.produceKey, version: 3, correlationID: 2, body: body)
            let code: Int16
            do { code = try KafkaWire.parseProduce(&answer, topic: topic, partition: partition.id) } catch { throw .protocolError(connection.peer, error) }
            if code != 0 { throw KafkaFailure.broker(code, "produce to \(topic)[\(partition.id)] on \(connection.peer)") }
            outcome = .success(())
        } catch {
            outcome = .failure(error)
        }
        for c in opened { await c.close() }
        if case .failure(let error) = outcome { throw error.delivery(name) }
    }

    private enum KafkaFailure: Error {
        case network(WireError)
        case protocolError(String, KafkaWireError)
        case broker(Int16, String)
        /// SASL authentication with the broker `peer` failed; permanent, since retrying sends the same credentials.
        case authentication(peer: String, mechanism: String, reason: String)

        func delivery(_ name: String) -> DeliveryFailure {
            switch self {
            case .network(let e): return .retryable("\(name): \(e)")
            case .protocolError(let peer, let e): return .permanent("\(name): \(peer) answered something that is not Kafka: \(e)")
            case .broker(let code, let what):
                let (error, retriable) = KafkaWire.error(code)
                let reason = "\(name): \(what): \(error)"
                return retriable ? .retryable(reason) : .permanent(reason)
            case .authentication(let peer, let mechanism, let reason):
                return .permanent("\(name): SASL \(mechanism) authentication with broker \(peer) failed: \(reason)")
            }
        }
    }

    /// Metadata from the first bootstrap broker that answers.
    private func discover(topic: String, opened: inout [WireConnection]) async throws(KafkaFailure) -> (WireConnection, KafkaWire.Metadata) {
        var last = WireError("no brokers configured")
        for address in settings.brokers {
            let (host, port) = Self.split(address)
            do throws(KafkaFailure) {
                let c = try await connect(host, port)
                opened.append(c)
                var answer = try await exchange(c, apiKey: KafkaWire.metadataKey, version: 1, correlationID: 1,
                                                body: KafkaWire.metadataBody(topic: topic))
                do { return (c, try KafkaWire.parseMetadata(&answer, topic: topic)) } catch { throw .protocolError(c.peer, error) }
            } catch {
                guard case .network(let e) = error else { throw error }
                last = e
            }
        }
        throw .network(last)
    }

    /// Connects (with TLS when configured), then authenticates when SASL is configured.
    private func connect(_ host: String, _ port: Int) async throws(KafkaFailure) -> WireConnection {
        let connection: WireConnection
        do {
            let tls = try settings.tls?.configuration(section: "[kafka] \(settings.cluster)")
            connection = try await WireConnection.connect(host: host, port: port, tls: tls, connectTimeout: settings.timeout)
        } catch { throw .network(error) }
        guard let sasl = settings.sasl else { return connection }
        do throws(KafkaFailure) {
            try await authenticate(connection, sasl)
        } catch {
            await connection.close()
            throw error
        }
        return connection
    }

    /// SaslHandshake, then the mechanism's tokens: in SaslAuthenticate requests (handshake v1) or as raw
    /// size-prefixed frames (v0). Any refusal is an `.authentication` failure naming the broker and mechanism.
    private func authenticate(_ c: WireConnection, _ sasl: KafkaSASL) async throws(KafkaFailure) {
        let mechanism = sasl.mechanism.rawValue
        func refused(_ reason: String) -> KafkaFailure { .authentication(peer: c.peer, mechanism: mechanism, reason: reason) }
        var answer = try await exchange(c, apiKey: KafkaWire.saslHandshakeKey, version: sasl.handshakeVersion, correlationID: 100,
                                        body: KafkaWire.saslHandshakeBody(mechanism: mechanism))
        let handshake: (error: Int16, mechanisms: [String])
        do { handshake = try KafkaWire.parseSaslHandshake(&answer) } catch { throw .protocolError(c.peer, error) }
        if handshake.error != 0 {
            throw refused("\(KafkaWire.error(handshake.error).name) (the broker enables \(handshake.mechanisms.isEmpty ? "none" : handshake.mechanisms.joined(separator: ", ")))")
        }
        var correlation: Int32 = 101
        func step(_ token: [UInt8]) async throws(KafkaFailure) -> [UInt8] {
            defer { correlation += 1 }
            if sasl.handshakeVersion == 0 {
                var w = KafkaWriter()
                w.int32(Int32(token.count))
                w.bytes.append(contentsOf: token)
                do throws(WireError) {
                    try await c.write(w.bytes)
                    var size = KafkaReader(try await c.read(4))
                    let length = Int((try? size.int32()) ?? -1)
                    guard length >= 0, length <= 1 << 20 else { throw WireError("a SASL frame of \(length) bytes") }
                    return length == 0 ? [] : try await c.read(length)
                } catch { throw refused("the broker ended the exchange: \(error)") }
            }
            var answer = try await exchange(c, apiKey: KafkaWire.saslAuthenticateKey, version: 0, correlationID: correlation,
                                            body: KafkaWire.saslAuthenticateBody(token))
            let result: (error: Int16, message: String?, token: [UInt8])
            do { result = try KafkaWire.parseSaslAuthenticate(&answer) } catch { throw .protocolError(c.peer, error) }
            if result.error != 0 {
                let name = KafkaWire.error(result.error).name
                throw refused(result.message.map { $0.isEmpty ? name : "\(name): \($0)" } ?? name)
            }
            return result.token
        }
        switch sasl.conversation() {
        case .plain(let username, let password):
            _ = try await step(KafkaSASLConversation.plainMessage(username: username, password: password))
        case .scram(let client):
            let first = try await step(Array(client.clientFirst.utf8))
            let final: ScramClient.Final
            do { final = try client.final(serverFirst: String(decoding: first, as: UTF8.self)) } catch { throw refused(error.description) }
            let last = try await step(Array(final.message.utf8))
            do { try ScramClient.verify(serverFinal: String(decoding: last, as: UTF8.self), expected: final.serverSignature) } catch {
                throw refused(error.description)
            }
        }
    }

    /// Sends a request and returns its response after the correlation id, which must match.
    private func exchange(_ c: WireConnection, apiKey: Int16, version: Int16, correlationID: Int32, body: [UInt8]) async throws(KafkaFailure) -> KafkaReader {
        let request = KafkaWire.request(apiKey: apiKey, version: version, correlationID: correlationID, clientID: settings.clientID, body: body)
        let length: Int
        do throws(WireError) {
            try await c.write(request)
            var size = KafkaReader(try await c.read(4))
            length = Int((try? size.int32()) ?? 0)
        } catch { throw .network(error) }
        guard length >= 4, length <= 16 << 20 else { throw .protocolError(c.peer, KafkaWireError("a response of \(length) bytes")) }
        var answer: KafkaReader
        do throws(WireError) { answer = KafkaReader(try await c.read(length)) } catch { throw .network(error) }
        let id = try? answer.int32()
        guard id == correlationID else {
            throw .protocolError(c.peer, KafkaWireError("correlation id \(id ?? -1), expected \(correlationID)"))
        }
        return answer
    }

    /// `host:port`, port 9092 when absent; `[v6]:port` too.
    static func split(_ address: String) -> (String, Int) {
        var a = address
        if let r = a.range(of: "://") { a = String(a[r.upperBound...]) }
        if a.hasPrefix("["), let close = a.firstIndex(of: "]") {
            let host = String(a[a.index(after: a.startIndex)..<close])
            let rest = a[a.index(after: close)...]
            return (host, rest.hasPrefix(":") ? Int(rest.dropFirst()) ?? 9092 : 9092)
        }
        if let colon = a.lastIndex(of: ":"), let port = Int(a[a.index(after: colon)...]) { return (String(a[..<colon]), port) }
        return (a, 9092)
    }
}
