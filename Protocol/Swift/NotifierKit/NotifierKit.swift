import Foundation
import PluginProtocol
import UDFProtocol
#if canImport(Glibc)
import Glibc
#endif

/// What one delivery came to.
public enum NotifierResult: Sendable, Hashable {
    case delivered
    /// Another attempt may succeed (the host retries with backoff), no sooner than `after` if given.
    case retry(String, after: Duration? = nil)
    /// The event can never be delivered: the host dead-letters it with this reason.
    case fail(String)
}

/// An option a notifier's handlers may set, declared in its handshake and checked by the host at define time.
public struct NotifierOption: Sendable {
    public var name: String
    public var type: Tock_Plugin_OptionType
    public var required: Bool
    public var description: String

    public init(_ name: String, _ type: Tock_Plugin_OptionType = .string, required: Bool = false, description: String = "") {
        self.name = name
        self.type = type
        self.required = required
        self.description = description
    }
}

/// A notifier plugin written in Swift: declare yourself, deliver events. ``run()`` speaks `Protocol/plugin.proto`
/// on stdin and stdout until the host closes stdin.
///
/// ```swift
/// struct Pager: Notifier {
///     let name = "pager", version = "1.0"
///     let options = [NotifierOption("url", required: true)]
///     func notify(_ event: Tock_Plugin_AlertEvent, options: [String: Tock_Plugin_OptionValue]) async -> NotifierResult {
///         …
///     }
/// }
/// try await Pager().run()
/// ```
public protocol Notifier: Sendable {
    var name: String { get }
    var version: String { get }
    var options: [NotifierOption] { get }
    /// Events handled at once.
    var maxInFlight: Int { get }
    func notify(_ event: Tock_Plugin_AlertEvent, options: [String: Tock_Plugin_OptionValue]) async -> NotifierResult
}

extension Notifier {
    public var maxInFlight: Int { 1 }

    /// Serves the host until stdin ends; events are handled concurrently up to ``maxInFlight``.
    public func run(input: Int32 = STDIN_FILENO, output: Int32 = STDOUT_FILENO) async throws {
        signal(SIGPIPE, SIG_IGN)
        let writer = FrameWriter(fd: output)
        let requests = FrameReader.requests(fd: input)
        try await withThrowingTaskGroup(of: Void.self) { group in
            var running = 0
            for try await request in requests {
                switch request.message {
                case .handshake:
                    try writer.write(.with {
                        $0.handshake = .with {
                            $0.protocolVersion = PluginProtocolVersion.current
                            $0.name = name
                            $0.version = version
                            $0.kind = .notifier
                            $0.maxInFlight = UInt32(max(1, maxInFlight))
                            $0.options = options.map { o in
                                .with {
                                    $0.name = o.name
                                    $0.type = o.type
                                    $0.required = o.required
                                    $0.description_p = o.description
                                }
                            }
                        }
                    })
                case .keepalive(let k):
                    try writer.write(.with { $0.keepalive = .with { $0.time = k.time } })
                case .notify(let n):
                    if running >= max(1, maxInFlight) {
                        try await group.next()
                        running -= 1
                    }
                    running += 1
                    group.addTask {
                        let result = await notify(n.event, options: n.options)
                        try writer.write(.with {
                            $0.notified = .with {
                                $0.deliveryID = n.deliveryID
                                switch result {
                                case .delivered: $0.outcome = .delivered
                                case .retry(let reason, let after):
                                    $0.outcome = .retryableFailure
                                    $0.reason = reason
                                    if let after {
                                        $0.retryAfter = after.components.seconds * 1_000_000_000 + after.components.attoseconds / 1_000_000_000
                                    }
                                case .fail(let reason):
                                    $0.outcome = .permanentFailure
                                    $0.reason = reason
                                }
                            }
                        })
                    }
                case .gather, nil:
                    break
                }
            }
            try await group.waitForAll()
        }
    }
}

/// A failure reading or writing the host's pipes.
public struct NotifierIOError: Error, CustomStringConvertible {
    public var description: String
}

final class FrameWriter: Sendable {
    let fd: Int32
    private let lock = NSLock()

    init(fd: Int32) { self.fd = fd }

    func write(_ response: Tock_Plugin_Response) throws {
        let bytes = FrameEncoder.frame(try response.serializedBytes() as [UInt8])
        try lock.withLock {
            var offset = 0
            while offset < bytes.count {
                let n = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress! + offset, bytes.count - offset) }
                if n < 0 {
                    if errno == EINTR { continue }
                    throw NotifierIOError(description: "writing to the host failed: \(String(cString: strerror(errno)))")
                }
                offset += n
            }
        }
    }
}

enum FrameReader {
    /// The host's requests, read on a thread of their own (blocking reads stay off the cooperative pool).
    static func requests(fd: Int32) -> AsyncThrowingStream<Tock_Plugin_Request, any Error> {
        AsyncThrowingStream { continuation in
            Thread {
                var decoder = FrameDecoder()
                var chunk = [UInt8](repeating: 0, count: 1 << 16)
                while true {
                    let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress!, $0.count) }
                    if n < 0 && errno == EINTR { continue }
                    if n <= 0 { break }
                    decoder.append(chunk[0..<n])
                    do {
                        while let frame = try decoder.nextFrame() {
                            continuation.yield(try Tock_Plugin_Request(serializedBytes: Array(frame)))
                        }
                    } catch {
                        continuation.finish(throwing: error)
                        return
                    }
                }
                continuation.finish()
            }.start()
        }
    }
}
