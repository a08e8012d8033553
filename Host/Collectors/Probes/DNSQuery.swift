#if canImport(Glibc)
import Glibc
#endif
import Foundation
import Synchronization
import TockModel

/// Telegraf's `dns_query` input: asks each of `servers` about each of `domains` (`record_type`, over `network` udp or
/// tcp, to `port`) and reports one `dns_query` point per pair, tagged `server`, `domain`, `record_type`, `result`
/// (`success`, `timeout`, `error`) and, when the server answered, `rcode` (`NOERROR`, `NXDOMAIN`…); with fields
/// `query_time_ms` (0 when there was no answer), `result_code` (0 success, 1 timeout, 2 error) and `rcode_value`.
/// An answer whose rcode is not NOERROR is an error, as in Telegraf. No query waits longer than `timeout`
/// (default 2 s; a duration, or a number of seconds as older Telegrafs wrote it).
///
/// `include_fields` adds Telegraf's extra fields to a successful answer: `first_ip` the field `ip`, the address of
/// the first A or AAAA record of the answer section; `all_ips` the fields `ip_N`, N the index of each A or AAAA
/// record among all the answer's records (a CNAME before them takes index 0).
public struct DNSQueryCollector: Collector {
    public static let name = "dns_query"
    public static let summary = "DNS probe: query_time_ms, result_code, rcode per server and domain"

    enum Result: UInt64 {
        case success = 0, timeout, error

        var tag: String {
            switch self {
            case .success: "success"
            case .timeout: "timeout"
            case .error: "error"
            }
        }
    }

    let servers: [String]
    let domains: [String]
    let recordType: DNSMessage.RecordType
    let tcp: Bool
    let port: UInt16
    /// Nanoseconds (Telegraf's default: 2 s).
    var timeout: Int64
    /// `include_fields`: whether to add `ip` (`first_ip`) and `ip_N` (`all_ips`).
    let firstIP: Bool
    let allIPs: Bool

    public init(options: CollectorOptions) throws(CollectorError) {
        var o = options
        servers = try o.strings("servers", default: [])
        guard !servers.isEmpty else { throw CollectorError(Self.name, "servers is empty: name at least one DNS server") }
        let network = try o.string("network", default: "udp")
        guard network == "udp" || network == "tcp" else {
            throw CollectorError(Self.name, "network must be udp or tcp, not \"\(network)\"")
        }
        tcp = network == "tcp"
        var domains = try o.strings("domains", default: [])
        var type = try o.string("record_type", default: "")
        // Telegraf: no domains means the root's name servers; no record type means NS.
        if domains.isEmpty { domains = ["."]; type = "NS" }
        if type.isEmpty { type = "NS" }
        self.domains = domains
        guard let recordType = DNSMessage.RecordType(rawValue: type) else {
            throw CollectorError(Self.name, "record_type \"\(type)\" is not one of "
                                 + DNSMessage.RecordType.allCases.map(\.rawValue).joined(separator: ", "))
        }
        self.recordType = recordType
        for domain in domains where DNSMessage.encode(name: domain) == nil {
            throw CollectorError(Self.name, "domain \"\(domain)\" is not a valid DNS name")
        }
        let port = try o.int("port", default: 53)
        guard let p = UInt16(exactly: port), p > 0 else { throw CollectorError(Self.name, "port \(port) is not a port number") }
        self.port = p
        // `timeout`: a duration (`"2s"`, Telegraf ≥ 1.26) or a number of seconds (earlier Telegrafs).
        // 0 is miekg/dns' default, 2 s, as Telegraf's client ends up with.
        let timeout = try o.duration("timeout", default: 2 * GoDuration.second)
        self.timeout = timeout == 0 ? 2 * GoDuration.second : timeout
        let included = try o.strings("include_fields", default: [])
        for field in included where field != "first_ip" && field != "all_ips" {
            throw CollectorError(Self.name, "invalid field \"\(field)\" included (include_fields takes first_ip and all_ips)")
        }
        firstIP = included.contains("first_ip")
        allIPs = included.contains("all_ips")
        try o.finish()
    }

    /// `timeout` is each query's, as in Telegraf.
    public static var ownsTimeoutOption: Bool { true }

    /// One query's `timeout`: every pair is asked at once.
    public var gatherBound: Duration? { .nanoseconds(timeout) }

    public mutating func gather(_ context: GatherContext) throws(CollectorError) -> [Point] {
        let pairs = domains.flatMap { domain in servers.map { (domain: domain, server: $0) } }
        let points = Mutex<[Point?]>(Array(repeating: nil, count: pairs.count))
        var bounded = self
        bounded.timeout = min(timeout, max(GoDuration.millisecond, context.timeout.nanosecondsValue - 50 * GoDuration.millisecond))
        let collector = bounded
        // Every pair is asked at once, as Telegraf does, so a silent server costs one timeout, not one per pair.
        DispatchQueue.concurrentPerform(iterations: pairs.count) { i in
            let point = collector.probe(domain: pairs[i].domain, server: pairs[i].server, context: context)
            points.withLock { $0[i] = point }
        }
        return points.withLock { $0 }.compactMap { $0 }
    }

