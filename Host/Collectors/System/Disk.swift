import TockModel

/// Telegraf's `disk` input: usage of every mounted physical file system (those `/proc/filesystems` does not mark
/// `nodev`), tagged `path`, `device`, `fstype` and `mode` (`rw`/`ro`).
public struct DiskCollector: Collector {
    public static let name = "disk"
    public static let summary = "file system usage per mount: total, free, used, used_percent, inodes_*"

    let mountPoints: [String]
    let ignoreFS: Set<String>
    let ignoreMountOptions: Set<String>

    public init(options: CollectorOptions) throws(CollectorError) {
        var o = options
        mountPoints = try o.strings("mount_points", default: [])
        ignoreFS = Set(try o.strings("ignore_fs", default: []))
        ignoreMountOptions = Set(try o.strings("ignore_mount_opts", default: []))
        try o.finish()
    }

    public mutating func gather(_ context: GatherContext) throws(CollectorError) -> [Point] {
        let host = context.host
        let mounts = try Mount.all(host)
        var points: [Point] = []
        var seen = Set<String>()
        for mount in mounts {
            guard !ignoreFS.contains(mount.fstype), ignoreMountOptions.isDisjoint(with: mount.options),
                  mountPoints.isEmpty || mountPoints.contains(mount.path), seen.insert(mount.path).inserted else { continue }
            guard let usage = host.usage(mount.path) else {
                context.logger.debug("disk: cannot statfs \(mount.path)")
                continue
            }
            if usage.total == 0 { continue }
            let mode = mount.options.contains("rw") ? "rw" : mount.options.contains("ro") ? "ro" : "unknown"
            let tags = Tags(["path": mount.path, "device": mount.device.replacingDevPrefix, "fstype": mount.fstype,
                             "mode": mode])
            let usedPercent = usage.used + usage.free > 0 ? 100 * Double(usage.used) / Double(usage.used + usage.free) : 0
            let inodesUsed = usage.inodesTotal >= usage.inodesFree ? usage.inodesTotal - usage.inodesFree : 0
            var fields: [(String, FieldValue)] = [
                ("total", .int(Int64(usage.total))), ("free", .int(Int64(usage.free))), ("used", .int(Int64(usage.used))),
                ("used_percent", .double(usedPercent)), ("inodes_total", .int(Int64(usage.inodesTotal))),
                ("inodes_free", .int(Int64(usage.inodesFree))), ("inodes_used", .int(Int64(inodesUsed))),
            ]
            if usage.inodesTotal > 0 {
                fields.append(("inodes_used_percent", .double(100 * Double(inodesUsed) / Double(usage.inodesTotal))))
            }
            points.append(Point(name: "disk", tags: tags, fields: Fields(fields), time: context.time))
        }
        return points
    }
}

/// One line of `/proc/self/mounts`, with the kernel's octal escapes (`\040` for a space) decoded.
struct Mount: Sendable, Hashable {
    var device: String
    var path: String
    var fstype: String
    var options: Set<String>

    /// The mounts of physical file systems: those whose type `/proc/filesystems` lists without `nodev`.
    static func all(_ host: HostFS) throws(CollectorError) -> [Mount] {
        let physical = Set((try? host.text(host.proc + "/filesystems"))?.split(separator: "\n")
            .filter { !$0.hasPrefix("nodev") }.compactMap { $0.words.first.map(String.init) } ?? [])
        var text = (try? host.text(host.proc + "/self/mounts")) ?? ""
        if text.isEmpty { text = try host.text(host.proc + "/mounts") }
        return text.split(separator: "\n").compactMap { line in
            let w = line.words
            guard w.count >= 4 else { return nil }
            let mount = Mount(device: unescape(w[0]), path: unescape(w[1]), fstype: String(w[2]),
                              options: Set(w[3].split(separator: ",").map(String.init)))
            guard mount.device != "none", physical.isEmpty || physical.contains(mount.fstype) else { return nil }
            return mount
        }
    }

    static func unescape(_ s: Substring) -> String {
        guard s.contains("\\") else { return String(s) }
        var out: [UInt8] = []
        let bytes = Array(s.utf8)
        var i = 0
        while i < bytes.count {
            if bytes[i] == UInt8(ascii: "\\"), i + 3 < bytes.count,
               let n = UInt8(String(decoding: bytes[(i + 1)...(i + 3)], as: UTF8.self), radix: 8) {
                out.append(n)
                i += 4
            } else {
                out.append(bytes[i])
                i += 1
            }
        }
        return String(decoding: out, as: UTF8.self)
    }
}

