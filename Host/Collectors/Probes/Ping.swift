#if canImport(Glibc)
import Glibc
#endif
import Foundation
import PluginSupervisor
import Synchronization
import TockModel

/// Telegraf's `ping` input: sends ICMP echo requests to each of `urls` and reports one `ping` point per host, tagged
/// `url`, with `packets_transmitted`, `packets_received`, `percent_packet_loss`, `ttl`, `minimum_response_ms`,
/// `average_response_ms`, `maximum_response_ms`, `standard_deviation_ms` and `result_code` (0 ok, 1 unknown host or
/// no reply, 2 ping error).
///
/// With `percentiles = [50, 95, 99]`, the native method also reports `percentile50_ms`… of the round-trip times
/// (Telegraf's interpolation, see ``percentile(_:_:)``).
///
/// `method = "native"` (the default) pings from this process over an ICMP socket (see ``ICMPEcho``); where this
/// process may open none, it falls back to the system's `ping` program, says so once in the log, and reads its
/// output as `method = "exec"` does. A run lasts at most `deadline` (default 10 s) and never longer than the
/// section's `timeout`.
public struct PingCollector: Collector {
    public static let name = "ping"
    public static let summary = "ICMP ping: packets sent and received, loss, ttl, min/avg/max/stddev response time"

    let urls: [String]
    let count: Int
    /// Nanoseconds between two requests (at least 200 ms, as ping's own limit for non-root users).
    let interval: Int64
    /// How long `ping -W` waits for each reply (exec only; Telegraf ignores it for native), nanoseconds; 0 unset.
    let timeout: Int64
    /// The whole run's limit, nanoseconds; 0 means none but the section's timeout.
    let deadline: Int64
    let interface: String
    /// The percentiles of the round-trip times reported as `percentileN_ms` (native method only, as in Telegraf).
    let percentiles: [Int64]
    let native: Bool
    let ipv4: Bool
    let ipv6: Bool
    let size: Int
    let binary: String
    let arguments: [String]
    /// For tests: refuse ICMP sockets, as an unprivileged process without ping_group_range sees them.
    var denySockets = false
    /// Whether the fallback to the ping program was already logged.
    var fallbackAnnounced = false

    public init(options: CollectorOptions) throws(CollectorError) {
        var o = options
        urls = try o.strings("urls", default: [])
        guard !urls.isEmpty else { throw CollectorError(Self.name, "urls is empty: name at least one host to ping") }
        let count = try o.int("count", default: 1)
        guard count > 0, count <= 10_000 else { throw CollectorError(Self.name, "count must be between 1 and 10000, not \(count)") }
        self.count = Int(count)
        interval = max(200 * GoDuration.millisecond, try o.duration("ping_interval", default: GoDuration.second))
        timeout = try o.duration("timeout", default: 0)
        deadline = try o.duration("deadline", default: 10 * GoDuration.second)
        percentiles = try o.ints("percentiles", default: [])
        interface = try o.string("interface", default: "")
        let method = try o.string("method", default: "native")
        guard method == "native" || method == "exec" else {
            throw CollectorError(Self.name, "method must be native or exec, not \"\(method)\"")
        }
        native = method == "native"
        ipv4 = try o.bool("ipv4", default: false)
        ipv6 = try o.bool("ipv6", default: false)
        let size = try o.int("size", default: 56)
        guard size >= 0, size <= 65_000 else { throw CollectorError(Self.name, "size must be between 0 and 65000 bytes, not \(size)") }
        self.size = Int(size)
        binary = try o.string("binary", default: "ping")
        arguments = try o.strings("arguments", default: [])
        try o.finish()
    }

    /// `timeout` is `ping -W` (the wait for each reply), as in Telegraf.
    public static var ownsTimeoutOption: Bool { true }

    /// `deadline`; without one, the requests' spacing and the wait for the last reply (hosts are pinged side by side).
    public var gatherBound: Duration? {
        if deadline > 0 { return .nanoseconds(deadline) }
        return .nanoseconds(Int64(count) * interval + max(timeout, GoDuration.second))
    }

