import Foundation
import Hummingbird
import Logging
import Synchronization

/// A loopback HTTP server for the config tests: records every request's path and body and answers each with
/// the status and body it was given.
final class LoopbackReceiver: Sendable {
    struct Request: Sendable {
        var path: String
        var body: String
    }

    private let recorded = Mutex<[Request]>([])
    let status: HTTPResponse.Status
    let answer: String

    init(status: HTTPResponse.Status = .ok, answer: String = "ok") {
        self.status = status
        self.answer = answer
    }

    var requests: [Request] { recorded.withLock { $0 } }

    /// Serves on 127.0.0.1 at a free port while `body` runs with the receiver's base URL.
    func serve(_ body: @Sendable (String) async throws -> Void) async throws {
        let router = Router()
        router.post("**") { [self] request, _ in
            var request = request
            let bytes = try await request.collectBody(upTo: 1 << 20)
            recorded.withLock { $0.append(Request(path: request.uri.path, body: String(buffer: bytes))) }
            return Response(status: status, body: .init(byteBuffer: ByteBuffer(string: answer)))
        }
        let (ports, continuation) = AsyncStream<Int>.makeStream()
        var logger = Logger(label: "loopback-receiver")
        logger.logLevel = .critical
        let app = Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)),
                              onServerRunning: { continuation.yield($0.localAddress?.port ?? 0) }, logger: logger)
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await app.run() }
            var iterator = ports.makeAsyncIterator()
            guard let port = await iterator.next() else { return }
            try await body("http://127.0.0.1:\(port)")
            group.cancelAll()
        }
    }

    /// Waits until `count` requests arrived; throws after `limit` (a guard against a hang, not a measure of speed).
    func waitForRequests(_ count: Int, limit: Duration = .seconds(20)) async throws -> [Request] {
        let clock = ContinuousClock()
        let deadline = clock.now + limit
        while clock.now < deadline {
            let now = requests
            if now.count >= count { return now }
            try await Task.sleep(for: .milliseconds(10))
        }
        throw CancellationError()
    }
}

/// A closed loopback port: nothing listens there.
func closedPort() throws -> Int {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    defer { close(fd) }
    var addr = sockaddr_in()
    addr.sin_family = sa_family_t(AF_INET)
    addr.sin_addr.s_addr = inet_addr("127.0.0.1")
    addr.sin_port = 0
    var len = socklen_t(MemoryLayout<sockaddr_in>.size)
    _ = withUnsafeMutablePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, len) } }
    _ = withUnsafeMutablePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &len) } }
    return Int(UInt16(bigEndian: addr.sin_port))
}
