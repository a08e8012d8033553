import TockModel

/// What `/proc/<pid>` says of one process, read as Telegraf's procstat (through gopsutil) reads it.
struct ProcessSnapshot: Sendable {
    var pid: Int
    /// The command name (`comm`, at most 15 bytes).
    var name: String
    var state: Character
    /// Seconds of CPU.
    var userTime: Double
    var systemTime: Double
    var iowaitTime: Double
    /// Nanoseconds since the epoch.
    var createdAt: Int64
    var threads: Int64
    var nice: Int64
    var realtimePriority: Int64
    var status: [String: Int64] = [:]
    var uid: Int?
    var io: [String: Int64] = [:]
    var fds: Int64?

    /// Reads `/proc/<pid>`; `nil` when the process is gone or unreadable.
    init?(pid: Int, host: HostFS, bootTime: Int64) {
        let dir = host.proc + "/\(pid)"
        guard let stat = host.bytes(dir + "/stat"), let open = stat.firstIndex(of: UInt8(ascii: "(")),
              let close = stat.lastIndex(of: UInt8(ascii: ")")), close > open else { return nil }
        self.pid = pid
        name = String(decoding: stat[(open + 1)..<close], as: UTF8.self)
        let rest = String(decoding: stat[(close + 1)...], as: UTF8.self).words
        // After the name: state is field 3 of stat, so field n is rest[n - 3].
        func field(_ n: Int) -> Int64 { n - 3 < rest.count ? Int64(rest[n - 3]) ?? 0 : 0 }
        state = rest.first?.first ?? "?"
        userTime = Double(field(14)) / host.clockTicks
        systemTime = Double(field(15)) / host.clockTicks
        iowaitTime = Double(field(42)) / host.clockTicks
        nice = field(19)
        threads = field(20)
        realtimePriority = field(40)
        createdAt = (bootTime * 1_000_000_000) + Int64(Double(field(22)) / host.clockTicks * 1e9)
        if let text = try? host.text(dir + "/status") {
            for line in text.split(separator: "\n") {
                let parts = line.split(separator: ":", maxSplits: 1)
                guard parts.count == 2 else { continue }
                let words = parts[1].words
                if parts[0] == "Uid" { uid = words.first.flatMap { Int($0) }; continue }
                guard let first = words.first, let n = Int64(first) else { continue }
                status[String(parts[0])] = words.count > 1 && words[1] == "kB" ? n * 1024 : n
            }
        }
        if let text = try? host.text(dir + "/io") {
            for line in text.split(separator: "\n") {
                let parts = line.split(separator: ":", maxSplits: 1)
                if parts.count == 2, let n = Int64(parts[1].trimmingSpaces) { io[String(parts[0])] = n }
            }
        }
        let fdEntries = host.entries(dir + "/fd")
        fds = fdEntries.isEmpty ? nil : Int64(fdEntries.count)
    }

    /// The command line, its arguments joined by spaces (`/proc/<pid>/cmdline` separates them with NULs).
    static func commandLine(pid: Int, host: HostFS) -> String? {
        guard let bytes = host.bytes(host.proc + "/\(pid)/cmdline") else { return nil }
        let args = bytes.split(separator: 0, omittingEmptySubsequences: true).map { String(decoding: $0, as: UTF8.self) }
        return args.joined(separator: " ")
    }

    /// Every process ID under `/proc`.
    static func pids(_ host: HostFS) -> [Int] {
        host.entries(host.proc).compactMap { Int($0) }.sorted()
    }

    /// `btime` of `/proc/stat`: seconds since the epoch.
    static func bootTime(_ host: HostFS) -> Int64 {
        guard let stat = try? host.text(host.proc + "/stat") else { return 0 }
        for line in stat.split(separator: "\n") where line.hasPrefix("btime ") {
            return Int64(line.words.last ?? "") ?? 0
        }
        return 0
    }
}
