import Engine
import NIOCore
import NIOPosix

/// One Sensu handler: connects to the client socket, writes the check result as a JSON line, reads the answer to
/// the end and expects exactly `ok` (Kapacitor: services/sensu/service.go `Alert`, `prepareData`).
struct SensuSender: AlertSender {
    let addr: String
    let source: EventTemplate
    let defaultSource: String
    let handlers: [String]?
    let metadata: [String: GoValueJSON]
    var timeout: Duration = AlertHTTP.defaultTimeout

    var description: String { "sensu \(addr)" }

    /// The check result: name (the alert ID), source, output (the message), status (0 OK/info, 1 warning,
    /// 2 critical), handlers, and the metadata keys that do not collide with those.
    func body(_ event: AlertEvent) throws(DeliveryFailure) -> [UInt8] {
        guard Self.validName(event.id) else {
            throw .permanent("sensu: invalid name \"\(event.id)\" for sensu alert. Must match ^[\\w\\.-]+$")
        }
        var source = try self.source.rendering(event, service: "sensu source")
        if source.isEmpty { source = defaultSource }
        var data: [String: GoValueJSON] = [
            "name": .string(event.id),
            "source": .string(source),
            "output": .string(event.message),
            "status": .int(Self.status(event.level)),
            "handlers": GoValueJSON.strings(handlers),
        ]
        for (key, value) in metadata where data[key] == nil { data[key] = value }
        return GoValueJSON.object(data).encodedLine
    }

    func send(_ event: AlertEvent) async throws(DeliveryFailure) {
        let body = try self.body(event)
        guard let colon = addr.lastIndex(of: ":"), let port = Int(addr[addr.index(after: colon)...]) else {
            throw .permanent("sensu: addr \"\(addr)\" is not host:port")
        }
        let host = String(addr[..<colon]).trimmingCharacters(in: ["[", "]"])
        let answer: String
        do {
            answer = try await withThrowingTaskGroup(of: String.self) { group in
                group.addTask { try await Self.exchange(host: host.isEmpty ? "127.0.0.1" : host, port: port, body: body) }
                group.addTask {
                    try await Task.sleep(for: timeout)
                    throw SensuTimeout()
                }
                let first = try await group.next()!
                group.cancelAll()
                return first
            }
        } catch is SensuTimeout {
            throw .retryable("sensu \(addr): timed out")
        } catch {
            throw .retryable("sensu \(addr): \(error)")
        }
        guard answer == "ok" else { throw .permanent("sensu \(addr): sensu socket error: \(answer)") }
    }

    private struct SensuTimeout: Error {}

    private static func exchange(host: String, port: Int, body: [UInt8]) async throws -> String {
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .connect(host: host, port: port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel)
                }
            }
        return try await channel.executeThenClose { inbound, outbound in
            try await outbound.write(ByteBuffer(bytes: body))
            var answer = ByteBuffer()
            for try await var chunk in inbound {
                answer.writeBuffer(&chunk)
                if answer.readableBytes > 4096 { break }
            }
            return String(buffer: answer)
        }
    }

    static func status(_ level: AlertLevel) -> Int64 {
        switch level {
        case .ok, .info: 0
        case .warning: 1
        case .critical: 2
        }
    }

    /// `^[\w\.-]+$`: ASCII letters, digits, `_`, `.` and `-`.
    static func validName(_ name: String) -> Bool {
        !name.isEmpty && name.unicodeScalars.allSatisfy { s in
            s.isASCII && (s.properties.isAlphabetic || ("0"..."9").contains(s) || s == "_" || s == "." || s == "-")
        }
    }
}