    func probe(domain: String, server: String, context: GatherContext) -> Point {
        var tags = ["server": server, "domain": domain, "record_type": recordType.rawValue, "result": Result.error.tag]
        var fields: [(String, FieldValue)] = [("query_time_ms", .double(0)), ("result_code", .uint(Result.error.rawValue))]
        let exchange = Self.exchange(server: server, port: port, tcp: tcp, timeout: timeout,
                                     name: domain, type: recordType.code)
        switch exchange {
        case .timedOut:
            tags["result"] = Result.timeout.tag
            fields[1].1 = .uint(Result.timeout.rawValue)
            context.logger.debug("dns_query: \(server): no answer about \(domain) within \(GoDuration.format(timeout))")
        case .failed(let message):
            context.logger.error("dns_query: \(server): \(domain): \(message)")
        case .answered(let message, let elapsed):
            tags["rcode"] = DNSMessage.rcodeName(message.rcode)
            fields.append(("rcode_value", .int(Int64(message.rcode))))
            fields[0].1 = .double(Double(elapsed) / 1e6)
            if message.rcode == 0 {
                tags["result"] = Result.success.tag
                fields[1].1 = .uint(Result.success.rawValue)
                if firstIP, let first = message.answers.lazy.compactMap(\.address).first { fields.append(("ip", .string(first))) }
                if allIPs {
                    for (index, record) in message.answers.enumerated() {
                        if let address = record.address { fields.append(("ip_\(index)", .string(address))) }
                    }
                }
            } else {
                context.logger.error("dns_query: invalid answer (\(DNSMessage.rcodeName(message.rcode))) from \(server) after \(recordType.rawValue) query for \(domain)")
            }
        }
        return Point(name: "dns_query", tags: Tags(tags), fields: Fields(fields), time: context.time)
    }

    enum Exchange {
        case answered(DNSMessage, elapsed: Int64)
        case timedOut
        case failed(String)
    }

    /// Sends one query and waits, at most `timeout` in all, for the response with the same id and question.
    static func exchange(server: String, port: UInt16, tcp: Bool, timeout: Int64, name: String, type: UInt16) -> Exchange {
        let id = UInt16.random(in: 0...UInt16.max)
        guard let query = DNSMessage.query(id: id, name: name, type: type) else { return .failed("\"\(name)\" is not a valid DNS name") }
        let started = monotonic()
        let deadline = started + timeout
        guard let fd = NetResponseCollector.connect(host: server, port: String(port), udp: !tcp, timeout: timeout) else {
            if errno == ETIMEDOUT { return .timedOut }
            return .failed(errno == EHOSTUNREACH ? "cannot resolve the server's address" : "cannot connect: \(String(cString: strerror(errno)))")
        }
        defer { close(fd) }
        _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
        let packet = tcp ? [UInt8(query.count >> 8), UInt8(query.count & 0xff)] + query : query
        let sent = packet.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
        guard sent == packet.count else { return .failed("cannot send the query: \(String(cString: strerror(errno)))") }
        var received: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65_536)
        while true {
            let left = deadline - monotonic()
            guard left > 0 else { return .timedOut }
            var poller = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            let ready = poll(&poller, 1, Int32(max(1, left / 1_000_000)))
            if ready == 0 { return .timedOut }
            if ready < 0 { if errno == EINTR { continue }; return .failed(String(cString: strerror(errno))) }
            let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n < 0 {
                if errno == EAGAIN || errno == EINTR { continue }
                // A UDP query to a port nobody listens on comes back as ECONNREFUSED.
                return .failed("no answer: \(String(cString: strerror(errno)))")
            }
            if n == 0 { return .failed("the server closed the connection without answering") }
            let elapsed = monotonic() - started
            var reply: [UInt8]
            if tcp {
                received += buffer[0..<n]
                guard received.count >= 2 else { continue }
                let length = Int(received[0]) << 8 | Int(received[1])
                guard received.count >= 2 + length else { continue }
                reply = Array(received[2..<2 + length])
            } else {
                reply = Array(buffer[0..<n])
            }
            // A datagram that is not the answer to this query (a late answer to an earlier one) is ignored.
            guard let message = DNSMessage(reply) else {
                if tcp { return .failed("the answer is not a DNS message") }
                continue
            }
            guard message.id == id, message.isResponse else {
                if tcp { return .failed("the answer does not match the query") }
                continue
            }
            return .answered(message, elapsed: elapsed)
        }
    }
}