extension String {
    var replacingDevPrefix: String { hasPrefix("/dev/") ? String(dropFirst(5)) : self }
}

/// Telegraf's `diskio` input: per block device, the counters of `/proc/diskstats` (bytes from 512-byte sectors,
/// times in milliseconds), and from the second gather on, `io_await`, `io_svctm` and `io_util` over the interval.
public struct DiskIOCollector: Collector {
    public static let name = "diskio"
    public static let summary = "per device: reads, writes, read_bytes, write_bytes, io_time, io_util, …"

    let devices: [String]
    private var last: [String: DiskStats] = [:]
    private var lastTime: Timestamp = 0

    public init(options: CollectorOptions) throws(CollectorError) {
        var o = options
        devices = try o.strings("devices", default: [])
        _ = try o.bool("skip_serial_number", default: true)
        try o.finish()
    }

    public mutating func gather(_ context: GatherContext) throws(CollectorError) -> [Point] {
        let host = context.host
        var points: [Point] = []
        var current: [String: DiskStats] = [:]
        for line in try host.text(host.proc + "/diskstats").split(separator: "\n") {
            guard let stats = DiskStats(line) else { continue }
            guard devices.isEmpty || devices.contains(where: { Glob.matches($0, stats.name) }) else { continue }
            current[stats.name] = stats
            var tags = ["name": stats.name]
            for wwid in [host.sys + "/block/\(stats.name)/wwid", host.sys + "/block/\(stats.name)/device/wwid"] {
                if let text = try? host.text(wwid) {
                    tags["wwid"] = String(text.split(separator: "\n").first ?? "")
                    break
                }
            }
            var fields: [(String, FieldValue)] = [
                ("reads", .int(stats.reads)), ("writes", .int(stats.writes)),
                ("read_bytes", .int(stats.readSectors * 512)), ("write_bytes", .int(stats.writeSectors * 512)),
                ("read_time", .int(stats.readTime)), ("write_time", .int(stats.writeTime)), ("io_time", .int(stats.ioTime)),
                ("weighted_io_time", .int(stats.weightedIOTime)), ("iops_in_progress", .int(stats.inProgress)),
                ("merged_reads", .int(stats.mergedReads)), ("merged_writes", .int(stats.mergedWrites)),
            ]
            if let before = last[stats.name], stats.reads >= before.reads, stats.writes >= before.writes,
               stats.readTime >= before.readTime, stats.writeTime >= before.writeTime, stats.ioTime >= before.ioTime {
                let operations = Double(stats.reads - before.reads + stats.writes - before.writes)
                let busy = Double(stats.ioTime - before.ioTime)
                if operations > 0 {
                    fields.append(("io_await", .double(Double(stats.readTime - before.readTime + stats.writeTime - before.writeTime) / operations)))
                    fields.append(("io_svctm", .double(busy / operations)))
                }
                let intervalMillis = Double((context.time - lastTime) / 1_000_000)
                if intervalMillis > 0 { fields.append(("io_util", .double(100 * busy / intervalMillis))) }
            }
            points.append(Point(name: "diskio", tags: Tags(tags), fields: Fields(fields), time: context.time))
        }
        last = current
        lastTime = context.time
        return points
    }
}

/// One line of `/proc/diskstats`.
struct DiskStats: Sendable, Hashable {
    var name: String
    var reads: Int64, mergedReads: Int64, readSectors: Int64, readTime: Int64
    var writes: Int64, mergedWrites: Int64, writeSectors: Int64, writeTime: Int64
    var inProgress: Int64, ioTime: Int64, weightedIOTime: Int64

    init?(_ line: Substring) {
        let w = line.words
        guard w.count >= 14 else { return nil }
        let n = w.map { Int64($0) ?? 0 }
        name = String(w[2])
        reads = n[3]; mergedReads = n[4]; readSectors = n[5]; readTime = n[6]
        writes = n[7]; mergedWrites = n[8]; writeSectors = n[9]; writeTime = n[10]
        inProgress = n[11]; ioTime = n[12]; weightedIOTime = n[13]
    }
}
