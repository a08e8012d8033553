#if canImport(Glibc)
import Glibc
#endif
import Foundation
import NIOCore
import NIOPosix
import NIOSSL
import TockModel
import X509

/// One of `x509_cert`'s `sources`, as Telegraf reads them: PEM files (`file:///path`, or a plain absolute path), each
/// a glob (see ``FileGlob``); a TLS server (`https://host[:443]`, `tcp://host:port`, `tcp4://`, `tcp6://`); or a mail
/// server that starts TLS (`smtp://host:port`: the greeting, `EHLO`, `STARTTLS`, then the handshake, as Telegraf's
/// net/smtp client does; `smtp+starttls://` is taken as the same).
enum X509Source: Sendable, Hashable {
    /// A path or a glob of PEM files.
    case files(String)
    /// A server whose TLS handshake presents the chain; `location` is the `source` tag (Telegraf's URL text: an
    /// `https` source without a port gets `:443`).
    case tls(host: String, port: Int, location: String)
    /// A mail server asked to `STARTTLS` before the handshake.
    case smtp(host: String, port: Int, location: String)

    /// `source` read, or why it cannot be.
    static func parse(_ source: String) throws(CollectorError) -> X509Source {
        let name = X509CertCollector.name
        if source.hasPrefix("/") || source.hasPrefix("file://") {
            let path = source.hasPrefix("/") ? source : String(source.dropFirst("file://".count))
            guard !path.isEmpty else { throw CollectorError(name, "source \"\(source)\" names no file") }
            if let problem = FileGlob.problem(path) { throw CollectorError(name, "could not compile glob \"\(path)\": \(problem)") }
            return .files(path)
        }
        guard let url = URLComponents(string: source), let scheme = url.scheme else {
            throw CollectorError(name, "source \"\(source)\" is not a URL or an absolute path (relative paths are written file://path)")
        }
        guard let host = url.host, !host.isEmpty else { throw CollectorError(name, "source \"\(source)\" has no host") }
        switch scheme {
        case "https", "tcp", "tcp4", "tcp6":
            if let port = url.port { return .tls(host: host, port: port, location: source) }
            guard scheme == "https" else { throw CollectorError(name, "source \"\(source)\" has no port (\(scheme)://host:port)") }
            var withPort = url
            withPort.port = 443
            return .tls(host: host, port: 443, location: withPort.string ?? source)
        case "smtp", "smtp+starttls":
            guard let port = url.port else { throw CollectorError(name, "source \"\(source)\" has no port (smtp://host:25 or :587)") }
            return .smtp(host: host, port: port, location: source)
        case "udp", "udp4", "udp6":
            // Telegraf reads these over DTLS (pion/dtls); swift-nio-ssl speaks TLS only, and Tock has no DTLS client.
            let instead = "use a tcp:// or https:// source of the same server, or a file"
            throw CollectorError(name, "source \(source): udp:// sources (certificates over DTLS) are not supported by Tock; \(instead)")
        default:
            throw CollectorError(name, "unsupported scheme \"\(scheme)\" in source \(source) (https, tcp, tcp4, tcp6, smtp, file or a path)")
        }
    }

    /// Whether reading it waits on the network (and so may take up to the timeout).
    var isNetwork: Bool {
        if case .files = self { false } else { true }
    }
}

/// Why certificates could not be read from a source.
struct X509SourceFailure: Error, CustomStringConvertible {
    var description: String
}

