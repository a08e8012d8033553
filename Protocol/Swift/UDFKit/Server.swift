import Foundation
import Synchronization
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Why a socket server could not start or stopped.
public struct UDFServerError: Error, Sendable, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }

    static func system(_ call: String, _ path: String, _ code: Int32 = errno) -> UDFServerError {
        UDFServerError("\(call) \(path): \(String(cString: strerror(code)))")
    }
}

/// A Unix-socket UDF server, like Kapacitor's `agent.Server`: Kapacitor connects once for Info and
/// once per task node, and each connection gets its own ``Agent`` and handler on its own thread.
///
/// ```swift
/// let server = try Server(path: "/tmp/mirror.sock") { Mirror() }
/// try server.serve()   // until stop()
/// ```
public final class Server<Handler: UDFHandler>: Sendable {
    /// The socket's path.
    public let path: String
    private let listener: Int32
    private let makeHandler: @Sendable () -> Handler
    private let stopped = Atomic<Bool>(false)

    /// Binds and listens on `path`. A leftover socket file that nobody listens on is replaced;
    /// a live one is an error ("address already in use").
    public init(path: String, makeHandler: @escaping @Sendable () -> Handler) throws(UDFServerError) {
        self.path = path
        self.makeHandler = makeHandler
        var address = try Self.address(path)
        if Self.isStale(&address) { unlink(path) }
        #if canImport(Glibc)
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        #else
        let fd = socket(AF_UNIX, SOCK_STREAM, 0)
        #endif
        guard fd >= 0 else { throw .system("socket", path) }
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
            }
        }
        if bound != 0 {
            let code = errno
            close(fd)
            throw .system("bind", path, code)
        }
        if listen(fd, 16) != 0 {
            let code = errno
            close(fd)
            unlink(path)
            throw .system("listen", path, code)
        }
        listener = fd
    }

    /// Accepts connections until ``stop()``, serving each on a new thread. Errors of one
    /// connection are written to standard error and end only that connection.
    public func serve() throws(UDFServerError) {
        signal(SIGPIPE, SIG_IGN)
        while true {
            let conn = accept(listener, nil, nil)
            if conn < 0 {
                if stopped.load(ordering: .acquiring) { return }
                if errno == EINTR || errno == ECONNABORTED { continue }
                throw .system("accept", path)
            }
            let makeHandler = self.makeHandler
            Thread.detachNewThread {
                var agent = Agent(handler: makeHandler(), input: conn, output: conn)
                do {
                    try agent.run()
                } catch {
                    FileHandle.standardError.write(Data("udf connection: \(error)\n".utf8))
                }
                close(conn)
            }
        }
    }

    /// Stops accepting connections and removes the socket file; connections already open go on.
    public func stop() {
        if stopped.exchange(true, ordering: .acquiringAndReleasing) { return }
        // Remove the file first: serve() returns as soon as the listener is shut down.
        unlink(path)
        shutdown(listener, Int32(SHUT_RDWR))
        close(listener)
    }

    private static func address(_ path: String) throws(UDFServerError) -> sockaddr_un {
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        let capacity = MemoryLayout.size(ofValue: address.sun_path)
        guard !bytes.isEmpty, bytes.count < capacity else {
            throw UDFServerError("socket path \(path) must be 1 to \(capacity - 1) bytes long")
        }
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            raw.copyBytes(from: bytes)
            raw[bytes.count] = 0
        }
        return address
    }

    /// Whether `address` is a socket file nobody accepts connections on.
    private static func isStale(_ address: inout sockaddr_un) -> Bool {
        var info = stat()
        let isSocket = withUnsafePointer(to: &address.sun_path) {
            $0.withMemoryRebound(to: CChar.self, capacity: 1) { stat($0, &info) == 0 }
        } && (info.st_mode & S_IFMT) == S_IFSOCK
        guard isSocket else { return false }
        #if canImport(Glibc)
        let probe = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        #else
        let probe = socket(AF_UNIX, SOCK_STREAM, 0)
        #endif
        guard probe >= 0 else { return false }
        defer { close(probe) }
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(probe, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
            }
        }
        return result != 0 && errno == ECONNREFUSED
    }
}
