import Foundation
import TockModel

/// The printer dataset's planted anomalies (as SampleUDFs/printer_data.py plants them), in seconds since the start of the day.
enum PrinterSchedule {
    struct Anomaly {
        var field: String
        var start: Int64
        var end: Int64
        var label: String
    }

    static let dayStart: Int64 = 1_451_606_400 // 2016-01-01T00:00:00Z
    static let window: Int64 = 300
    /// 5-minute windows in the day.
    static let windows = 288

    static let anomalies = [
        Anomaly(field: "hotend", start: 3_600, end: 3_900, label: "hotend goes bad at 1h for 5 minutes"),
        Anomaly(field: "bed", start: 28_800, end: 29_700, label: "bed goes bad at 8h for 15 minutes"),
        Anomaly(field: "air", start: 43_200, end: 45_000, label: "air goes really bad at 12h for 30 minutes"),
    ]
}

/// One alert of the demo, read back from Kapacitor's alert JSON.
struct DemoAlert {
    var id: String
    var level: String
    /// Seconds since the epoch: the window's end (the t-test emits at the batch's tmax).
    var time: Int64
    var pvalue: Double?

    init?(json: String) {
        guard let object = try? JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any],
              let id = object["id"] as? String, let level = object["level"] as? String,
              let timeText = object["time"] as? String, let time = RFC3339Nano.parse(timeText)
        else { return nil }
        self.id = id
        self.level = level
        self.time = time / GoDuration.second
        if let data = object["data"] as? [String: Any], let series = (data["series"] as? [[String: Any]])?.first,
           let columns = series["columns"] as? [String], let row = (series["values"] as? [[Any]])?.first,
           let i = columns.firstIndex(of: "pvalue"), i < row.count {
            pvalue = (row[i] as? NSNumber)?.doubleValue
        }
    }

    /// Whether the window [time − 5m, time) overlaps `anomaly`.
    func covers(_ anomaly: PrinterSchedule.Anomaly) -> Bool {
        let end = time - PrinterSchedule.dayStart
        return id == anomaly.field && end > anomaly.start && end - PrinterSchedule.window < anomaly.end
    }
}

/// Collects alerts and shows progress while the task runs; called from the task's threads.
final class DemoProgress: @unchecked Sendable {
    private let lock = NSLock()
    private var collected: [DemoAlert] = []
    private var lastShown = -1
    private let total: Int
    private let interactive = isatty(STDERR_FILENO) != 0

    init(total: Int) {
        self.total = total
    }

    var alerts: [DemoAlert] { lock.withLock { collected } }

    func alert(_ json: String) {
        guard let alert = DemoAlert(json: json) else { return }
        lock.withLock { collected.append(alert) }
    }

    /// Shows `done` of `total` units replayed (non-interactive: every quarter).
    func show(_ done: Int) {
        let percent = min(100, done * 100 / max(total, 1))
        let alerts = lock.withLock { collected.count }
        let step = interactive ? percent : percent / 25 * 25
        let changed: Bool = lock.withLock {
            defer { lastShown = step }
            return step != lastShown
        }
        guard changed else { return }
        let bar = String(repeating: "#", count: percent / 5).padding(toLength: 20, withPad: ".", startingAt: 0)
        let text = "[\(bar)] \(percent)% of the day replayed, \(alerts) alert event\(alerts == 1 ? "" : "s")"
        Stderr.write(interactive ? "\r" + text : text + "\n")
    }

    func finish() {
        if interactive { Stderr.write("\n") }
    }
}

/// What the demo prints at the end.
struct PrinterReport {
    var alerts: [DemoAlert]

    var critical: [DemoAlert] { alerts.filter { $0.level == "CRITICAL" }.sorted { ($0.time, $0.id) < ($1.time, $1.id) } }

    var missed: [PrinterSchedule.Anomaly] {
        PrinterSchedule.anomalies.filter { a in !critical.contains { $0.covers(a) } }
    }

    func render(logDir: String, points: Int, elapsed: TimeInterval) -> String {
        var out = "\nCRITICAL alerts (window of 5 minutes ending at the time shown, since 2016-01-01 00:00 UTC):\n"
        out += "  field    window           pvalue\n"
        for a in critical {
            let end = a.time - PrinterSchedule.dayStart
            out += "  " + a.id.padding(toLength: 8, withPad: " ", startingAt: 0)
            out += " " + Self.clock(end - PrinterSchedule.window) + "–" + Self.clock(end)
            out += "  " + (a.pvalue.map { String(format: "%.3g", $0) } ?? "?") + "\n"
        }
        let recoveries = alerts.filter { $0.level == "OK" }.count
        out += "  (\(recoveries) recovery event\(recoveries == 1 ? "" : "s") to OK not shown)\n\nplanted anomalies:\n"
        for a in PrinterSchedule.anomalies {
            let hits = critical.filter { $0.covers(a) }.count
            out += hits > 0 ? "  found   " : "  MISSED  "
            out += a.label + (hits > 0 ? " (\(hits) window\(hits == 1 ? "" : "s"))" : "") + "\n"
        }
        let others = critical.filter { c in !PrinterSchedule.anomalies.contains { c.covers($0) } }.count
        out += "other critical windows (false positives): \(others)\n"
        out += String(format: "%d points, 3 UDF processes, %.1f s; alert logs in %@\n", points, elapsed, logDir)
        return out
    }

    /// `h:mm` since the start of the day.
    static func clock(_ seconds: Int64) -> String {
        String(format: "%2d:%02d", seconds / 3600, seconds % 3600 / 60)
    }
}