    public mutating func gather(_ context: GatherContext) throws(CollectorError) -> [Point] {
        var useExec = !native || !arguments.isEmpty
        if !useExec {
            let family = ipv6 ? AF_INET6 : AF_INET
            if case .failure(.notPermitted(let why)) = ICMPEcho.open(family: family, denyAll: denySockets).map({ close($0.fd) }) {
                useExec = true
                if !fallbackAnnounced {
                    fallbackAnnounced = true
                    let allow = "allow it with net.ipv4.ping_group_range or CAP_NET_RAW"
                    context.logger.warning("ping: this process may not open ICMP sockets (\(why)); running the \(binary) program instead (\(allow))")
                }
            }
        }
        let collector = self, exec = useExec
        let points = Mutex<[Point?]>(Array(repeating: nil, count: urls.count))
        // Hosts are pinged side by side, as Telegraf does.
        DispatchQueue.concurrentPerform(iterations: urls.count) { i in
            let url = collector.urls[i]
            let fields = exec ? collector.execPing(url, context: context) : collector.nativePing(url, context: context)
            let point = Point(name: "ping", tags: Tags(["url": url]), fields: Fields(fields), time: context.time)
            points.withLock { $0[i] = point }
        }
        return points.withLock { $0 }.compactMap { $0 }
    }

    /// The run's limit: `deadline`, within the section's timeout (less a margin to report in time).
    func runLimit(_ context: GatherContext) -> Int64 {
        let section = max(100 * GoDuration.millisecond, context.timeout.nanosecondsValue - 100 * GoDuration.millisecond)
        return deadline > 0 ? min(deadline, section) : section
    }

    func nativePing(_ url: String, context: GatherContext) -> [(String, FieldValue)] {
        guard let (address, length) = Self.resolve(url, family: ipv6 ? AF_INET6 : ipv4 ? AF_INET : AF_UNSPEC) else {
            context.logger.error("ping failed: \(url): unknown host")
            return [("result_code", .int(1))]
        }
        let run = ICMPEcho.run(address: address, length: length, count: count, interval: interval,
                               deadline: runLimit(context), size: size, interface: interface, denyAll: denySockets)
        let stats: ICMPEcho.Statistics
        switch run {
        case .success(let s): stats = s
        case .failure(.notPermitted(let why)), .failure(.failed(let why)):
            context.logger.error("ping failed: \(url): \(why)")
            return [("result_code", .int(2))]
        }
        var fields: [(String, FieldValue)] = [("result_code", .int(0)), ("packets_transmitted", .int(Int64(stats.sent))),
                                              ("packets_received", .int(Int64(stats.received)))]
        if stats.sent == 0 {
            fields[0].1 = .int(2)
            return fields
        }
        if stats.received == 0 {
            fields[0].1 = .int(1)
            fields.append(("percent_packet_loss", .double(100)))
            return fields
        }
        let rtts = stats.rtts
        let average = rtts.reduce(0, +) / Double(rtts.count)
        // pro-bing's standard deviation: the population's, over the replies received.
        let deviation = (rtts.map { ($0 - average) * ($0 - average) }.reduce(0, +) / Double(rtts.count)).squareRoot()
        let sorted = rtts.map { Int64(($0 * 1e6).rounded()) }.sorted()
        for p in percentiles {
            fields.append(("percentile\(p)_ms", .double(Double(Self.percentile(sorted, p)) / 1e6)))
        }
        if let ttl = stats.ttl { fields.append(("ttl", .int(Int64(ttl)))) }
        fields += [("percent_packet_loss", .double(Double(stats.sent - stats.received) / Double(stats.sent) * 100)),
                   ("minimum_response_ms", .double(rtts.min()!)), ("average_response_ms", .double(average)),
                   ("maximum_response_ms", .double(rtts.max()!)), ("standard_deviation_ms", .double(deviation))]
        return fields
    }

    /// Telegraf's percentile of sorted round-trip times in nanoseconds: R7 of Hyndman and Fan (Excel's), `p` clamped
    /// to 0…100, the interpolation truncated to whole nanoseconds as Go's `time.Duration` truncates it.
    static func percentile(_ sorted: [Int64], _ p: Int64) -> Int64 {
        guard !sorted.isEmpty else { return 0 }
        let rank = Double(min(100, max(0, p))) / 100 * Double(sorted.count - 1)
        let index = Int(rank)
        if index >= sorted.count - 1 { return sorted[sorted.count - 1] }
        let lower = sorted[index], upper = sorted[index + 1]
        return lower + Int64((rank - rank.rounded(.down)) * Double(upper - lower))
    }