extension X509CertCollector {
    /// The certificates of a network source, leaf first, read unchecked within `timeout`.
    func fetch(_ source: X509Source, timeout: Int64) throws -> [Certificate] {
        var configuration = TLSConfiguration.makeClientConfiguration()
        if !certFile.isEmpty {
            configuration.certificateChain = try NIOSSLCertificate.fromPEMFile(certFile).map { .certificate($0) }
            configuration.privateKey = .privateKey(try NIOSSLPrivateKey(file: keyFile, format: .pem))
        }
        let der: [[UInt8]]
        switch source {
        case .files:
            return []
        case .tls(let host, let port, _):
            der = try Self.peerChain(serverName: serverName.isEmpty ? host : serverName, configuration: configuration, timeout: timeout) {
                $0.connect(host: host, port: port)
            }
        case .smtp(let host, let port, _):
            let name = serverName.isEmpty ? host : serverName
            let started = monotonic()
            let fd = try SMTPStartTLS.open(host: host, port: port, helloName: name, timeout: timeout)
            let left = max(GoDuration.millisecond, timeout - (monotonic() - started))
            der = try Self.peerChain(serverName: name, configuration: configuration, timeout: left) { bootstrap in
                bootstrap.withConnectedSocket(fd)
            }
        }
        return try der.map { try Certificate(derEncoded: $0) }
    }

    /// The certificates of the PEM file at `path`, in file order.
    static func readPEM(_ path: String) throws -> [Certificate] {
        try NIOSSLCertificate.fromPEMFile(path).map { try Certificate(derEncoded: $0.toDERBytes()) }
    }

    /// The DER certificates a TLS server presents, leaf first, read during a handshake that accepts any chain; all
    /// within `timeout`. `connect` makes the channel (a new connection, or a socket already past STARTTLS).
    static func peerChain(serverName: String, configuration: TLSConfiguration, timeout: Int64,
                          connect: (ClientBootstrap) -> EventLoopFuture<any Channel>) throws -> [[UInt8]] {
        var configuration = configuration
        configuration.certificateVerification = .noHostnameVerification
        let context = try NIOSSLContext(configuration: configuration)
        let group = MultiThreadedEventLoopGroup.singleton
        let chain = group.next().makePromise(of: [[UInt8]].self)
        let sni = serverName.isIPAddress ? nil : serverName
        let deadline = NIODeadline.now() + .nanoseconds(timeout)
        let bootstrap = ClientBootstrap(group: group)
            .connectTimeout(.nanoseconds(timeout))
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    let handler = try NIOSSLClientHandler(context: context, serverHostname: sni, customVerificationCallback: { certificates, verdict in
                        chain.completeWith(Result { try certificates.map { try $0.toDERBytes() } })
                        verdict.succeed(.certificateVerified)
                    })
                    try channel.pipeline.syncOperations.addHandler(handler)
                    try channel.pipeline.syncOperations.addHandler(HandshakeWatcher(chain: chain))
                }
            }
        let timer = group.next().scheduleTask(deadline: deadline) {
            chain.fail(X509SourceFailure(description: "no TLS handshake within \(GoDuration.format(timeout))"))
        }
        defer { timer.cancel() }
        let connected = connect(bootstrap)
        connected.whenFailure { chain.fail($0) }
        defer { connected.whenSuccess { $0.close(promise: nil) } }
        return try chain.futureResult.wait()
    }

    /// Fails the chain's promise when the connection fails or closes before the server sent its certificates.
    final class HandshakeWatcher: ChannelInboundHandler, Sendable {
        typealias InboundIn = NIOAny
        let chain: EventLoopPromise<[[UInt8]]>

        init(chain: EventLoopPromise<[[UInt8]]>) { self.chain = chain }

        func errorCaught(context: ChannelHandlerContext, error: any Error) {
            chain.fail(error)
            context.close(promise: nil)
        }

        func channelInactive(context: ChannelHandlerContext) {
            chain.fail(X509SourceFailure(description: "the server closed the connection during the TLS handshake"))
            context.fireChannelInactive()
        }
    }
}

