import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL

/// How the CLI trusts an `https://` server: the system's roots by default, a CA file (`-ca`), or no
/// verification at all (`-skipVerify`, for a self-signed certificate on a trusted network).
struct ClientTLSOptions: Sendable {
    var skipVerify = false
    var caFile: String?
}

/// One HTTP/1.1 request over TLS with SwiftNIO. URLSession on Linux (libcurl) offers no way to trust a
/// self-signed certificate or skip verification, so the CLI speaks HTTPS through NIOSSL itself.
enum HTTPSTransport {
    struct Reply: Sendable {
        var status: Int
        var headers: [String: String]
        var body: Data
    }

    struct TransportError: Error, CustomStringConvertible {
        let description: String
    }

    static func send(method: String, url: URL, headers: [(String, String)], body: Data?, tls: ClientTLSOptions,
                     timeout: TimeAmount = .seconds(60)) async throws -> Reply {
        guard let host = url.host else { throw TransportError(description: "no host in \(url)") }
        let port = url.port ?? 443
        var configuration = TLSConfiguration.makeClientConfiguration()
        if tls.skipVerify { configuration.certificateVerification = .none }
        if let ca = tls.caFile {
            guard FileManager.default.isReadableFile(atPath: ca) else {
                throw TransportError(description: "cannot read the CA file \(ca)")
            }
            configuration.trustRoots = .file(ca)
        }
        let context = try NIOSSLContext(configuration: configuration)
        // SNI takes names only; for an IP address NIOSSL checks the certificate against the address.
        let isAddress = host.contains(":") || host.allSatisfy { $0.isNumber || $0 == "." }
        let serverHostname: String? = isAddress ? nil : host
        let group = MultiThreadedEventLoopGroup.singleton
        let promise = group.next().makePromise(of: Reply.self)
        let channel = try await ClientBootstrap(group: group)
            .connectTimeout(.seconds(10))
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(
                        try NIOSSLClientHandler(context: context, serverHostname: serverHostname))
                    try channel.pipeline.syncOperations.addHTTPClientHandlers()
                    try channel.pipeline.syncOperations.addHandler(ResponseCollector(promise: promise))
                }
            }
            .connect(host: host, port: port).get()
        let timer = channel.eventLoop.scheduleTask(in: timeout) {
            promise.fail(TransportError(description: "no answer within \(timeout.nanoseconds / 1_000_000_000) s"))
            channel.close(promise: nil)
        }
        defer { timer.cancel() }

        var target = url.path.isEmpty ? "/" : url.path
        if let query = url.query { target += "?" + query }
        var head = HTTPRequestHead(version: .http1_1, method: HTTPMethod(rawValue: method), uri: target)
        head.headers.add(name: "Host", value: url.port.map { "\(host):\($0)" } ?? host)
        head.headers.add(name: "Connection", value: "close")
        head.headers.add(name: "Content-Length", value: String(body?.count ?? 0))
        for (name, value) in headers { head.headers.add(name: name, value: value) }
        channel.write(HTTPClientRequestPart.head(head), promise: nil)
        if let body, !body.isEmpty {
            channel.write(HTTPClientRequestPart.body(.byteBuffer(ByteBuffer(bytes: body))), promise: nil)
        }
        channel.writeAndFlush(HTTPClientRequestPart.end(nil), promise: nil)
        return try await promise.futureResult.get()
    }
}

/// Collects one response, then closes the connection.
private final class ResponseCollector: ChannelInboundHandler {
    typealias InboundIn = HTTPClientResponsePart
    let promise: EventLoopPromise<HTTPSTransport.Reply>
    var head: HTTPResponseHead?
    var body = Data()
    var done = false

    init(promise: EventLoopPromise<HTTPSTransport.Reply>) { self.promise = promise }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let h): head = h
        case .body(let buffer): body.append(contentsOf: buffer.readableBytesView)
        case .end:
            guard !done, let head else { return }
            done = true
            var headers: [String: String] = [:]
            for (name, value) in head.headers { headers[name.lowercased()] = value }
            promise.succeed(.init(status: Int(head.status.code), headers: headers, body: body))
            context.close(promise: nil)
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        if !done {
            done = true
            promise.fail(error)
        }
        context.close(promise: nil)
    }

    func channelInactive(context: ChannelHandlerContext) {
        if !done {
            done = true
            promise.fail(HTTPSTransport.TransportError(description: "the server closed the connection before answering"))
        }
        context.fireChannelInactive()
    }
}
