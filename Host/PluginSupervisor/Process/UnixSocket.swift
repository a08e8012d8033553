import Glibc

/// Dials Unix-domain stream sockets, retrying while the listener is not there yet.
package enum UnixSocket {
    /// Connects to `path`, retrying with exponential backoff (10 ms doubling to 1 s) for up to
    /// `timeout` nanoseconds while the socket file is missing or refuses connections, as Kapacitor does.
    package static func connect(path: String, timeout: UInt64) throws(ConnectError) -> Int32 {
        ignoreSIGPIPE
        let deadline = monotonicNanos() + timeout
        var pause: UInt64 = 10_000_000
        while true {
            let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
            guard fd >= 0 else { throw ConnectError(path: path, reason: errnoDescription(errno)) }
            var address = sockaddr_un()
            address.sun_family = sa_family_t(AF_UNIX)
            let bytes = Array(path.utf8)
            let capacity = MemoryLayout.size(ofValue: address.sun_path)
            guard bytes.count < capacity else {
                close(fd)
                throw ConnectError(path: path, reason: "path longer than \(capacity - 1) bytes")
            }
            withUnsafeMutableBytes(of: &address.sun_path) { raw in
                raw.copyBytes(from: bytes)
                raw[bytes.count] = 0
            }
            let rc = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
                }
            }
            if rc == 0 { return fd }
            let e = errno
            close(fd)
            let retryable = e == ENOENT || e == ECONNREFUSED || e == EAGAIN || e == EINTR
            let now = monotonicNanos()
            guard retryable, now < deadline else {
                throw ConnectError(path: path, reason: errnoDescription(e))
            }
            sleepNanos(min(pause, deadline - now))
            pause = min(pause * 2, 1_000_000_000)
        }
    }
}

/// A Unix socket that could not be reached.
public struct ConnectError: Error, Sendable, CustomStringConvertible {
    public var path: String
    public var reason: String
    public var description: String { "cannot connect to \(path): \(reason)" }
}
