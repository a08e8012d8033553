#if canImport(Glibc)
import Glibc
#endif
import TockModel

/// Telegraf's `procstat` input: the processes a query finds — by `pid_file`, `exe` (a regular expression on the
/// command name), `pattern` (on the whole command line, as `pgrep -f`), `user`, `systemd_unit` or `cgroup` — each
/// reported as a `procstat` point (CPU times and usage, memory, I/O, threads, file descriptors, context switches),
/// and the lookup itself as a `procstat_lookup` point (`pid_count`, `running`, `result_code`), so a task can alert on
/// a service that is not running.
public struct ProcstatCollector: Collector {
    public static let name = "procstat"
    public static let summary = "per process found by pid_file, exe, pattern, user, systemd_unit or cgroup: cpu, memory, io; procstat_lookup"

    enum Query: Sendable, Hashable {
        case pidFile(String), exe(String), pattern(String), user(String), systemdUnit(String), cgroup(String)

        var tag: (String, String) {
            switch self {
            case .pidFile(let v): ("pidfile", v)
            case .exe(let v): ("exe", v)
            case .pattern(let v): ("pattern", v)
            case .user(let v): ("user", v)
            case .systemdUnit(let v): ("systemd_unit", v)
            case .cgroup(let v): ("cgroup", v)
            }
        }
    }

    let query: Query
    let prefix: String
    let pidTag: Bool
    let cmdlineTag: Bool
    let processName: String
    let solaris: Bool
    private var lastCPU: [Int: (total: Double, time: Timestamp)] = [:]

    public init(options: CollectorOptions) throws(CollectorError) {
        var o = options
        var queries: [Query] = []
        for (key, make) in [("pid_file", Query.pidFile), ("exe", Query.exe), ("pattern", Query.pattern), ("user", Query.user),
                            ("systemd_unit", Query.systemdUnit), ("cgroup", Query.cgroup)] as [(String, (String) -> Query)] {
            let value = try o.string(key, default: "")
            if !value.isEmpty { queries.append(make(value)) }
        }
        guard queries.count == 1, let query = queries.first else {
            throw CollectorError(Self.name, queries.isEmpty
                ? "name the processes with one of pid_file, exe, pattern, user, systemd_unit or cgroup"
                : "give only one of pid_file, exe, pattern, user, systemd_unit or cgroup")
        }
        switch query {
        case .exe(let r), .pattern(let r):
            do { _ = try Regex(r) } catch {
                throw CollectorError(Self.name, "\"\(r)\" is not a regular expression: \(error)")
            }
        default: break
        }
        self.query = query
        prefix = try o.string("prefix", default: "")
        pidTag = try o.bool("pid_tag", default: false)
        cmdlineTag = try o.bool("cmdline_tag", default: false)
        processName = try o.string("process_name", default: "")
        let mode = try o.string("mode", default: "irix")
        guard mode == "irix" || mode == "solaris" else { throw CollectorError(Self.name, "mode must be irix or solaris, not \"\(mode)\"") }
        solaris = mode == "solaris"
        let finder = try o.string("pid_finder", default: "pgrep")
        guard finder == "pgrep" || finder == "native" else {
            throw CollectorError(Self.name, "pid_finder must be pgrep or native, not \"\(finder)\"")
        }
        try o.finish()
    }

