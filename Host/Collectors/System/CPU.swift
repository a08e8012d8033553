import TockModel

/// Telegraf's `cpu` input: per CPU (`cpu=cpu0`) and for all of them (`cpu=cpu-total`), the share of each CPU state
/// over the interval since the last gather (`usage_*`, percent) and optionally the times themselves (`time_*`,
/// seconds since boot), from `/proc/stat`.
///
/// The first gather has no earlier reading and reports no `usage_*`, as Telegraf's.
public struct CPUCollector: Collector {
    public static let name = "cpu"
    public static let summary = "CPU usage per CPU and in total (usage_user, usage_system, usage_idle, …)"
    public static let needsTwoReadings = true

    let perCPU: Bool
    let totalCPU: Bool
    let collectCPUTime: Bool
    let reportActive: Bool
    let coreTags: Bool
    private var last: [String: CPUTimes] = [:]

    public init(options: CollectorOptions) throws(CollectorError) {
        var o = options
        perCPU = try o.bool("percpu", default: true)
        totalCPU = try o.bool("totalcpu", default: true)
        collectCPUTime = try o.bool("collect_cpu_time", default: false)
        reportActive = try o.bool("report_active", default: false)
        coreTags = try o.bool("core_tags", default: false)
        try o.finish()
    }

    public mutating func gather(_ context: GatherContext) throws(CollectorError) -> [Point] {
        let stat = try context.host.text(context.host.proc + "/stat")
        var readings: [CPUTimes] = []
        var total: CPUTimes?
        for line in stat.split(separator: "\n") where line.hasPrefix("cpu") {
            guard var times = CPUTimes(line, ticks: context.host.clockTicks) else { continue }
            if times.cpu == "cpu" {
                times.cpu = "cpu-total"
                total = times
            } else {
                readings.append(times)
            }
        }
        var selected = perCPU ? readings : []
        if totalCPU, let total { selected.append(total) }
        let cores = coreTags ? Self.coreIDs(context) : [:]

        var points: [Point] = []
        for times in selected {
            var tags = [("cpu", times.cpu)]
            if let ids = cores[times.cpu] {
                tags.append(("core_id", ids.core))
                tags.append(("physical_id", ids.physical))
            }
            if collectCPUTime {
                var fields: [(String, FieldValue)] = [
                    ("time_user", .double(times.user)), ("time_system", .double(times.system)),
                    ("time_idle", .double(times.idle)), ("time_nice", .double(times.nice)),
                    ("time_iowait", .double(times.iowait)), ("time_irq", .double(times.irq)),
                    ("time_softirq", .double(times.softirq)), ("time_steal", .double(times.steal)),
                    ("time_guest", .double(times.guest)), ("time_guest_nice", .double(times.guestNice)),
                ]
                if reportActive { fields.append(("time_active", .double(times.active))) }
                points.append(Point(name: "cpu", tags: Tags(tags), fields: Fields(fields), time: context.time))
            }
            guard let before = last[times.cpu] else { continue }
            let elapsed = times.total - before.total
            if elapsed < 0 {
                context.logger.warning("cpu: \(times.cpu)'s total CPU time went backwards (a CPU went offline?); usage skipped this time")
                continue
            }
            if elapsed == 0 { continue }
            let share = { (now: Double, then: Double) in FieldValue.double(100 * (now - then) / elapsed) }
            var fields: [(String, FieldValue)] = [
                // /proc/stat counts guest time in user (and guest_nice in nice) as well: Telegraf takes it out.
                ("usage_user", share(times.user - times.guest, before.user - before.guest)),
                ("usage_system", share(times.system, before.system)),
                ("usage_idle", share(times.idle, before.idle)),
                ("usage_nice", share(times.nice - times.guestNice, before.nice - before.guestNice)),
                ("usage_iowait", share(times.iowait, before.iowait)),
                ("usage_irq", share(times.irq, before.irq)),
                ("usage_softirq", share(times.softirq, before.softirq)),
                ("usage_steal", share(times.steal, before.steal)),
                ("usage_guest", share(times.guest, before.guest)),
                ("usage_guest_nice", share(times.guestNice, before.guestNice)),
            ]
            if reportActive { fields.append(("usage_active", share(times.active, before.active))) }
            points.append(Point(name: "cpu", tags: Tags(tags), fields: Fields(fields), time: context.time))
        }
        last = Dictionary((readings + (total.map { [$0] } ?? [])).map { ($0.cpu, $0) }, uniquingKeysWith: { $1 })
        return points
    }

    /// `cpuN` → its core and physical package, from `/proc/cpuinfo`.
    static func coreIDs(_ context: GatherContext) -> [String: (core: String, physical: String)] {
        guard let info = try? context.host.text(context.host.proc + "/cpuinfo") else {
            context.logger.debug("cpu: cannot read \(context.host.proc)/cpuinfo; no core_id/physical_id tags")
            return [:]
        }
        var result: [String: (core: String, physical: String)] = [:]
        for block in info.split(separator: "\n\n", omittingEmptySubsequences: true) {
            var values: [String: String] = [:]
            for line in block.split(separator: "\n") {
                let parts = line.split(separator: ":", maxSplits: 1)
                guard parts.count == 2 else { continue }
                values[parts[0].trimmingSpaces] = parts[1].trimmingSpaces
            }
            if let processor = values["processor"] {
                result["cpu" + processor] = (values["core id"] ?? "", values["physical id"] ?? "")
            }
        }
        return result
    }
}

/// One `cpu` line of `/proc/stat`, in seconds.
struct CPUTimes: Sendable, Hashable {
    var cpu: String
    var user = 0.0, nice = 0.0, system = 0.0, idle = 0.0, iowait = 0.0, irq = 0.0, softirq = 0.0, steal = 0.0
    var guest = 0.0, guestNice = 0.0

    init?(_ line: Substring, ticks: Double) {
        let words = line.words
        guard words.count >= 5 else { return nil }
        cpu = String(words[0])
        let v = words.dropFirst().map { (Double($0) ?? 0) / ticks }
        func at(_ i: Int) -> Double { i < v.count ? v[i] : 0 }
        user = at(0); nice = at(1); system = at(2); idle = at(3); iowait = at(4); irq = at(5); softirq = at(6)
        steal = at(7); guest = at(8); guestNice = at(9)
    }

    /// Telegraf's total: guest times are already inside user and nice.
    var total: Double { user + system + nice + iowait + irq + softirq + steal + idle }
    var active: Double { total - idle }
}

extension Substring {
    var trimmingSpaces: String {
        String(drop { $0 == " " || $0 == "\t" }.reversed().drop { $0 == " " || $0 == "\t" }.reversed())
    }
}
