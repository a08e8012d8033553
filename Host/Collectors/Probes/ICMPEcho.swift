#if canImport(Glibc)
import Glibc
#endif

/// ICMP echo ("ping") over a socket of this process: an unprivileged datagram ICMP socket when
/// `net.ipv4.ping_group_range` covers the process' group, else a raw socket when the process may open one
/// (root, or `CAP_NET_RAW`). Sends `count` echo requests `interval` apart and collects the replies until all came
/// back or `deadline` passed, as Telegraf's native method (pro-bing) does.
enum ICMPEcho {
    /// What one run measured.
    struct Statistics: Sendable, Equatable {
        var sent = 0
        var received = 0
        /// The TTL (hop limit for IPv6) of the first reply.
        var ttl: Int?
        /// Round-trip times in milliseconds, in the order the replies came.
        var rtts: [Double] = []
    }

    enum Failure: Error, Equatable {
        /// Neither kind of ICMP socket may be opened by this process (EPERM/EACCES).
        case notPermitted(String)
        case failed(String)
    }

    /// The protocol numbers and socket options, spelled out: Glibc's Swift overlay imports some as enums, some not.
    static let ipprotoIP: Int32 = 0, ipprotoICMP: Int32 = 1, ipprotoIPv6: Int32 = 41, ipprotoICMPv6: Int32 = 58
    static let ipRecvTTL: Int32 = 12, ipTTL: Int32 = 2, ipv6RecvHopLimit: Int32 = 51, ipv6HopLimit: Int32 = 52

    /// Opens an ICMP socket for `family`: datagram first, raw next. `denyAll` makes both refuse (for tests of the
    /// fallback).
    static func open(family: Int32, denyAll: Bool = false) -> Result<(fd: Int32, raw: Bool), Failure> {
        if denyAll { return .failure(.notPermitted("opening ICMP sockets is forbidden (test)")) }
        let proto = family == AF_INET6 ? ipprotoICMPv6 : ipprotoICMP
        var errors: [String] = []
        var permitted = false
        for raw in [false, true] {
            let type = Int32(raw ? SOCK_RAW.rawValue : SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue)
            let fd = socket(family, type, proto)
            if fd >= 0 { return .success((fd, raw)) }
            let error = errno
            if error != EPERM && error != EACCES { permitted = true }
            errors.append("\(raw ? "raw" : "datagram") ICMP socket: \(String(cString: strerror(error)))")
        }
        let text = errors.joined(separator: "; ")
        return .failure(permitted ? .failed(text) : .notPermitted(text))
    }

    /// Pings `address` (`length` bytes of a `sockaddr_in`/`sockaddr_in6`).
    static func run(address: sockaddr_storage, length: socklen_t, count: Int, interval: Int64, deadline: Int64,
                    size: Int, interface: String, denyAll: Bool = false) -> Result<Statistics, Failure> {
        let family = Int32(address.ss_family)
        let v6 = family == AF_INET6
        let opened = open(family: family, denyAll: denyAll)
        guard case .success(let (fd, raw)) = opened else {
            if case .failure(let failure) = opened { return .failure(failure) }
            return .failure(.failed("no socket"))
        }
        defer { close(fd) }
        var one: Int32 = 1
        if v6 {
            setsockopt(fd, ipprotoIPv6, ipv6RecvHopLimit, &one, socklen_t(MemoryLayout<Int32>.size))
        } else if !raw {
            setsockopt(fd, ipprotoIP, ipRecvTTL, &one, socklen_t(MemoryLayout<Int32>.size))
        }
        if !interface.isEmpty, let failure = bind(fd, interface: interface, family: family) { return .failure(failure) }
        _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)