    public mutating func gather(_ context: GatherContext) throws(CollectorError) -> [Point] {
        let host = context.host
        let (key, value) = query.tag
        var lookupTags = [key: value, "pid_finder": "native"]
        let pids: [Int]
        do {
            pids = try find(host)
        } catch {
            context.logger.error("procstat: \(error.message)")
            lookupTags["result"] = "lookup_error"
            return [Point(name: "procstat_lookup", tags: Tags(lookupTags), fields: Fields([
                ("pid_count", .int(0)), ("running", .int(0)), ("result_code", .int(1)),
            ]), time: context.time)]
        }
        let boot = ProcessSnapshot.bootTime(host)
        let memTotal = (try? host.text(host.proc + "/meminfo")).map { MemInfo($0)["MemTotal"] } ?? 0
        // Only Solaris mode divides by the CPUs: /proc/stat is read for nothing else.
        let cpus = !solaris ? 1 : max(1, ((try? host.text(host.proc + "/stat")) ?? "").split(separator: "\n")
            .filter { $0.hasPrefix("cpu") && !$0.hasPrefix("cpu ") }.count)
        var points: [Point] = []
        var running = 0
        var seen: [Int: (total: Double, time: Timestamp)] = [:]
        for pid in pids {
            guard let p = ProcessSnapshot(pid: pid, host: host, bootTime: boot) else { continue }
            if p.state != "Z" && p.state != "X" { running += 1 }
            var tags = [key: value, "process_name": processName.isEmpty ? p.name : processName]
            if pidTag { tags["pid"] = String(pid) }
            if cmdlineTag, let cmdline = ProcessSnapshot.commandLine(pid: pid, host: host) { tags["cmdline"] = cmdline }
            var fields: [(String, FieldValue)] = [
                ("num_threads", .int(p.threads)), ("cpu_time_user", .double(p.userTime)), ("cpu_time_system", .double(p.systemTime)),
                ("cpu_time_iowait", .double(p.iowaitTime)), ("created_at", .int(p.createdAt)),
                ("nice_priority", .int(p.nice)), ("realtime_priority", .int(p.realtimePriority)),
            ]
            if !pidTag { fields.append(("pid", .int(Int64(pid)))) }
            let total = p.userTime + p.systemTime
            seen[pid] = (total, context.time)
            if let before = lastCPU[pid], context.time > before.time {
                var usage = 100 * (total - before.total) / (Double(context.time - before.time) / 1e9)
                if solaris { usage /= Double(cpus) }
                fields.append(("cpu_usage", .double(max(0, usage))))
            }
            for (field, statusKey) in [("memory_rss", "VmRSS"), ("memory_vms", "VmSize"), ("memory_swap", "VmSwap"),
                                       ("memory_data", "VmData"), ("memory_stack", "VmStk"), ("memory_locked", "VmLck"),
                                       ("voluntary_context_switches", "voluntary_ctxt_switches"),
                                       ("involuntary_context_switches", "nonvoluntary_ctxt_switches")] {
                if let v = p.status[statusKey] { fields.append((field, .int(v))) }
            }
            if let rss = p.status["VmRSS"], memTotal > 0 {
                fields.append(("memory_usage", .double(100 * Double(rss) / Double(memTotal))))
            }
            for (field, ioKey) in [("read_bytes", "read_bytes"), ("write_bytes", "write_bytes"),
                                   ("read_count", "syscr"), ("write_count", "syscw")] {
                if let v = p.io[ioKey] { fields.append((field, .int(v))) }
            }
            if let fds = p.fds { fields.append(("num_fds", .int(fds))) }
            if !prefix.isEmpty { fields = fields.map { (prefix + "_" + $0.0, $0.1) } }
            points.append(Point(name: "procstat", tags: Tags(tags), fields: Fields(fields), time: context.time))
        }
        lastCPU = seen
        lookupTags["result"] = "success"
        points.append(Point(name: "procstat_lookup", tags: Tags(lookupTags), fields: Fields([
            ("pid_count", .int(Int64(pids.count))), ("running", .int(Int64(running))), ("result_code", .int(0)),
        ]), time: context.time))
        return points
    }

