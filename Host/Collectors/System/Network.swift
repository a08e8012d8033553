#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import TockModel

/// Telegraf's `net` input: per interface (`interface=eth0`) the counters of `/proc/net/dev`, skipping loopback and
/// interfaces that are down unless `interfaces` names them; and the protocol counters of `/proc/net/snmp` as one
/// point tagged `interface=all` (`tcp_activeopens`, `udp_indatagrams`, …) unless `ignore_protocol_stats`.
public struct NetCollector: Collector {
    public static let name = "net"
    public static let summary = "per interface: bytes_sent, bytes_recv, packets_*, err_*, drop_*; protocol counters"

    let interfaces: [String]
    let ignoreProtocolStats: Bool

    public init(options: CollectorOptions) throws(CollectorError) {
        var o = options
        interfaces = try o.strings("interfaces", default: [])
        ignoreProtocolStats = try o.bool("ignore_protocol_stats", default: false)
        try o.finish()
    }

    /// `IFF_UP` and `IFF_LOOPBACK` of `/sys/class/net/<if>/flags`.
    static let up = 0x1, loopback = 0x8

    public mutating func gather(_ context: GatherContext) throws(CollectorError) -> [Point] {
        let host = context.host
        var points: [Point] = []
        for line in try host.text(host.proc + "/net/dev").split(separator: "\n") {
            let parts = line.split(separator: ":", maxSplits: 1)
            guard parts.count == 2 else { continue }
            let name = parts[0].trimmingSpaces
            let n = parts[1].words.map { Int64($0) ?? 0 }
            guard n.count >= 16 else { continue }
            if !interfaces.isEmpty {
                guard interfaces.contains(where: { Glob.matches($0, name) }) else { continue }
            } else {
                guard let text = try? host.text(host.sys + "/class/net/\(name)/flags"),
                      let flags = Int(text.trimmingCharacters(in: " \n").replacingHexPrefix, radix: 16),
                      flags & Self.loopback == 0, flags & Self.up != 0 else { continue }
            }
            points.append(Point(name: "net", tags: ["interface": name], fields: Fields([
                ("bytes_recv", .int(n[0])), ("packets_recv", .int(n[1])), ("err_in", .int(n[2])), ("drop_in", .int(n[3])),
                ("bytes_sent", .int(n[8])), ("packets_sent", .int(n[9])), ("err_out", .int(n[10])), ("drop_out", .int(n[11])),
            ]), time: context.time))
        }
        if !ignoreProtocolStats {
            if let snmp = try? host.text(host.proc + "/net/snmp") {
                let fields = Self.protocolCounters(snmp)
                if !fields.isEmpty {
                    points.append(Point(name: "net", tags: ["interface": "all"], fields: Fields(fields), time: context.time))
                }
            } else {
                context.logger.debug("net: cannot read \(host.proc)/net/snmp; no protocol counters")
            }
        }
        return points
    }

    /// `/proc/net/snmp`'s pairs of lines (`Tcp: ActiveOpens …` then `Tcp: 12 …`) as `tcp_activeopens` fields.
    static func protocolCounters(_ text: String) -> [(String, FieldValue)] {
        var fields: [(String, FieldValue)] = []
        let lines = text.split(separator: "\n")
        var i = 0
        while i + 1 < lines.count {
            let names = lines[i].words, values = lines[i + 1].words
            guard names.count == values.count, let proto = names.first, proto == values.first, proto.hasSuffix(":") else {
                i += 1
                continue
            }
            let prefix = proto.dropLast().lowercased()
            for (name, value) in zip(names.dropFirst(), values.dropFirst()) {
                if let v = Int64(value) { fields.append(("\(prefix)_\(name.lowercased())", .int(v))) }
            }
            i += 2
        }
        return fields
    }
}

/// Telegraf's `netstat` input: TCP connections by state and UDP sockets. On the running host (`/proc` not moved by
/// `HOST_PROC`) it asks the kernel through `sock_diag` netlink, which costs it half of formatting
/// `/proc/net/{tcp,tcp6,udp,udp6}`, and takes the UDP count from `/proc/net/sockstat{,6}` (`UDP: inuse N`, the
/// sockets in the kernel's UDP table, which a dump would walk slot by slot to list); it reads the listings when
/// netlink or the counters are refused, and under a moved `/proc`.
public struct NetstatCollector: Collector {
    public static let name = "netstat"
    public static let summary = "tcp_established, tcp_listen, tcp_time_wait, … and udp_socket"

    /// Whether to ask the kernel over netlink; false reads `/proc/net` (a fixture tree's, in tests).
    var useNetlink: Bool?

    public init(options: CollectorOptions) throws(CollectorError) {
        try options.finish()
    }

    /// The kernel's TCP states (`include/net/tcp_states.h`), by the hex code `/proc/net/tcp` shows.
    static let states: [String: String] = [
        "01": "tcp_established", "02": "tcp_syn_sent", "03": "tcp_syn_recv", "04": "tcp_fin_wait1",
        "05": "tcp_fin_wait2", "06": "tcp_time_wait", "07": "tcp_close", "08": "tcp_close_wait",
        "09": "tcp_last_ack", "0A": "tcp_listen", "0B": "tcp_closing",
    ]
    /// The field of each state code (1–11); other codes count as `tcp_none`.
    static let fieldByCode: [String] = ["tcp_none"] + (1...11).map { states[String(format2hex: $0)]! }

