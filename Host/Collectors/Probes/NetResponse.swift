#if canImport(Glibc)
import Glibc
#endif
import TockModel

/// Telegraf's `net_response` input: connects to `address` over TCP (optionally sends `send` and reads one line for
/// `expect`, a regular expression) or sends `send` over UDP and waits for an answer matching `expect`. One
/// `net_response` point: `result_code` (0 success, 1 timeout, 2 connection_failed, 3 read_failed, 4 string_mismatch),
/// `result_type`, `string_found` (with `expect`) and `response_time` (seconds, when it got that far), tagged `server`,
/// `port`, `protocol` and `result`.
public struct NetResponseCollector: Collector {
    public static let name = "net_response"
    public static let summary = "TCP or UDP probe: result_code, result_type, response_time (seconds), string_found"

    enum Result: Int64 {
        case success = 0, timeout, connectionFailed, readFailed, stringMismatch

        var tag: String {
            switch self {
            case .success: "success"
            case .timeout: "timeout"
            case .connectionFailed: "connection_failed"
            case .readFailed: "read_failed"
            case .stringMismatch: "string_mismatch"
            }
        }
    }

    let host: String
    let port: String
    let udp: Bool
    let timeout: Int64
    let readTimeout: Int64
    let send: String
    let expect: String

    public init(options: CollectorOptions) throws(CollectorError) {
        var o = options
        let address = try o.string("address", default: "")
        guard let colon = address.lastIndex(of: ":") else {
            throw CollectorError(Self.name, "address \"\(address)\" must be host:port")
        }
        var host = String(address[..<colon])
        if host.hasPrefix("[") && host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        port = String(address[address.index(after: colon)...])
        guard UInt16(port) != nil else { throw CollectorError(Self.name, "bad port in address \"\(address)\"") }
        self.host = host.isEmpty ? "localhost" : host
        let proto = try o.string("protocol", default: "tcp")
        guard proto == "tcp" || proto == "udp" else { throw CollectorError(Self.name, "protocol must be tcp or udp, not \"\(proto)\"") }
        udp = proto == "udp"
        func duration(_ key: String) throws(CollectorError) -> Int64 {
            let ns = try o.duration(key, default: GoDuration.second)
            guard ns > 0 else { throw CollectorError(Self.name, "\(key) must be more than 0") }
            return ns
        }
        timeout = try duration("timeout")
        readTimeout = try duration("read_timeout")
        send = try o.string("send", default: "")
        expect = try o.string("expect", default: "")
        if udp && (send.isEmpty || expect.isEmpty) {
            throw CollectorError(Self.name, "a udp probe needs both send and expect")
        }
        if !expect.isEmpty {
            do { _ = try Regex(expect) } catch { throw CollectorError(Self.name, "expect \"\(expect)\" is not a regular expression") }
        }
        try o.finish()
    }

    /// `timeout` is the connect's limit, as in Telegraf.
    public static var ownsTimeoutOption: Bool { true }

    /// The connect, then the read of the first line.
    public var gatherBound: Duration? { .nanoseconds(timeout + readTimeout) }

    public mutating func gather(_ context: GatherContext) throws(CollectorError) -> [Point] {
        let started = monotonic()
        var result: Result
        var elapsed: Double?
        if let fd = Self.connect(host: host, port: port, udp: udp, timeout: timeout) {
            defer { close(fd) }
            elapsed = seconds(since: started)
            if !send.isEmpty {
                _ = Array(send.utf8).withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
                elapsed = seconds(since: started)
            }
            if expect.isEmpty {
                result = .success
            } else if let line = Self.readLine(fd, timeout: readTimeout, datagram: udp) {
                elapsed = seconds(since: started)
                let regex = try? Regex(expect)
                result = regex.flatMap { try? $0.firstMatch(in: line) } != nil ? .success : .stringMismatch
            } else {
                result = .readFailed
                if udp { elapsed = nil }
            }
        } else {
            result = errno == ETIMEDOUT ? .timeout : .connectionFailed
        }
        var fields: [(String, FieldValue)] = [("result_code", .int(result.rawValue)), ("result_type", .string(result.tag))]
        if !expect.isEmpty { fields.append(("string_found", .bool(result == .success))) }
        if let elapsed, result != .timeout, result != .connectionFailed { fields.append(("response_time", .double(elapsed))) }
        let tags = Tags(["server": host, "port": port, "protocol": udp ? "udp" : "tcp", "result": result.tag])
        return [Point(name: "net_response", tags: tags, fields: Fields(fields), time: context.time)]
    }

    /// A connected socket, or `nil` with `errno` set (`ETIMEDOUT` when the connect took longer than `timeout`).
    static func connect(host: String, port: String, udp: Bool, timeout: Int64) -> Int32? {
        var hints = addrinfo()
        hints.ai_socktype = Int32(udp ? SOCK_DGRAM.rawValue : SOCK_STREAM.rawValue)
        var list: UnsafeMutablePointer<addrinfo>?
        guard getaddrinfo(host, port, &hints, &list) == 0, let first = list else { errno = EHOSTUNREACH; return nil }
        defer { freeaddrinfo(list) }
        var lastError = ECONNREFUSED
        var entry: UnsafeMutablePointer<addrinfo>? = first
        while let ai = entry {
            entry = ai.pointee.ai_next
            let fd = socket(ai.pointee.ai_family, ai.pointee.ai_socktype | Int32(SOCK_CLOEXEC.rawValue), ai.pointee.ai_protocol)
            guard fd >= 0 else { lastError = errno; continue }
            let flags = fcntl(fd, F_GETFL)
            _ = fcntl(fd, F_SETFL, flags | O_NONBLOCK)
            if Glibc.connect(fd, ai.pointee.ai_addr, ai.pointee.ai_addrlen) == 0 || errno == EINPROGRESS {
                var poller = pollfd(fd: fd, events: Int16(POLLOUT), revents: 0)
                let ready = poll(&poller, 1, Int32(max(1, timeout / 1_000_000)))
                if ready == 1 {
                    var error: Int32 = 0
                    var length = socklen_t(MemoryLayout<Int32>.size)
                    getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &length)
                    if error == 0 {
                        _ = fcntl(fd, F_SETFL, flags)
                        return fd
                    }
                    lastError = error
                } else {
                    lastError = ready == 0 ? ETIMEDOUT : errno
                }
            } else {
                lastError = errno
            }
            close(fd)
        }
        errno = lastError
        return nil
    }

    /// The first line the peer sends (a datagram's text for UDP), within `timeout`.
    static func readLine(_ fd: Int32, timeout: Int64, datagram: Bool) -> String? {
        var received: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        let deadline = monotonic() + timeout
        while true {
            let left = deadline - monotonic()
            guard left > 0 else { return nil }
            var poller = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            guard poll(&poller, 1, Int32(max(1, left / 1_000_000))) == 1 else { return nil }
            let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n <= 0 { return received.isEmpty ? nil : String(decoding: received, as: UTF8.self) }
            received += buffer[0..<n]
            if datagram { return String(decoding: received, as: UTF8.self) }
            if let newline = received.firstIndex(of: UInt8(ascii: "\n")) {
                var line = received[..<newline]
                if line.last == UInt8(ascii: "\r") { line = line.dropLast() }
                return String(decoding: line, as: UTF8.self)
            }
            if received.count > 1 << 20 { return String(decoding: received, as: UTF8.self) }
        }
    }
}

func monotonic() -> Int64 {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return Int64(ts.tv_sec) * 1_000_000_000 + Int64(ts.tv_nsec)
}

func seconds(since start: Int64) -> Double { Double(monotonic() - start) / 1e9 }