        // A datagram socket's identifier is set by the kernel (its "port"); a raw socket's is ours to choose.
        let id = UInt16.random(in: 1...UInt16.max)
        var stats = Statistics()
        var sentAt: [UInt16: Int64] = [:]
        let start = monotonic()
        let end = start + deadline
        var nextSend = start
        var address = address
        var lastError = ""
        var attempts = 0
        while true {
            let now = monotonic()
            if now >= end { break }
            if attempts < count && now >= nextSend {
                let seq = UInt16(truncatingIfNeeded: attempts)
                let packet = echoRequest(v6: v6, id: id, seq: seq, size: size)
                let sent = withUnsafePointer(to: &address) { p in
                    p.withMemoryRebound(to: sockaddr.self, capacity: 1) { to in
                        packet.withUnsafeBytes { sendto(fd, $0.baseAddress, $0.count, 0, to, length) }
                    }
                }
                // pro-bing counts only what went out; an unsendable packet still uses its turn.
                if sent == packet.count {
                    sentAt[seq] = monotonic()
                    stats.sent += 1
                } else {
                    lastError = "cannot send: \(String(cString: strerror(errno)))"
                }
                attempts += 1
                nextSend += interval
            }
            // Every request went out and every one that did was answered.
            if attempts == count && sentAt.isEmpty { break }
            let wakeUp = attempts < count ? min(nextSend, end) : end
            var poller = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            let wait = max(0, (wakeUp - monotonic()) / 1_000_000)
            let ready = poll(&poller, 1, Int32(min(wait, Int64(Int32.max))))
            guard ready > 0 else { continue }
            while let received = receive(fd) {
                let (bytes, hopLimit) = received
                let arrived = monotonic()
                guard let reply = parseReply(bytes, v6: v6, raw: raw) else { continue }
                guard reply.isEchoReply, !raw || reply.id == id, let sent = sentAt.removeValue(forKey: reply.seq) else { continue }
                stats.received += 1
                stats.rtts.append(Double(arrived - sent) / 1e6)
                if stats.ttl == nil { stats.ttl = reply.ttl ?? hopLimit }
            }
        }
        if stats.sent == 0 && !lastError.isEmpty { return .failure(.failed(lastError)) }
        return .success(stats)
    }

    /// Sends from `interface`: an address to bind to, or a device's name (SO_BINDTODEVICE).
    static func bind(_ fd: Int32, interface: String, family: Int32) -> Failure? {
        var source = sockaddr_storage()
        var length: socklen_t = 0
        if family == AF_INET6 {
            var sin6 = sockaddr_in6()
            if inet_pton(AF_INET6, interface, &sin6.sin6_addr) == 1 {
                sin6.sin6_family = sa_family_t(AF_INET6)
                withUnsafeMutableBytes(of: &source) { dst in withUnsafeBytes(of: sin6) { dst.copyMemory(from: $0) } }
                length = socklen_t(MemoryLayout<sockaddr_in6>.size)
            }
        } else {
            var sin = sockaddr_in()
            if inet_pton(AF_INET, interface, &sin.sin_addr) == 1 {
                sin.sin_family = sa_family_t(AF_INET)
                withUnsafeMutableBytes(of: &source) { dst in withUnsafeBytes(of: sin) { dst.copyMemory(from: $0) } }
                length = socklen_t(MemoryLayout<sockaddr_in>.size)
            }
        }
        if length > 0 {
            let rc = withUnsafePointer(to: &source) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.bind(fd, $0, length) } }
            return rc == 0 ? nil : .failed("cannot send from \(interface): \(String(cString: strerror(errno)))")
        }
        let rc = Array(interface.utf8CString).withUnsafeBytes {
            setsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, $0.baseAddress, socklen_t($0.count))
        }
        return rc == 0 ? nil : .failed("cannot send through interface \(interface): \(String(cString: strerror(errno)))")
    }

    /// An echo request: type 8 (ICMPv6: 128), code 0, checksum, identifier, sequence number, `size` bytes of data.
    /// The kernel computes an ICMPv6 checksum itself.
    static func echoRequest(v6: Bool, id: UInt16, seq: UInt16, size: Int) -> [UInt8] {
        var packet: [UInt8] = [v6 ? 128 : 8, 0, 0, 0, UInt8(id >> 8), UInt8(id & 0xff), UInt8(seq >> 8), UInt8(seq & 0xff)]
        packet += (0..<max(0, size)).map { UInt8(truncatingIfNeeded: $0) }
        if !v6 {
            let sum = checksum(packet)
            packet[2] = UInt8(sum >> 8)
            packet[3] = UInt8(sum & 0xff)
        }
        return packet
    }

    /// The Internet checksum (RFC 1071).
    static func checksum(_ bytes: [UInt8]) -> UInt16 {
        var sum: UInt32 = 0
        var i = 0
        while i + 1 < bytes.count {
            sum += UInt32(bytes[i]) << 8 | UInt32(bytes[i + 1])
            i += 2
        }
        if i < bytes.count { sum += UInt32(bytes[i]) << 8 }
        while sum >> 16 != 0 { sum = (sum & 0xffff) + (sum >> 16) }
        return ~UInt16(sum)
    }

    struct Reply: Equatable {
        var isEchoReply: Bool
        var id: UInt16
        var seq: UInt16
        var ttl: Int?
    }

    /// The ICMP message in what a socket received: a raw IPv4 socket gives the IP header too (and the TTL in it).
    static func parseReply(_ bytes: [UInt8], v6: Bool, raw: Bool) -> Reply? {
        var icmp = bytes[...]
        var ttl: Int?
        if raw && !v6 {
            guard let first = bytes.first, first >> 4 == 4 else { return nil }
            let headerLength = Int(first & 0x0f) * 4
            guard bytes.count >= headerLength + 8, headerLength >= 20 else { return nil }
            ttl = Int(bytes[8])
            icmp = bytes[headerLength...]
        }
        guard icmp.count >= 8 else { return nil }
        let b = Array(icmp)
        return Reply(isEchoReply: b[0] == (v6 ? 129 : 0) && b[1] == 0, id: UInt16(b[4]) << 8 | UInt16(b[5]),
                     seq: UInt16(b[6]) << 8 | UInt16(b[7]), ttl: ttl)
    }

    /// One waiting message, without blocking, with the TTL or hop limit its control messages carry.
    static func receive(_ fd: Int32) -> ([UInt8], Int?)? {
        var buffer = [UInt8](repeating: 0, count: 65_536)
        var control = [UInt8](repeating: 0, count: 512)
        var from = sockaddr_storage()
        var controlLength = 0
        let n = buffer.withUnsafeMutableBytes { data in
            control.withUnsafeMutableBytes { ctl in
                withUnsafeMutablePointer(to: &from) { fromPointer in
                    var iov = iovec(iov_base: data.baseAddress, iov_len: data.count)
                    return withUnsafeMutablePointer(to: &iov) { iovPointer in
                        var message = msghdr()
                        message.msg_name = UnsafeMutableRawPointer(fromPointer)
                        message.msg_namelen = socklen_t(MemoryLayout<sockaddr_storage>.size)
                        message.msg_iov = iovPointer
                        message.msg_iovlen = 1
                        message.msg_control = ctl.baseAddress
                        message.msg_controllen = ctl.count
                        let n = recvmsg(fd, &message, Int32(MSG_DONTWAIT))
                        controlLength = Int(message.msg_controllen)
                        return n
                    }
                }
            }
        }
        guard n >= 0 else { return nil }
        return (Array(buffer[0..<n]), hopLimit(control, length: min(controlLength, control.count)))
    }

    /// The IP_TTL or IPV6_HOPLIMIT control message's value (a `cmsghdr` is a size_t length and two Int32s, its data
    /// aligned to 8 bytes on 64-bit Linux).
    static func hopLimit(_ control: [UInt8], length: Int) -> Int? {
        let header = MemoryLayout<Int>.size + 8
        var offset = 0
        while offset + header <= length {
            let cmsgLength = control.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: offset, as: Int.self) }
            let level = control.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: offset + MemoryLayout<Int>.size, as: Int32.self) }
            let type = control.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: offset + MemoryLayout<Int>.size + 4, as: Int32.self) }
            guard cmsgLength >= header, offset + cmsgLength <= length else { return nil }
            if cmsgLength >= header + 4 && ((level == ipprotoIP && type == ipTTL) || (level == ipprotoIPv6 && type == ipv6HopLimit)) {
                return Int(control.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: offset + header, as: Int32.self) })
            }
            offset += (cmsgLength + 7) & ~7
        }
        return nil
    }
}
