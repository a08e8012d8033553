import Foundation

/// `.tcp('host:port')`: a new TCP connection per event, the JSON line written, the connection closed.
struct TCPHandler: AlertHandler {
    let address: String

    var name: String { "tcp \(address)" }

    /// Splits `host:port` (or `[v6]:port`); `nil` when there is no port.
    static func split(_ address: String) -> (host: String, port: String)? {
        guard let colon = address.lastIndex(of: ":") else { return nil }
        var host = String(address[..<colon])
        let port = String(address[address.index(after: colon)...])
        if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        guard !port.isEmpty else { return nil }
        return (host.isEmpty ? "localhost" : host, port)
    }

    func deliver(_ body: [UInt8]) throws {
        guard let (host, port) = Self.split(address) else {
            throw AlertHandlerError("invalid address \(address): want host:port")
        }
        let fd = try Self.connect(host: host, port: port)
        defer { close(fd) }
        try writeAll(fd, body, what: address, socket: true)
    }

    /// Connects to the first address of `host` that accepts.
    static func connect(host: String, port: String) throws -> Int32 {
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        #if canImport(Glibc)
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        #else
        hints.ai_socktype = SOCK_STREAM
        #endif
        var list: UnsafeMutablePointer<addrinfo>? = nil
        let rc = getaddrinfo(host, port, &hints, &list)
        guard rc == 0, let first = list else {
            throw AlertHandlerError("cannot resolve \(host):\(port): \(String(cString: gai_strerror(rc)))")
        }
        defer { freeaddrinfo(first) }
        var lastError = "no address"
        var ai: UnsafeMutablePointer<addrinfo>? = first
        while let a = ai {
            let fd = socket(a.pointee.ai_family, a.pointee.ai_socktype, a.pointee.ai_protocol)
            if fd >= 0 {
                if let error = connect(fd, a.pointee.ai_addr, a.pointee.ai_addrlen) {
                    lastError = error
                    close(fd)
                } else {
                    return fd
                }
            }
            ai = a.pointee.ai_next
        }
        throw AlertHandlerError("cannot connect to \(host):\(port): \(lastError)")
    }

    /// How long connecting and each write may take before the event is given up.
    static let timeoutSeconds = 10

    /// Connects within ``timeoutSeconds`` and bounds later writes the same way; the error text, or `nil`.
    private static func connect(_ fd: Int32, _ address: UnsafeMutablePointer<sockaddr>, _ length: socklen_t) -> String? {
        let flags = fcntl(fd, F_GETFL)
        _ = fcntl(fd, F_SETFL, flags | O_NONBLOCK)
        if Foundation.connect(fd, address, length) != 0 {
            guard errno == EINPROGRESS else { return String(cString: strerror(errno)) }
            var p = pollfd(fd: fd, events: Int16(POLLOUT), revents: 0)
            let ready = poll(&p, 1, Int32(timeoutSeconds * 1000))
            if ready == 0 { return "timed out after \(timeoutSeconds)s" }
            var err: Int32 = 0
            var len = socklen_t(MemoryLayout<Int32>.size)
            getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len)
            if ready < 0 || err != 0 { return String(cString: strerror(ready < 0 ? errno : err)) }
        }
        _ = fcntl(fd, F_SETFL, flags)
        var tv = timeval(tv_sec: timeoutSeconds, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        return nil
    }
}
