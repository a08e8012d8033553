/// A chart of one or more series over time, one panel per series stacked over a shared time axis, with time
/// windows shaded (alerts) and time ranges marked (known events), rendered as a standalone SVG document.
///
/// Series are drawn from ``Bucket``s, not raw samples: a day at one point a second is 86,400 samples, far more
/// than the pixels across, so each bucket shows the range of its samples as a band and their mean as a line.
/// ``buckets(times:values:start:end:count:)`` makes them.
public struct TimeSeriesChart: Sendable, Hashable {
    /// The summary of the samples that fall in `[start, end)`.
    public struct Bucket: Sendable, Hashable {
        /// Seconds since the epoch.
        public var start: Double
        /// Seconds since the epoch (excluded).
        public var end: Double
        public var minimum: Double
        public var maximum: Double
        public var mean: Double

        public init(start: Double, end: Double, minimum: Double, maximum: Double, mean: Double) {
            self.start = start
            self.end = end
            self.minimum = minimum
            self.maximum = maximum
            self.mean = mean
        }
    }

    /// A time range drawn over a panel: an alert window (shaded) or a marked event (outlined and labelled).
    public struct Span: Sendable, Hashable {
        /// Seconds since the epoch.
        public var start: Double
        public var end: Double
        /// Shown as the span's tooltip (`<title>`), and for a marker also as its label.
        public var label: String

        public init(start: Double, end: Double, label: String) {
            self.start = start
            self.end = end
            self.label = label
        }
    }

    /// One series in its own panel, with its own value axis.
    public struct Panel: Sendable, Hashable {
        /// The series' name, shown at the panel's top right.
        public var title: String
        /// Appended to the value axis' labels (`°C`).
        public var unit: String
        /// A CSS colour for the series (`#d62728`).
        public var color: String
        public var buckets: [Bucket]
        /// Shaded: each becomes one `rect` of class `alert-window`.
        public var windows: [Span]
        /// Outlined and labelled: each becomes one `rect` of class `marker`.
        public var markers: [Span]

        public init(title: String, unit: String = "", color: String, buckets: [Bucket], windows: [Span] = [], markers: [Span] = []) {
            self.title = title
            self.unit = unit
            self.color = color
            self.buckets = buckets
            self.windows = windows
            self.markers = markers
        }
    }

    /// Top to bottom.
    public var panels: [Panel]
    /// The time axis, seconds since the epoch.
    public var start: Double
    public var end: Double
    /// The document's width in pixels.
    public var width: Double = 960
    /// Each panel's plot height in pixels.
    public var panelHeight: Double = 160

    public init(panels: [Panel], start: Double, end: Double) {
        self.panels = panels
        self.start = start
        self.end = end
    }

    // Room around the plots for the axes' labels.
    static let left = 64.0, right = 16.0, top = 28.0, gap = 44.0, bottom = 36.0

    /// The document's height in pixels.
    public var height: Double {
        Self.top + Double(panels.count) * (panelHeight + Self.gap) - Self.gap + Self.bottom
    }

    /// The horizontal scale: time to pixels.
    public var timeScale: LinearScale {
        LinearScale(domain: (start, end), range: (Self.left, width - Self.right))
    }

    /// The vertical scale of panel `index`: its values (the bands and the means) to pixels, widened to round ticks.
    public func valueScale(_ index: Int) -> LinearScale {
        let buckets = panels[index].buckets
        let lower = buckets.map(\.minimum).min() ?? 0, upper = buckets.map(\.maximum).max() ?? 1
        let top = Self.top + Double(index) * (panelHeight + Self.gap)
        return LinearScale(domain: (lower, upper), range: (top + panelHeight, top)).nice(count: 4)
    }

    /// The chart as an SVG document (`<svg xmlns=…>…</svg>`), also fit to be inlined in HTML.
    public func svg(title: String = "") -> String {
        let x = timeScale
        var out = "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"time-series-chart\" width=\"\(SVG.number(width))\""
        out += " height=\"\(SVG.number(height))\" viewBox=\"0 0 \(SVG.number(width)) \(SVG.number(height))\""
        out += " font-family=\"sans-serif\" font-size=\"11\" role=\"img\">\n"
        if !title.isEmpty { out += "<title>\(SVG.escape(title))</title>\n" }
        for index in panels.indices {
            out += panelSVG(index, x: x)
        }
        out += timeAxisSVG(x: x)
        out += "</svg>\n"
        return out
    }