    /// The first address of `host` in `family` (IPv4 preferred when both are allowed), or `nil` when it has none.
    static func resolve(_ host: String, family: Int32) -> (sockaddr_storage, socklen_t)? {
        var hints = addrinfo()
        hints.ai_family = family
        hints.ai_socktype = Int32(SOCK_DGRAM.rawValue)
        var list: UnsafeMutablePointer<addrinfo>?
        let bare = host.hasPrefix("[") && host.hasSuffix("]") ? String(host.dropFirst().dropLast()) : host
        guard getaddrinfo(bare, nil, &hints, &list) == 0, let first = list else { return nil }
        defer { freeaddrinfo(list) }
        var chosen = first
        var entry: UnsafeMutablePointer<addrinfo>? = first
        while let ai = entry {
            if ai.pointee.ai_family == AF_INET { chosen = ai; break }
            entry = ai.pointee.ai_next
        }
        var storage = sockaddr_storage()
        let length = chosen.pointee.ai_addrlen
        withUnsafeMutableBytes(of: &storage) { dst in
            dst.copyMemory(from: UnsafeRawBufferPointer(start: chosen.pointee.ai_addr, count: Int(length)))
        }
        return (storage, length)
    }

    // MARK: exec

    /// The `ping` command's arguments, as Telegraf builds them for Linux's iputils ping.
    func execArguments(_ url: String, limit: Int64) -> [String] {
        if !arguments.isEmpty { return arguments + [url] }
        var args = ["-c", String(count), "-n", "-s", "16"]
        if ipv6 { args.insert("-6", at: 0) } else if ipv4 { args.insert("-4", at: 0) }
        args += ["-i", Self.seconds(interval)]
        if timeout > 0 { args += ["-W", Self.seconds(timeout)] }
        // The deadline, within the section's timeout, so that ping prints its summary before it would be killed.
        args += ["-w", String(max(1, limit / GoDuration.second))]
        if !interface.isEmpty { args += ["-I", interface] }
        return args + [url]
    }

    static func seconds(_ ns: Int64) -> String {
        let s = Double(ns) / 1e9
        return s == s.rounded() ? String(Int64(s)) : String(s)
    }

    /// The absolute path of `binary`, searched in PATH and the usual system directories.
    static func locate(_ binary: String) -> String? {
        if binary.contains("/") { return access(binary, X_OK) == 0 ? binary : nil }
        let path = ProcessInfo.processInfo.environment["PATH"] ?? ""
        let directories = path.split(separator: ":").map(String.init) + ["/usr/bin", "/bin", "/usr/sbin", "/sbin", "/usr/local/bin"]
        return directories.map { $0 + "/" + binary }.first { access($0, X_OK) == 0 }
    }

