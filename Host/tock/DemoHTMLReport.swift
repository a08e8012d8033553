import Foundation
import Report
import TockModel

/// The demo's HTML report: the day's three temperatures as a chart, each critical alert's 5-minute window shaded
/// in its field's panel, the planted anomalies marked, and the tables the text report prints. Made from what the
/// run collected (``PrinterReport/critical``, ``DemoAlert/covers(_:)``, ``PrinterSchedule``), nothing recomputed.
struct PrinterHTMLReport {
    var report: PrinterReport
    /// The replayed points (measurement `temperatures`).
    var points: [Point]
    var seed: Int
    var logDir: String

    static let fields: [(name: String, color: String)] = [("hotend", "#d62728"), ("bed", "#1f77b4"), ("air", "#2ca02c")]

    /// The chart: a panel per field over the day's 24 hours.
    var chart: TimeSeriesChart {
        let start = Double(PrinterSchedule.dayStart), end = start + 86_400
        var chart = TimeSeriesChart(panels: [], start: start, end: end)
        let plotWidth = Int(chart.timeScale.range.to - chart.timeScale.range.from)
        let times = points.map { Double($0.time) / Double(GoDuration.second) }
        for field in Self.fields {
            let values = points.map { $0.fields[field.name]?.numeric ?? .nan }
            let windows = report.critical.filter { $0.id == field.name }.map { alert in
                let end = Double(alert.time)
                return TimeSeriesChart.Span(start: end - Double(PrinterSchedule.window), end: end,
                                            label: "CRITICAL \(Self.window(alert)), p-value \(Self.pvalue(alert))")
            }
            let markers = PrinterSchedule.anomalies.filter { $0.field == field.name }.map {
                TimeSeriesChart.Span(start: start + Double($0.start), end: start + Double($0.end), label: "planted: " + $0.label)
            }
            chart.panels.append(TimeSeriesChart.Panel(
                title: field.name, unit: "°C", color: field.color,
                buckets: TimeSeriesChart.buckets(times: times, values: values, start: start, end: end, count: plotWidth),
                windows: windows, markers: markers))
        }
        return chart
    }

    func html(elapsed: TimeInterval) -> String {
        let critical = report.critical
        let chart = self.chart
        let bucketSeconds = Int((chart.end - chart.start) / Double(chart.panels.first?.buckets.count ?? 1))
        var page = HTMLPage(title: "Tock: the printer-temperature anomaly demo")
        page.blocks.append(.paragraph("""
            Seed \(seed): \(points.count) points of the measurement temperatures (one a second from 2016-01-01 00:00 UTC) \
            replayed through print_temps.tick, whose three @tTest() UDF processes run Welch's t-test on each 5-minute window \
            of hotend, bed and air against a rolling baseline of the last 3,600 accepted values, and alert CRITICAL when the \
            p-value is below 0.001. The run took \(String(format: "%.1f", elapsed)) s.
            """))
        page.blocks.append(.picture(svg: chart.svg(title: "Printer temperatures, 2016-01-01 (UTC)"), caption: """
            Each panel shows, for every \(bucketSeconds)-second slice of the day, the range of the values (band) and their \
            mean (line). Shaded red: the 5-minute windows of the \(critical.count) critical alerts, in their field's panel. \
            Dashed purple: the planted anomalies.
            """))
        page.blocks.append(.heading("Planted anomalies"))
        page.blocks.append(.table(header: ["field", "planted", "found"], rows: PrinterSchedule.anomalies.map { a in
            let hits = critical.filter { $0.covers(a) }.count
            return [a.field, a.label, hits > 0 ? "found (\(hits) window\(hits == 1 ? "" : "s"))" : "MISSED"]
        }, className: "anomalies"))
        page.blocks.append(.heading("Critical alerts"))
        page.blocks.append(.table(header: ["field", "window (UTC)", "p-value", "planted anomaly"], rows: critical.map { c in
            let anomaly = PrinterSchedule.anomalies.first { c.covers($0) }
            return [c.id, Self.window(c), Self.pvalue(c), anomaly?.label ?? "false positive"]
        }, className: "alerts"))
        let recoveries = report.alerts.filter { $0.level == "OK" }.count
        page.blocks.append(.paragraph("""
            \(recoveries) recovery event\(recoveries == 1 ? "" : "s") to OK not listed. The alert logs are in \(logDir).
            """))
        return page.render()
    }

    /// `1:00–1:05`: the alert's window, since the start of the day.
    static func window(_ alert: DemoAlert) -> String {
        let end = alert.time - PrinterSchedule.dayStart
        return PrinterReport.clock(end - PrinterSchedule.window).trimmingCharacters(in: .whitespaces) + "–"
            + PrinterReport.clock(end).trimmingCharacters(in: .whitespaces)
    }

    static func pvalue(_ alert: DemoAlert) -> String {
        alert.pvalue.map { String(format: "%.3g", $0) } ?? "?"
    }
}
