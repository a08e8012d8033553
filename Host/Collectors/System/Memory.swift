import TockModel

/// `/proc/meminfo` as numbers: the `kB` lines in bytes, the page counts (`HugePages_*`) as they are.
struct MemInfo {
    var values: [String: Int64] = [:]

    init(_ text: String) {
        for line in text.split(separator: "\n") {
            let parts = line.split(separator: ":", maxSplits: 1)
            guard parts.count == 2 else { continue }
            let words = parts[1].words
            guard let first = words.first, let n = Int64(first) else { continue }
            values[String(parts[0])] = words.count > 1 && words[1] == "kB" ? n * 1024 : n
        }
    }

    subscript(key: String) -> Int64 { values[key] ?? 0 }
}

/// Telegraf's `mem` input on Linux: `/proc/meminfo` with gopsutil's arithmetic (`cached` includes `SReclaimable`;
/// `used` = total − free − buffers − cached; `available` from `MemAvailable`, or free + cached on kernels without it).
public struct MemCollector: Collector {
    public static let name = "mem"
    public static let summary = "memory: total, available, used, used_percent, cached, buffered, … (bytes)"

    public init(options: CollectorOptions) throws(CollectorError) {
        try options.finish()
    }

    public mutating func gather(_ context: GatherContext) throws(CollectorError) -> [Point] {
        let m = MemInfo(try context.host.text(context.host.proc + "/meminfo"))
        let total = m["MemTotal"], free = m["MemFree"], buffers = m["Buffers"]
        let cached = m["Cached"] + m["SReclaimable"]
        let available = m.values["MemAvailable"] ?? (free + cached)
        let used = total - free - buffers - cached
        let percent = { (part: Int64) in FieldValue.double(total == 0 ? 0 : 100 * Double(part) / Double(total)) }
        let fields: [(String, FieldValue)] = [
            ("total", .int(total)), ("available", .int(available)), ("used", .int(used)),
            ("used_percent", percent(used)), ("available_percent", percent(available)),
            ("active", .int(m["Active"])), ("buffered", .int(buffers)), ("cached", .int(cached)),
            ("commit_limit", .int(m["CommitLimit"])), ("committed_as", .int(m["Committed_AS"])),
            ("dirty", .int(m["Dirty"])), ("free", .int(free)),
            ("high_free", .int(m["HighFree"])), ("high_total", .int(m["HighTotal"])),
            ("huge_pages_free", .int(m["HugePages_Free"])), ("huge_page_size", .int(m["Hugepagesize"])),
            ("huge_pages_total", .int(m["HugePages_Total"])), ("inactive", .int(m["Inactive"])),
            ("low_free", .int(m["LowFree"])), ("low_total", .int(m["LowTotal"])), ("mapped", .int(m["Mapped"])),
            ("page_tables", .int(m["PageTables"])), ("shared", .int(m["Shmem"])), ("slab", .int(m["Slab"])),
            ("sreclaimable", .int(m["SReclaimable"])), ("sunreclaim", .int(m["SUnreclaim"])),
            ("swap_cached", .int(m["SwapCached"])), ("swap_free", .int(m["SwapFree"])),
            ("swap_total", .int(m["SwapTotal"])), ("vmalloc_chunk", .int(m["VmallocChunk"])),
            ("vmalloc_total", .int(m["VmallocTotal"])), ("vmalloc_used", .int(m["VmallocUsed"])),
            ("write_back_tmp", .int(m["WritebackTmp"])), ("write_back", .int(m["Writeback"])),
        ]
        return [Point(name: "mem", fields: Fields(fields), time: context.time)]
    }
}

/// Telegraf's `swap` input: sizes from `/proc/meminfo` (one point) and the bytes swapped in and out since boot from
/// `/proc/vmstat` (a second point, as Telegraf's gauge and counter are two).
public struct SwapCollector: Collector {
    public static let name = "swap"
    public static let summary = "swap: total, used, free, used_percent; in, out (bytes since boot)"

    public init(options: CollectorOptions) throws(CollectorError) {
        try options.finish()
    }

    public mutating func gather(_ context: GatherContext) throws(CollectorError) -> [Point] {
        let m = MemInfo(try context.host.text(context.host.proc + "/meminfo"))
        let total = m["SwapTotal"], free = m["SwapFree"], used = total - free
        var points = [Point(name: "swap", fields: Fields([
            ("total", .int(total)), ("used", .int(used)), ("free", .int(free)),
            ("used_percent", .double(total == 0 ? 0 : 100 * Double(used) / Double(total))),
        ]), time: context.time)]
        if let vmstat = try? context.host.text(context.host.proc + "/vmstat") {
            var pages: [Substring: Int64] = [:]
            for line in vmstat.split(separator: "\n") {
                let w = line.words
                if w.count >= 2, w[0] == "pswpin" || w[0] == "pswpout" { pages[w[0]] = Int64(w[1]) ?? 0 }
            }
            points.append(Point(name: "swap", fields: Fields([
                ("in", .int((pages["pswpin"] ?? 0) * context.host.pageSize)),
                ("out", .int((pages["pswpout"] ?? 0) * context.host.pageSize)),
            ]), time: context.time))
        } else {
            context.logger.debug("swap: cannot read \(context.host.proc)/vmstat; no in/out")
        }
        return points
    }
}