    private func panelSVG(_ index: Int, x: LinearScale) -> String {
        let panel = panels[index]
        let y = valueScale(index)
        let top = y.range.to, bottom = y.range.from
        let left = x.range.from, right = x.range.to
        func clampX(_ t: Double) -> Double { Swift.min(right, Swift.max(left, x(t))) }
        var out = "<g class=\"panel\" data-series=\"\(SVG.escape(panel.title))\">\n"
        out += SVG.text(panel.title + (panel.unit.isEmpty ? "" : " (\(panel.unit))"), x: right, y: top - 8, anchor: "end", className: "panel-title",
                        attributes: "font-weight=\"bold\"")
        out += "\n<rect class=\"plot\" x=\"\(SVG.number(left))\" y=\"\(SVG.number(top))\" width=\"\(SVG.number(right - left))\""
        out += " height=\"\(SVG.number(bottom - top))\" fill=\"#fafafa\" stroke=\"#ccc\"/>\n"
        // Value grid and labels.
        for tick in y.ticks(count: 4) {
            let ty = y(tick)
            out += "<line class=\"grid\" x1=\"\(SVG.number(left))\" x2=\"\(SVG.number(right))\" y1=\"\(SVG.number(ty))\" y2=\"\(SVG.number(ty))\" stroke=\"#e4e4e4\"/>"
            out += SVG.text(Self.valueLabel(tick), x: left - 6, y: ty + 4, anchor: "end") + "\n"
        }
        for tick in TimeTicks(from: start, to: end).times {
            let tx = SVG.number(x(tick))
            out += "<line class=\"grid\" x1=\"\(tx)\" x2=\"\(tx)\" y1=\"\(SVG.number(top))\" y2=\"\(SVG.number(bottom))\" stroke=\"#e4e4e4\"/>\n"
        }
        // Alert windows, under the data.
        for window in panel.windows {
            let x0 = clampX(window.start), x1 = clampX(window.end)
            out += "<rect class=\"alert-window\" x=\"\(SVG.number(x0))\" y=\"\(SVG.number(top))\" width=\"\(SVG.number(Swift.max(0, x1 - x0)))\""
            out += " height=\"\(SVG.number(bottom - top))\" fill=\"#e8302a\" fill-opacity=\"0.22\">"
            out += "<title>\(SVG.escape(window.label))</title></rect>\n"
        }
        // The series: the range of each bucket as a band, the means as a line.
        if !panel.buckets.isEmpty {
            let upper = panel.buckets.map { (x: x(($0.start + $0.end) / 2), y: y($0.maximum)) }
            let lower = panel.buckets.reversed().map { (x: x(($0.start + $0.end) / 2), y: y($0.minimum)) }
            out += "<polygon class=\"range\" points=\"\(SVG.points(upper + lower))\" fill=\"\(SVG.escape(panel.color))\" fill-opacity=\"0.25\" stroke=\"none\"/>\n"
            let means = panel.buckets.map { (x: x(($0.start + $0.end) / 2), y: y($0.mean)) }
            out += "<polyline class=\"mean\" points=\"\(SVG.points(means))\" fill=\"none\" stroke=\"\(SVG.escape(panel.color))\" stroke-width=\"1.2\"/>\n"
        }
        // Marked events, over the data, labelled above the plot's top edge.
        for marker in panel.markers {
            let x0 = clampX(marker.start), x1 = clampX(marker.end)
            out += "<rect class=\"marker\" x=\"\(SVG.number(x0))\" y=\"\(SVG.number(top))\" width=\"\(SVG.number(Swift.max(0, x1 - x0)))\""
            out += " height=\"\(SVG.number(bottom - top))\" fill=\"none\" stroke=\"#6a3d9a\" stroke-width=\"1.5\" stroke-dasharray=\"4 2\">"
            out += "<title>\(SVG.escape(marker.label))</title></rect>\n"
            out += "<path class=\"marker-flag\" d=\"M\(SVG.number(x0)),\(SVG.number(top)) l-4,-7 h8 z\" fill=\"#6a3d9a\"/>"
            let anchor = x0 > (left + right) / 2 ? "end" : "start"
            out += SVG.text(marker.label, x: anchor == "end" ? x0 - 6 : x0 + 6, y: top - 8, anchor: anchor, className: "marker-label",
                        attributes: "fill=\"#6a3d9a\"")
            out += "\n"
        }
        out += "</g>\n"
        return out
    }

    private func timeAxisSVG(x: LinearScale) -> String {
        let y = height - Self.bottom + 16
        var out = "<g class=\"time-axis\">\n"
        for tick in TimeTicks(from: start, to: end).times {
            out += SVG.text(TimeTicks.label(tick, start: start), x: x(tick), y: y, anchor: "middle") + "\n"
        }
        out += SVG.text("time (UTC)", x: (x.range.from + x.range.to) / 2, y: y + 16, anchor: "middle") + "\n"
        out += "</g>\n"
        return out
    }

    /// A value axis label: whole numbers without decimals, others with up to two.
    static func valueLabel(_ value: Double) -> String {
        SVG.number(value, decimals: 2)
    }

    /// Summarises samples into `count` equal buckets over `[start, end)`: the minimum, maximum and mean of the
    /// samples in each. Buckets without samples are left out (the line then joins its neighbours); samples
    /// outside `[start, end)` and values that are not finite are ignored.
    public static func buckets(times: [Double], values: [Double], start: Double, end: Double, count: Int) -> [Bucket] {
        guard count > 0, end > start else { return [] }
        let width = (end - start) / Double(count)
        var minimum = [Double](repeating: .infinity, count: count)
        var maximum = [Double](repeating: -.infinity, count: count)
        var sum = [Double](repeating: 0, count: count)
        var n = [Int](repeating: 0, count: count)
        for (t, v) in zip(times, values) where t >= start && t < end && v.isFinite {
            let i = Swift.min(count - 1, Int((t - start) / width))
            minimum[i] = Swift.min(minimum[i], v)
            maximum[i] = Swift.max(maximum[i], v)
            sum[i] += v
            n[i] += 1
        }
        var buckets: [Bucket] = []
        for i in 0..<count where n[i] > 0 {
            let from: Double = start + Double(i) * width
            let to: Double = start + Double(i + 1) * width
            let mean: Double = sum[i] / Double(n[i])
            buckets.append(Bucket(start: from, end: to, minimum: minimum[i], maximum: maximum[i], mean: mean))
        }
        return buckets
    }
}
