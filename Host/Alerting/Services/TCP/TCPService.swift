import Engine
import Foundation
import NIOCore
import NIOPosix
import TockModel

/// `.tcp('host:port')` / topic handler kind `tcp`: a new connection per event, the JSON line written, the
/// connection closed (Kapacitor's services/alert/handlers.go `TCPHandlerConfig`: `address`). No kapacitor.conf section.
public struct TCPService: AlertServiceKind {
    public static let kind = "tcp"
    public static let section = ConfigSectionSpec.none

    public init(elements: [ConfigTable]) throws(ConfigError) {}

    public var elements: [ConfigTable] { [] }

    public func makeSender(options: [String: HandlerOption]) throws(HandlerOptionError) -> any AlertSender {
        var r = OptionReader(options, kind: Self.kind)
        let address = try r.string("address") ?? ""
        try r.finish()
        guard let (host, port) = TCPSender.split(address) else {
            throw HandlerOptionError("alert .tcp() needs an address host:port, got \"\(address)\"", option: "address")
        }
        return TCPSender(address: address, host: host, port: port)
    }
}

struct TCPSender: AlertSender {
    let address: String
    let host: String
    let port: Int

    /// How long connecting may take (the delivery timeout bounds the whole attempt too).
    static let connectTimeout: TimeAmount = .seconds(10)

    var description: String { "tcp \(address)" }

    /// `host:port` or `[v6]:port`; an empty host is localhost. `nil` without a valid port.
    static func split(_ address: String) -> (host: String, port: Int)? {
        guard let colon = address.lastIndex(of: ":"), let port = Int(address[address.index(after: colon)...]),
              (1...65535).contains(port) else { return nil }
        var host = String(address[..<colon])
        if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        return (host.isEmpty ? "localhost" : host, port)
    }

    /// Every failure is retryable: a receiver that refuses or drops the connection may be back later.
    func send(_ event: AlertEvent) async throws(DeliveryFailure) {
        let body = event.jsonLine
        let channel: any Channel
        do {
            channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                .connectTimeout(Self.connectTimeout)
                .connect(host: host, port: port).get()
        } catch {
            throw .retryable("cannot connect to \(address): \(Self.describe(error))")
        }
        do {
            try await withTaskCancellationHandler {
                try await channel.writeAndFlush(ByteBuffer(bytes: body)).get()
                try await channel.close().get()
            } onCancel: {
                channel.close(promise: nil)
            }
        } catch {
            channel.close(promise: nil)
            throw .retryable("write to \(address) failed: \(Self.describe(error))")
        }
    }

    static func describe(_ error: any Error) -> String {
        var error = error
        if let connection = error as? NIOConnectionError, let first = connection.connectionErrors.first { error = first.error }
        if let io = error as? IOError { return String(cString: strerror(io.errnoCode)).lowercased() }
        if error is ChannelError, case .connectTimeout = error as! ChannelError { return "timed out" }
        return String(describing: error)
    }
}