    /// The processes the query names.
    func find(_ host: HostFS) throws(CollectorError) -> [Int] {
        switch query {
        case .pidFile(let path):
            guard let text = try? host.text(path), let pid = text.words.first.flatMap({ Int($0) }) else {
                throw CollectorError(Self.name, "cannot read a pid from \(path)")
            }
            return host.bytes(host.proc + "/\(pid)/stat") == nil ? [] : [pid]
        case .exe(let pattern) where Self.literal(pattern) != nil:
            let needle = Array(pattern.utf8)
            return ProcessSnapshot.pids(host).filter { pid in
                guard let comm = host.bytes(host.proc + "/\(pid)/comm") else { return false }
                return Self.contains(comm, needle)
            }
        case .pattern(let pattern) where Self.literal(pattern) != nil && !pattern.contains(" "):
            // Without a space the pattern cannot span two arguments, so the NUL-separated bytes are searched as
            // they come, and the read stops at the first match (a JVM's command line can be megabytes long).
            let needle = Array(pattern.utf8)
            return ProcessSnapshot.pids(host).filter { pid in
                host.scan(host.proc + "/\(pid)/cmdline", overlap: needle.count - 1) { Self.contains($0, needle) } ?? false
            }
        case .pattern(let pattern) where Self.literal(pattern) != nil:
            let needle = Array(pattern.utf8)
            return ProcessSnapshot.pids(host).filter { pid in
                guard let cmdline = ProcessSnapshot.commandLineBytes(pid: pid, host: host), !cmdline.isEmpty else { return false }
                return Self.contains(cmdline, needle)
            }
        case .exe(let pattern):
            let regex: Regex<AnyRegexOutput>
            do { regex = try Regex(pattern) } catch { throw CollectorError(Self.name, "\(error)") }
            return ProcessSnapshot.pids(host).filter { pid in
                guard let comm = try? host.text(host.proc + "/\(pid)/comm") else { return false }
                return (try? regex.firstMatch(in: comm.trimmingCharacters(in: "\n"))) != nil
            }
        case .pattern(let pattern):
            let regex: Regex<AnyRegexOutput>
            do { regex = try Regex(pattern) } catch { throw CollectorError(Self.name, "\(error)") }
            return ProcessSnapshot.pids(host).filter { pid in
                guard let cmdline = ProcessSnapshot.commandLine(pid: pid, host: host), !cmdline.isEmpty else { return false }
                return (try? regex.firstMatch(in: cmdline)) != nil
            }
        case .user(let name):
            guard let uid = Self.uid(of: name, host: host) else {
                throw CollectorError(Self.name, "no user \(name) in \(host.etc)/passwd")
            }
            return ProcessSnapshot.pids(host).filter { pid in
                ProcessSnapshot(pid: pid, host: host, bootTime: 0)?.uid == uid
            }
        case .systemdUnit(let unit):
            let candidates = [host.sys + "/fs/cgroup/system.slice/\(unit)/cgroup.procs",
                              host.sys + "/fs/cgroup/systemd/system.slice/\(unit)/cgroup.procs"]
            for path in candidates {
                if let text = try? host.text(path) { return text.words.compactMap { Int($0) } }
            }
            throw CollectorError(Self.name, "no cgroup for systemd unit \(unit) (looked in \(candidates.joined(separator: ", ")))")
        case .cgroup(let group):
            let path = group.hasPrefix("/") ? group : host.sys + "/fs/cgroup/" + group
            guard let text = try? host.text(path + "/cgroup.procs") else {
                throw CollectorError(Self.name, "cannot read \(path)/cgroup.procs")
            }
            return text.words.compactMap { Int($0) }
        }
    }

    /// The user's uid from `/etc/passwd` (`name:x:uid:…`).
    /// The pattern itself when it holds none of a regular expression's special characters (`tock`, `nginx`): such a
    /// pattern matches where its text occurs, which a byte search finds without building a `Regex` per gather.
    static func literal(_ pattern: String) -> String? {
        let special = Set("\\^$.|?*+()[]{}".utf8)
        return !pattern.isEmpty && !pattern.utf8.contains(where: special.contains) ? pattern : nil
    }

    /// Whether `needle` occurs in `haystack`.
    static func contains(_ haystack: [UInt8], _ needle: [UInt8]) -> Bool {
        haystack.withUnsafeBytes { contains($0, needle) }
    }

    /// Whether `needle` occurs in `haystack`: `memchr` to each candidate first byte, `memcmp` for the rest.
    static func contains(_ haystack: UnsafeRawBufferPointer, _ needle: [UInt8]) -> Bool {
        guard !needle.isEmpty else { return true }
        guard haystack.count >= needle.count, let base = haystack.baseAddress else { return false }
        return needle.withUnsafeBytes { n in
            let end = base + (haystack.count - n.count + 1)
            var at = base
            while at < end, let found = memchr(at, Int32(n[0]), end - at) {
                if memcmp(found, n.baseAddress!, n.count) == 0 { return true }
                at = UnsafeRawPointer(found) + 1
            }
            return false
        }
    }

    static func uid(of name: String, host: HostFS) -> Int? {
        guard let passwd = try? host.text(host.etc + "/passwd") else { return nil }
        for line in passwd.split(separator: "\n") {
            let fields = line.split(separator: ":", omittingEmptySubsequences: false)
            if fields.count > 2, fields[0] == name { return Int(fields[2]) }
        }
        return Int(name)
    }
}