    public mutating func gather(_ context: GatherContext) throws(CollectorError) -> [Point] {
        let host = context.host
        var tcp = [Int](repeating: 0, count: 16)
        var udp = 0
        var readAny = false
        let netlink = useNetlink ?? (host.proc == "/proc")
        if netlink, let counts = SockDiag.tcpCountByState() {
            readAny = true
            tcp = counts
        } else {
            try gatherTCPPerFamily(host, netlink: netlink, into: &tcp, readAny: &readAny)
        }
        for (family, file, statFile, protocolName) in [(UInt8(AF_INET), "udp", "sockstat", "UDP"),
                                                       (UInt8(AF_INET6), "udp6", "sockstat6", "UDP6")] {
            if netlink, let bytes = host.bytes(host.proc + "/net/" + statFile), let inUse = Self.inUse(bytes, protocolName) {
                readAny = true
                udp += inUse
                continue
            }
            if netlink, let counts = SockDiag.countByState(family: family, protocol: UInt8(IPPROTO_UDP)) {
                readAny = true
                udp += counts.reduce(0, +)
                continue
            }
            guard let bytes = host.bytes(host.proc + "/net/" + file) else { continue }
            readAny = true
            udp += max(0, bytes.split(separator: UInt8(ascii: "\n")).count - 1)
        }
        guard readAny else { throw CollectorError(Self.name, "cannot read \(host.proc)/net/tcp or udp") }
        var counts: [String: Int64] = ["udp_socket": Int64(udp)]
        for name in Self.fieldByCode { counts[name] = 0 }
        for (code, count) in tcp.enumerated() where count > 0 {
            counts[code < Self.fieldByCode.count ? Self.fieldByCode[code] : "tcp_none", default: 0] += Int64(count)
        }
        return [Point(name: "netstat", fields: Fields(counts.mapValues { FieldValue.int($0) }), time: context.time)]
    }

    /// The `inuse` count of `name`'s line (`UDP: inuse 3 mem 1`) in a `/proc/net/sockstat` file.
    static func inUse(_ bytes: [UInt8], _ name: String) -> Int? {
        let prefix = Array((name + ": inuse ").utf8)
        var lineStart = 0
        while lineStart < bytes.count {
            var lineEnd = lineStart
            while lineEnd < bytes.count && bytes[lineEnd] != UInt8(ascii: "\n") { lineEnd += 1 }
            if lineEnd - lineStart > prefix.count, bytes[lineStart..<lineStart + prefix.count].elementsEqual(prefix) {
                var value = 0
                var index = lineStart + prefix.count
                while index < lineEnd, bytes[index] >= UInt8(ascii: "0"), bytes[index] <= UInt8(ascii: "9") {
                    value = value * 10 + Int(bytes[index] - UInt8(ascii: "0"))
                    index += 1
                }
                return index > lineStart + prefix.count ? value : nil
            }
            lineStart = lineEnd + 1
        }
        return nil
    }

    /// TCP sockets per state, asked per family (a kernel without the older one-walk request) or read from
    /// `/proc/net/tcp{,6}`.
    private func gatherTCPPerFamily(_ host: HostFS, netlink: Bool, into tcp: inout [Int], readAny: inout Bool) {
        for (family, file) in [(UInt8(AF_INET), "tcp"), (UInt8(AF_INET6), "tcp6")] {
            if netlink, let counts = SockDiag.countByState(family: family, protocol: UInt8(IPPROTO_TCP)) {
                readAny = true
                for i in counts.indices { tcp[i] += counts[i] }
                continue
            }
            guard let bytes = host.bytes(host.proc + "/net/" + file) else { continue }
            readAny = true
            Self.countStates(bytes, into: &tcp)
        }
    }

    /// Adds the `st` column (the 4th, hex) of each line of a `/proc/net/tcp` listing but the header to `counts`;
    /// a code past 11 counts at index 0 (`tcp_none`).
    static func countStates(_ bytes: [UInt8], into counts: inout [Int]) {
        var index = 0
        // The header line.
        while index < bytes.count && bytes[index] != UInt8(ascii: "\n") { index += 1 }
        while index < bytes.count {
            index += 1
            var word = 0
            var code = -1
            var inWord = false
            while index < bytes.count && bytes[index] != UInt8(ascii: "\n") {
                let byte = bytes[index]
                if byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\t") {
                    inWord = false
                } else {
                    if !inWord { inWord = true; word += 1; if word == 4 { code = 0 } }
                    if word == 4, let digit = hexDigit(byte) { code = code * 16 + digit }
                }
                index += 1
            }
            if word >= 4 { counts[code >= 0 && code < 12 ? code : 0] += 1 }
        }
    }

    static func hexDigit(_ byte: UInt8) -> Int? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): Int(byte - UInt8(ascii: "0"))
        case UInt8(ascii: "a")...UInt8(ascii: "f"): Int(byte - UInt8(ascii: "a")) + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): Int(byte - UInt8(ascii: "A")) + 10
        default: nil
        }
    }
}

extension String {
    /// `01` … `0A`: a state code as `/proc/net/tcp` writes it.
    init(format2hex value: Int) {
        let digits = Array("0123456789ABCDEF")
        self = String([digits[value / 16], digits[value % 16]])
    }
}

extension String {
    var replacingHexPrefix: String { hasPrefix("0x") ? String(dropFirst(2)) : self }

    func trimmingCharacters(in set: String) -> String {
        let chars = Set(set)
        return String(drop { chars.contains($0) }.reversed().drop { chars.contains($0) }.reversed())
    }
}
