@testable import tock
import Foundation
import Testing
import TockModel

/// `tock demo printer`'s HTML report, made from alerts and points built here: it draws what the run collected.
@Suite("tock demo printer: the HTML report")
struct DemoReportTests {
    static let day = PrinterSchedule.dayStart

    /// Kapacitor's alert JSON for `field` at `level`, its window ending `end` seconds into the day.
    static func alert(_ field: String, _ level: String, _ end: Int64, pvalue: Double = 1e-6) -> DemoAlert {
        let time = RFC3339Nano.format((day + end) * GoDuration.second)
        let json = """
            {"id":"\(field)","level":"\(level)","time":"\(time)","data":{"series":[{"name":"temperatures",\
            "columns":["time","pvalue","t"],"values":[["\(time)",\(pvalue),5.1]]}]}}
            """
        return DemoAlert(json: json)!
    }

    static func points() -> [Point] {
        (0..<86_402).map { s in
            Point(name: "temperatures", tags: [:],
                  fields: ["hotend": .double(220 + Double(s % 7) / 10), "bed": .double(90), "air": .double(70 + Double(s % 3))],
                  time: (day + Int64(s)) * GoDuration.second, database: "printer", retentionPolicy: "autogen")
        }
    }

    @Test("each critical alert is one shaded window in its field's panel; recoveries are not; each planted anomaly is marked")
    func windowsAndMarkers() throws {
        let alerts = [Self.alert("hotend", "CRITICAL", 3_900), Self.alert("hotend", "OK", 4_200),
                      Self.alert("bed", "CRITICAL", 29_100), Self.alert("bed", "CRITICAL", 29_400),
                      Self.alert("air", "CRITICAL", 68_700), Self.alert("air", "OK", 69_000)]
        let report = PrinterHTMLReport(report: PrinterReport(alerts: alerts), points: Self.points(), seed: 42, logDir: "/tmp/logs")
        let chart = report.chart
        #expect(chart.panels.map(\.title) == ["hotend", "bed", "air"])
        #expect(chart.panels.map(\.windows.count) == [1, 2, 1])
        #expect(chart.panels.map(\.markers.count) == [1, 1, 1])
        // The hotend window is the 5 minutes before the alert: 1:00–1:05.
        let hotend = try #require(chart.panels[0].windows.first)
        #expect(hotend.start == Double(Self.day + 3_600) && hotend.end == Double(Self.day + 3_900))
        #expect(chart.panels[2].markers[0].start == Double(Self.day + 43_200) && chart.panels[2].markers[0].end == Double(Self.day + 45_000))
        // The band spans each field's values.
        #expect(chart.panels[0].buckets.map(\.minimum).min() == 220)
        #expect(abs((chart.panels[0].buckets.map(\.maximum).max() ?? 0) - 220.6) < 1e-9)

        let html = report.html(elapsed: 1.5)
        #expect(html.components(separatedBy: "class=\"alert-window\"").count - 1 == 4)
        #expect(html.components(separatedBy: "class=\"marker\"").count - 1 == 3)
        #expect(html.contains("<td>hotend</td><td>1:00–1:05</td><td>1e-06</td><td>hotend goes bad at 1h for 5 minutes</td>"))
        #expect(html.contains("<td>air</td><td>19:00–19:05</td><td>1e-06</td><td>false positive</td>"))
        #expect(html.contains("<td>air</td><td>air goes really bad at 12h for 30 minutes</td><td>MISSED</td>"))
        #expect(html.contains("2 recovery events to OK"))
    }
}
