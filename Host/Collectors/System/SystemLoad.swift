#if canImport(Glibc)
import Glibc
#endif
import TockModel

/// Telegraf's `system` input: load averages, logical CPUs and logged-in users (one point), and the uptime in
/// seconds (a second point, Telegraf's counter).
public struct SystemCollector: Collector {
    public static let name = "system"
    public static let summary = "load1, load5, load15, n_cpus, n_users, n_unique_users; uptime (seconds)"

    public init(options: CollectorOptions) throws(CollectorError) {
        try options.finish()
    }

    public mutating func gather(_ context: GatherContext) throws(CollectorError) -> [Point] {
        let host = context.host
        let load = try host.text(host.proc + "/loadavg").words.prefix(3).map { Double($0) ?? 0 }
        guard load.count == 3 else { throw CollectorError(Self.name, "\(host.proc)/loadavg holds no load averages") }
        let stat = try host.text(host.proc + "/stat")
        let cpus = stat.split(separator: "\n").filter { $0.hasPrefix("cpu") && !$0.hasPrefix("cpu ") }.count
        var fields: [(String, FieldValue)] = [("load1", .double(load[0])), ("load5", .double(load[1])),
                                              ("load15", .double(load[2])), ("n_cpus", .int(Int64(cpus)))]
        if let users = LoginRecords.users(in: host) {
            fields.append(("n_users", .int(Int64(users.count))))
            fields.append(("n_unique_users", .int(Int64(Set(users).count))))
        } else {
            context.logger.debug("system: cannot read \(host.utmp); no n_users")
        }
        var points = [Point(name: "system", fields: Fields(fields), time: context.time)]
        let uptime = try host.text(host.proc + "/uptime").words.first.flatMap { Double($0) }
        guard let uptime else { throw CollectorError(Self.name, "\(host.proc)/uptime holds no uptime") }
        points.append(Point(name: "system", fields: Fields([("uptime", .int(Int64(uptime)))]), time: context.time))
        return points
    }
}

/// The users logged in now, from the utmp file (`who`): one entry per `USER_PROCESS` record.
enum LoginRecords {
    /// glibc's `struct utmp` on 64-bit Linux: 384 bytes, `ut_type` a 16-bit integer at 0, `ut_user` 32 bytes at 44.
    static let recordSize = 384
    static let userProcess: Int16 = 7

    static func users(in host: HostFS) -> [String]? {
        guard let bytes = host.bytes(host.utmp) else { return nil }
        var users: [String] = []
        var offset = 0
        while offset + recordSize <= bytes.count {
            let type = Int16(bytes[offset]) | Int16(bytes[offset + 1]) << 8
            if type == userProcess {
                let name = bytes[(offset + 44)..<(offset + 76)].prefix { $0 != 0 }
                users.append(String(decoding: name, as: UTF8.self))
            }
            offset += recordSize
        }
        return users
    }
}

/// Telegraf's `kernel` input: counters from `/proc/stat` (interrupts, context switches, forks, boot time, and the
/// paging counts on kernels that have them) and the entropy pool.
public struct KernelCollector: Collector {
    public static let name = "kernel"
    public static let summary = "boot_time, context_switches, interrupts, processes_forked, entropy_avail"

    public init(options: CollectorOptions) throws(CollectorError) {
        try options.finish()
    }

    public mutating func gather(_ context: GatherContext) throws(CollectorError) -> [Point] {
        let host = context.host
        var fields: [(String, FieldValue)] = []
        for line in try host.text(host.proc + "/stat").split(separator: "\n") {
            let w = line.words
            guard w.count >= 2, let value = Int64(w[1]) else { continue }
            switch w[0] {
            case "intr": fields.append(("interrupts", .int(value)))
            case "ctxt": fields.append(("context_switches", .int(value)))
            case "processes": fields.append(("processes_forked", .int(value)))
            case "btime": fields.append(("boot_time", .int(value)))
            case "page" where w.count >= 3:
                fields.append(("disk_pages_in", .int(value)))
                fields.append(("disk_pages_out", .int(Int64(w[2]) ?? 0)))
            default: break
            }
        }
        let entropyPath = host.proc + "/sys/kernel/random/entropy_avail"
        if let entropy = try? host.text(entropyPath).words.first.flatMap({ Int64($0) }) {
            fields.append(("entropy_avail", .int(entropy)))
        } else {
            context.logger.debug("kernel: cannot read \(entropyPath); no entropy_avail")
        }
        return [Point(name: "kernel", fields: Fields(fields), time: context.time)]
    }
}

/// Telegraf's `processes` input on Linux: processes by state and threads in all, from `/proc/<pid>/stat`.
public struct ProcessesCollector: Collector {
    public static let name = "processes"
    public static let summary = "processes by state (running, sleeping, blocked, zombies, …), total, total_threads"

    public init(options: CollectorOptions) throws(CollectorError) {
        try options.finish()
    }

    public mutating func gather(_ context: GatherContext) throws(CollectorError) -> [Point] {
        let host = context.host
        var counts: [String: Int64] = ["blocked": 0, "zombies": 0, "stopped": 0, "running": 0, "sleeping": 0,
                                       "total": 0, "unknown": 0, "dead": 0, "paging": 0, "total_threads": 0, "idle": 0]
        for pid in host.entries(host.proc) where pid.first?.isNumber == true {
            // A process may end between the listing and the read: skip it.
            guard let bytes = host.bytes(host.proc + "/" + pid + "/stat"), let stat = ProcStat(bytes) else { continue }
            let key: String
            switch stat.state {
            case UInt8(ascii: "R"): key = "running"
            case UInt8(ascii: "S"): key = "sleeping"
            case UInt8(ascii: "D"): key = "blocked"
            case UInt8(ascii: "Z"): key = "zombies"
            case UInt8(ascii: "X"): key = "dead"
            case UInt8(ascii: "T"), UInt8(ascii: "t"): key = "stopped"
            case UInt8(ascii: "W"): key = "paging"
            case UInt8(ascii: "I"): key = "idle"
            case UInt8(ascii: "P"): key = "parked"
            default:
                context.logger.info("processes: unknown state \"\(Character(Unicode.Scalar(stat.state)))\" in \(host.proc)/\(pid)/stat")
                key = "unknown"
            }
            counts[key, default: 0] += 1
            counts["total"]! += 1
            counts["total_threads"]! += stat.numbers(through: 20)(20)
        }
        return [Point(name: "processes", fields: Fields(counts.mapValues { FieldValue.int($0) }), time: context.time)]
    }
}
