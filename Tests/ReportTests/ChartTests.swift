import Foundation
import Report
import Testing

@Suite struct TimeSeriesChartSpecification {
    static let start = 1_451_606_400.0

    /// Two panels over an hour, one sample a second; the second panel has three alert windows and a marker.
    static func chart() -> TimeSeriesChart {
        let times = (0..<3_600).map { start + Double($0) }
        let a = TimeSeriesChart.buckets(times: times, values: times.map { _ in 20 }, start: start, end: start + 3_600, count: 60)
        let b = TimeSeriesChart.buckets(times: times, values: times.map { ($0 - start) / 100 }, start: start, end: start + 3_600, count: 60)
        return TimeSeriesChart(panels: [
            .init(title: "flat", unit: "°C", color: "#d62728", buckets: a),
            .init(title: "ramp <&>", color: "#1f77b4", buckets: b,
                  windows: [.init(start: start + 300, end: start + 600, label: "w1"),
                            .init(start: start + 600, end: start + 900, label: "w2 & more"),
                            .init(start: start + 3_300, end: start + 3_900, label: "runs past the end")],
                  markers: [.init(start: start + 1_200, end: start + 1_500, label: "planted <here>")]),
        ], start: start, end: start + 3_600)
    }

    @Test func bucketsHoldTheMinimumMaximumAndMeanOfTheirSamples() {
        let buckets = TimeSeriesChart.buckets(times: [0, 1, 2, 3, 9, 10, -1, 12], values: [4, 2, 6, .nan, 5, 99, 99, 99],
                                              start: 0, end: 12, count: 3)
        // [0,4): 4, 2, 6 (the NaN is skipped); [4,8): nothing; [8,12): 5, 99; 12 and -1 are outside.
        #expect(buckets.count == 2)
        #expect(buckets[0] == .init(start: 0, end: 4, minimum: 2, maximum: 6, mean: 4))
        #expect(buckets[1] == .init(start: 8, end: 12, minimum: 5, maximum: 99, mean: 52))
        #expect(TimeSeriesChart.buckets(times: [1], values: [1], start: 5, end: 5, count: 3).isEmpty)
    }

    @Test func everyAlertWindowIsOneShadedRectAndEveryMarkerOneOutline() {
        let svg = Self.chart().svg(title: "test")
        let xml = XMLCheck.read(svg)
        #expect(xml.isWellFormed, "\(xml.error ?? "")")
        #expect(xml.elements("rect", className: "alert-window").count == 3)
        #expect(xml.elements("rect", className: "marker").count == 1)
        #expect(xml.elements("g", className: "panel").count == 2)
        #expect(xml.elements("polyline", className: "mean").count == 2)
        #expect(xml.elements("polygon", className: "range").count == 2)
    }

    @Test func windowsSitAtTheirTimesAndAreClippedToThePlot() throws {
        let chart = Self.chart()
        let x = chart.timeScale
        let windows = XMLCheck.read(chart.svg()).elements("rect", className: "alert-window")
        let first = try #require(windows.first)
        #expect(abs(Double(first["x"]!)! - x(Self.start + 300)) < 0.006)
        #expect(abs(Double(first["width"]!)! - (x(Self.start + 600) - x(Self.start + 300))) < 0.02)
        // The last window runs 5 minutes past the chart's end: drawn up to the plot's right edge only.
        let last = try #require(windows.last)
        #expect(abs(Double(last["x"]!)! + Double(last["width"]!)! - x.range.to) < 0.02)
        // Panel 1's windows span its plot's height.
        let y = chart.valueScale(1)
        #expect(abs(Double(first["y"]!)! - y.range.to) < 0.01)
        #expect(abs(Double(first["height"]!)! - (y.range.from - y.range.to)) < 0.01)
    }

    @Test func valuesScaleIntoTheirPanelWithRoomForRoundTicks() {
        let chart = Self.chart()
        let ramp = chart.valueScale(1)
        // The ramp runs from 0 to 35.99: its axis from 0 to 40, the top of the panel's plot.
        #expect(ramp.domain.lower == 0 && ramp.domain.upper == 40)
        #expect(ramp(40) == ramp.range.to && ramp(0) == ramp.range.from)
        let flat = chart.valueScale(0)
        #expect(flat.domain.lower < 20 && flat.domain.upper > 20, "a constant series still gets an axis around it")
        #expect(flat.range.from < ramp.range.to, "panels are stacked, the first on top")
    }

    @Test func labelsAreEscaped() {
        let svg = Self.chart().svg(title: "a < b")
        #expect(svg.contains("ramp &lt;&amp;&gt;"))
        #expect(svg.contains("planted &lt;here&gt;"))
        #expect(svg.contains("<title>w2 &amp; more</title>"))
        #expect(!svg.contains("<here>"))
    }
}

@Suite struct HTMLPageSpecification {
    @Test func aPageIsSelfContainedAndEscapesItsText() {
        let chart = TimeSeriesChartSpecification.chart().svg()
        let page = HTMLPage(title: "R&D <report>", blocks: [
            .paragraph("x < y & z"), .list(["one", "<two>"]),
            .table(header: ["a", "b"], rows: [["1", "<2>"]], className: "t"),
            .picture(svg: chart, caption: "cap & tion"),
        ]).render()
        #expect(page.hasPrefix("<!DOCTYPE html>"))
        #expect(page.contains("<title>R&amp;D &lt;report&gt;</title>"))
        #expect(page.contains("<p>x &lt; y &amp; z</p>"))
        #expect(page.contains("<li>&lt;two&gt;</li>"))
        #expect(page.contains("<td>&lt;2&gt;</td>"))
        #expect(page.contains("<figcaption>cap &amp; tion</figcaption>"))
        #expect(page.contains(chart))
        // Nothing to fetch or run: the policy forbids it, and nothing asks.
        #expect(page.contains("default-src 'none'"))
        #expect(!page.contains("<script"))
        #expect(!page.contains("src="))
        #expect(!page.contains("href="))
        #expect(page.components(separatedBy: "://").count - 1 == page.components(separatedBy: "http://www.w3.org/2000/svg").count - 1,
                "the only URL is the SVG namespace")
    }
}
