#if canImport(Glibc)
import Glibc
#endif
import TockModel

/// Host exception events, as bkmonitorbeat's exceptionbeat reports them: a point `host_exception` for each problem
/// found since the last gather, tagged `type`:
/// - `disk_full`: a physical file system at or above `disk_full_percent` (default 95) used (tag `path`);
/// - `disk_readonly`: a physical file system mounted read-only that was read-write at the previous gather (tag `path`);
/// - `oom`: a kernel "Out of memory: Killed process" line in the kernel log (`kmsg`, default `/dev/kmsg`, readable by
///   root; lines logged before the collector started are skipped);
/// - `corefile`: a new file in one of `corefile_dirs`.
/// Each point carries a `message` field and `value` (the used percent, the killed pid, or 1).
public struct ExceptionCollector: Collector {
    public static let name = "exceptions"
    public static let summary = "host exception events: disk_full, disk_readonly, oom kills (kernel log), new core files"

    let diskFullPercent: Double
    let kmsgPath: String
    let corefileDirs: [String]
    private var wasReadWrite: Set<String> = []
    private var firstGather = true
    private var kmsg: KernelLogReader?
    private var knownCores: [String: Set<String>] = [:]

    public init(options: CollectorOptions) throws(CollectorError) {
        var o = options
        diskFullPercent = try o.double("disk_full_percent", default: 95)
        guard diskFullPercent > 0 && diskFullPercent <= 100 else {
            throw CollectorError(Self.name, "disk_full_percent must be in (0, 100], not \(diskFullPercent)")
        }
        kmsgPath = try o.string("kmsg", default: "/dev/kmsg")
        corefileDirs = try o.strings("corefile_dirs", default: [])
        try o.finish()
    }

    public mutating func gather(_ context: GatherContext) throws(CollectorError) -> [Point] {
        var points: [Point] = []
        func event(_ type: String, _ tags: [String: String], _ message: String, _ value: Double) {
            var all = tags
            all["type"] = type
            points.append(Point(name: "host_exception", tags: Tags(all),
                                fields: Fields([("message", .string(message)), ("value", .double(value))]), time: context.time))
        }
        // Disks.
        var readWrite = Set<String>()
        for mount in (try? Mount.all(context.host)) ?? [] {
            if mount.options.contains("rw") { readWrite.insert(mount.path) }
            if mount.options.contains("ro"), wasReadWrite.contains(mount.path) {
                event("disk_readonly", ["path": mount.path], "\(mount.path) (\(mount.device)) became read-only", 1)
            }
            if let usage = context.host.usage(mount.path), usage.used + usage.free > 0 {
                let percent = 100 * Double(usage.used) / Double(usage.used + usage.free)
                if percent >= diskFullPercent {
                    event("disk_full", ["path": mount.path], "\(mount.path) is \(Int(percent.rounded()))% full", percent)
                }
            }
        }
        wasReadWrite = readWrite
        // Kernel log.
        if kmsg == nil { kmsg = KernelLogReader(path: kmsgPath) }
        if let lines = kmsg?.newLines(skipExisting: firstGather) {
            for line in lines {
                guard let range = line.firstRange(of: "Out of memory: Killed process ") ?? line.firstRange(of: "Killed process ") else { continue }
                let rest = line[range.upperBound...]
                let pid = Double(rest.prefix { $0.isNumber }) ?? 0
                event("oom", [:], String(line[range.lowerBound...]), pid)
            }
        } else if firstGather {
            context.logger.debug("exceptions: cannot read \(kmsgPath) (root only); no oom events")
        }
        // Core files.
        for dir in corefileDirs {
            let now = Set(context.host.entries(dir))
            if let before = knownCores[dir] {
                for name in now.subtracting(before).sorted() {
                    event("corefile", ["path": dir + "/" + name], "new core file \(dir)/\(name)", 1)
                }
            }
            knownCores[dir] = now
        }
        firstGather = false
        return points
    }
}

/// Reads the kernel log as it grows: `/dev/kmsg` record by record (non-blocking), or a plain file (a test's, or a
/// syslog copy) line by line from where it was.
final class KernelLogReader: @unchecked Sendable {
    let path: String
    private var fd: Int32 = -1
    private var isDevice = false
    private var offset: Int64 = 0
    private var partial: [UInt8] = []

    init?(path: String) {
        self.path = path
        fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        var info = stat()
        fstat(fd, &info)
        isDevice = (info.st_mode & S_IFMT) == S_IFCHR
    }

    deinit { if fd >= 0 { close(fd) } }

    /// The lines logged since the last call (`skipExisting`: none the first time, only the position is taken).
    func newLines(skipExisting: Bool) -> [String] {
        if skipExisting {
            offset = Int64(lseek(fd, 0, SEEK_END))
            return []
        }
        var lines: [String] = []
        var buffer = [UInt8](repeating: 0, count: 8192)
        var budget = 4096
        while budget > 0 {
            budget -= 1
            let n = isDevice
                ? buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
                : buffer.withUnsafeMutableBytes { pread(fd, $0.baseAddress, $0.count, off_t(offset)) }
            if n < 0 && errno == EPIPE { continue }  // kmsg: records overwritten before we read them
            if n <= 0 { break }
            if isDevice {
                // One record per read: "prio,seq,time,flags;message".
                let record = String(decoding: buffer[0..<n], as: UTF8.self)
                if let semicolon = record.firstIndex(of: ";") {
                    lines.append(String(record[record.index(after: semicolon)...].prefix { $0 != "\n" }))
                }
            } else {
                offset += Int64(n)
                partial += buffer[0..<n]
                while let newline = partial.firstIndex(of: UInt8(ascii: "\n")) {
                    lines.append(String(decoding: partial[..<newline], as: UTF8.self))
                    partial.removeSubrange(...newline)
                }
            }
        }
        return lines
    }
}