/// The SMTP dialogue before a TLS handshake, as Go's net/smtp client speaks it for Telegraf: the server's `220`
/// greeting, `EHLO name` (`HELO name` when EHLO is refused) answered `250`, then `STARTTLS` answered `220`.
enum SMTPStartTLS {
    /// A socket connected to `host:port` and ready for the TLS handshake; everything within `timeout`.
    static func open(host: String, port: Int, helloName: String, timeout: Int64) throws(X509SourceFailure) -> Int32 {
        guard !helloName.contains("\r") && !helloName.contains("\n") else {
            throw X509SourceFailure(description: "smtp: the hello name contains CR or LF")
        }
        let deadline = monotonic() + timeout
        guard let fd = NetResponseCollector.connect(host: host, port: String(port), udp: false, timeout: timeout) else {
            if errno == ETIMEDOUT { throw X509SourceFailure(description: "dial tcp \(host):\(port): i/o timeout") }
            throw X509SourceFailure(description: "dial tcp \(host):\(port): \(String(cString: strerror(errno)))")
        }
        var reader = ReplyReader(fd: fd, deadline: deadline)
        do throws(X509SourceFailure) {
            try reader.expect(220, after: "connecting")
            try reader.send("EHLO \(helloName)\r\n")
            if try reader.reply().code != 250 {
                try reader.send("HELO \(helloName)\r\n")
                try reader.expect(250, after: "HELO")
            }
            try reader.send("STARTTLS\r\n")
            do throws(X509SourceFailure) { try reader.expect(220, after: "STARTTLS") } catch {
                throw X509SourceFailure(description: "did not get 220 after STARTTLS: \(error.description)")
            }
        } catch {
            close(fd)
            throw error
        }
        return fd
    }

    /// Reads SMTP replies (`250-…` lines continue, `250 …` ends) from a blocking socket, never past the last line of
    /// a reply (what follows STARTTLS's is the TLS handshake).
    struct ReplyReader {
        let fd: Int32
        let deadline: Int64
        var buffered: [UInt8] = []

        init(fd: Int32, deadline: Int64) {
            self.fd = fd
            self.deadline = deadline
        }

        func send(_ text: String) throws(X509SourceFailure) {
            let bytes = Array(text.utf8)
            let sent = bytes.withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            guard sent == bytes.count else { throw X509SourceFailure(description: "smtp: cannot send: \(String(cString: strerror(errno)))") }
        }

        mutating func expect(_ code: Int, after step: String) throws(X509SourceFailure) {
            let (got, text) = try reply()
            guard got == code else { throw X509SourceFailure(description: "smtp: \(got) \(text) (after \(step), \(code) expected)") }
        }

        /// One whole reply: its code and its text (the lines' texts joined by newlines).
        mutating func reply() throws(X509SourceFailure) -> (code: Int, text: String) {
            var lines: [String] = []
            while true {
                let line = try readLine()
                let bytes = Array(line.utf8)
                guard bytes.count >= 3, let code = Int(String(line.prefix(3))) else {
                    throw X509SourceFailure(description: "smtp: not a reply: \(line.prefix(80))")
                }
                lines.append(String(line.dropFirst(4)))
                if bytes.count == 3 || bytes[3] != UInt8(ascii: "-") { return (code, lines.joined(separator: "\n")) }
            }
        }

        mutating func readLine() throws(X509SourceFailure) -> String {
            while true {
                if let newline = buffered.firstIndex(of: UInt8(ascii: "\n")) {
                    var line = buffered[..<newline]
                    if line.last == UInt8(ascii: "\r") { line = line.dropLast() }
                    buffered.removeSubrange(...newline)
                    return String(decoding: line, as: UTF8.self)
                }
                guard buffered.count < 64 << 10 else { throw X509SourceFailure(description: "smtp: a reply line longer than 64 KiB") }
                let left = deadline - monotonic()
                guard left > 0 else { throw X509SourceFailure(description: "smtp: no reply in time") }
                var poller = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
                let ready = poll(&poller, 1, Int32(max(1, left / 1_000_000)))
                if ready == 0 { throw X509SourceFailure(description: "smtp: no reply in time") }
                if ready < 0 { if errno == EINTR { continue }; throw X509SourceFailure(description: "smtp: \(String(cString: strerror(errno)))") }
                // One byte at a time past what was asked is never read: a reply ends at its newline.
                var byte: UInt8 = 0
                let n = recv(fd, &byte, 1, 0)
                if n == 0 { throw X509SourceFailure(description: "smtp: the server closed the connection") }
                if n < 0 { if errno == EINTR || errno == EAGAIN { continue }; throw X509SourceFailure(description: "smtp: \(String(cString: strerror(errno)))") }
                buffered.append(byte)
            }
        }
    }
}
