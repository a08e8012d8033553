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
                context.log(.debug, "net: cannot read \(host.proc)/net/snmp; no protocol counters")
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

/// Telegraf's `netstat` input: TCP connections by state and UDP sockets, from `/proc/net/{tcp,tcp6,udp,udp6}`.
public struct NetstatCollector: Collector {
    public static let name = "netstat"
    public static let summary = "tcp_established, tcp_listen, tcp_time_wait, … and udp_socket"

    public init(options: CollectorOptions) throws(CollectorError) {
        try options.finish()
    }

    /// The kernel's TCP states (`include/net/tcp_states.h`), by the hex code `/proc/net/tcp` shows.
    static let states: [String: String] = [
        "01": "tcp_established", "02": "tcp_syn_sent", "03": "tcp_syn_recv", "04": "tcp_fin_wait1",
        "05": "tcp_fin_wait2", "06": "tcp_time_wait", "07": "tcp_close", "08": "tcp_close_wait",
        "09": "tcp_last_ack", "0A": "tcp_listen", "0B": "tcp_closing",
    ]

    public mutating func gather(_ context: GatherContext) throws(CollectorError) -> [Point] {
        let host = context.host
        var counts: [String: Int64] = Dictionary(uniqueKeysWithValues: (Array(Self.states.values) + ["tcp_none", "udp_socket"]).map { ($0, 0) })
        var readAny = false
        for file in ["tcp", "tcp6"] {
            guard let text = try? host.text(host.proc + "/net/" + file) else { continue }
            readAny = true
            for line in text.split(separator: "\n").dropFirst() {
                let w = line.words
                guard w.count > 3 else { continue }
                counts[Self.states[w[3].uppercased()] ?? "tcp_none", default: 0] += 1
            }
        }
        for file in ["udp", "udp6"] {
            guard let text = try? host.text(host.proc + "/net/" + file) else { continue }
            readAny = true
            counts["udp_socket", default: 0] += Int64(text.split(separator: "\n").dropFirst().count)
        }
        guard readAny else { throw CollectorError(Self.name, "cannot read \(host.proc)/net/tcp or udp") }
        return [Point(name: "netstat", fields: Fields(counts.mapValues { FieldValue.int($0) }), time: context.time)]
    }
}

extension String {
    var replacingHexPrefix: String { hasPrefix("0x") ? String(dropFirst(2)) : self }

    func trimmingCharacters(in set: String) -> String {
        let chars = Set(set)
        return String(drop { chars.contains($0) }.reversed().drop { chars.contains($0) }.reversed())
    }
}