    func execPing(_ url: String, context: GatherContext) -> [(String, FieldValue)] {
        guard let program = Self.locate(binary) else {
            if Self.resolve(url, family: ipv6 ? AF_INET6 : ipv4 ? AF_INET : AF_UNSPEC) == nil {
                context.logger.error("ping failed: \(url): unknown host")
                return [("result_code", .int(1))]
            }
            context.logger.error("ping failed: \(url): no \(binary) program to run (install iputils-ping, or allow ICMP sockets for the native method)")
            return [("result_code", .int(2))]
        }
        let limit = runLimit(context)
        let run: OneShotProcess.Result
        do {
            run = try OneShotProcess.run(program: program, arguments: execArguments(url, limit: limit), environment: ["LC_ALL": "C"],
                                         timeout: UInt64(limit + 50 * GoDuration.millisecond), grace: 50_000_000)
        } catch {
            context.logger.error("ping failed: \(url): \(error)")
            return [("result_code", .int(2))]
        }
        let output = String(decoding: run.stdout, as: UTF8.self)
        let combined = output + "\n" + run.stderrTail.joined(separator: "\n")
        var fields: [(String, FieldValue)] = [("result_code", .int(0))]
        if run.timedOut {
            context.logger.error("ping failed: \(url): \(binary) did not finish within \(GoDuration.format(limit))")
            return [("result_code", .int(2))]
        }
        if case .exited(let status) = run.termination, status != 0 {
            // iputils ping exits 1 when replies are missing (the output is still read) and 2 on errors.
            if status != 1 {
                let unknown = ["Name or service not known", "unknown host", "Temporary failure in name resolution",
                               "No address associated with hostname"].contains { combined.contains($0) }
                let output = combined.trimmingCharacters(in: .whitespacesAndNewlines)
                context.logger.error("ping failed: host \"\(url)\": \(binary) exited with status \(status) - \(output)")
                return [("result_code", .int(unknown ? 1 : 2))]
            }
            fields[0].1 = .int(Int64(status))
        } else if !run.termination.isSuccess {
            context.logger.error("ping failed: host \"\(url)\": \(binary) \(run.termination)")
            return [("result_code", .int(2))]
        }
        guard let stats = PingOutput.parse(output) else {
            context.logger.error("ping failed: \"\(url)\": cannot read the output of \(binary): \(output.prefix(200))")
            return [("result_code", .int(2))]
        }
        fields += [("packets_transmitted", .int(Int64(stats.transmitted))), ("packets_received", .int(Int64(stats.received))),
                   ("percent_packet_loss", .double(stats.transmitted == 0 ? 0 : Double(stats.transmitted - stats.received) / Double(stats.transmitted) * 100))]
        if let ttl = stats.ttl { fields.append(("ttl", .int(Int64(ttl)))) }
        if let rtt = stats.rtt {
            fields += [("minimum_response_ms", .double(rtt.min)), ("average_response_ms", .double(rtt.avg)),
                       ("maximum_response_ms", .double(rtt.max))]
            if let deviation = rtt.stddev { fields.append(("standard_deviation_ms", .double(deviation))) }
        }
        return fields
    }
}

/// The summary of a `ping` program's output, read as Telegraf's `processPingOutput` reads it: the first `ttl=` (or
/// `hlim=`), the `N packets transmitted, M received` line and the `min/avg/max[/stddev|mdev]` line.
enum PingOutput {
    struct Statistics: Equatable {
        var transmitted = 0
        var received = 0
        var ttl: Int?
        var rtt: (min: Double, avg: Double, max: Double, stddev: Double?)?

        static func == (a: Statistics, b: Statistics) -> Bool {
            a.transmitted == b.transmitted && a.received == b.received && a.ttl == b.ttl
                && a.rtt?.min == b.rtt?.min && a.rtt?.avg == b.rtt?.avg && a.rtt?.max == b.rtt?.max && a.rtt?.stddev == b.rtt?.stddev
        }
    }

    /// `nil` when there is no `transmitted … received` line (or it or the round-trip line cannot be read).
    static func parse(_ output: String) -> Statistics? {
        var stats = Statistics()
        var sawCounts = false
        for line in output.split(separator: "\n").map(String.init) {
            if stats.ttl == nil, line.contains("ttl=") || line.contains("hlim=") {
                if let match = line.firstMatch(of: /(ttl|hlim)=(\d+)/) { stats.ttl = Int(match.2) }
            } else if line.contains("transmitted") && line.contains("received") {
                let parts = line.components(separatedBy: ", ")
                guard parts.count >= 2, let sent = Int(parts[0].split(separator: " ").first ?? ""),
                      let received = Int(parts[1].split(separator: " ").first ?? "") else { return nil }
                stats.transmitted = sent
                stats.received = received
                sawCounts = true
            } else if line.contains("min/avg/max") {
                let words = line.split(separator: " ")
                guard words.count > 3 else { return nil }
                let values = words[3].split(separator: "/").map { Double($0) }
                guard values.count >= 3, let min = values[0], let avg = values[1], let max = values[2] else { return nil }
                stats.rtt = (min, avg, max, values.count >= 4 ? values[3] : nil)
            }
        }
        return sawCounts ? stats : nil
    }
}
