import BrowserTesting
import Foundation
import Report
import Testing

/// The pictures in a real browser: Debian's chromium, headless.
@Suite(.serialized, .enabled(if: HeadlessChromium.isInstalled, "chromium is not installed (apt-get install chromium): real-browser tests skipped"))
struct BrowserSpecification {
    func write(_ text: String, _ name: String) throws -> String {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("report-tests-\(getpid())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let file = dir.appendingPathComponent(name)
        try Data(text.utf8).write(to: file)
        return file.path
    }

    @Test func aPageWithAChartAndAGraphLoadsWithoutConsoleMessages() throws {
        let graph = try DOTGraph(parsing: DOTGraphSpecification.taskDOT)
        let page = HTMLPage(title: "browser <test>", blocks: [
            .paragraph("a & b"),
            .picture(svg: TimeSeriesChartSpecification.chart().svg(title: "chart"), caption: "the chart"),
            .picture(svg: graph.svg(), caption: "the graph"),
        ])
        let loaded = try HeadlessChromium.load(try write(page.render(), "page.html"))
        #expect(loaded.console.isEmpty, "console: \(loaded.console)")
        #expect(loaded.count("class=\"alert-window\"") == 3)
        #expect(loaded.count("class=\"marker\"") == 1)
        #expect(loaded.count("class=\"node\"") == 3)
        #expect(loaded.count("class=\"edge\"") == 2)
        #expect(loaded.dom.contains("<title>browser &lt;test&gt;</title>"))
    }

    @Test func theGraphAloneIsAnSVGDocumentTheBrowserReads() throws {
        let graph = try DOTGraph(parsing: DOTGraphSpecification.taskDOT)
        let loaded = try HeadlessChromium.load(try write(graph.svg(), "graph.svg"))
        #expect(!loaded.dom.contains("parsererror"), "\(loaded.dom)")
        #expect(loaded.console.isEmpty, "console: \(loaded.console)")
        #expect(loaded.count("class=\"node\"") == 3)
    }

    @Test func theBrowserCatchesWhatTheTestsLookFor() throws {
        // The checks above can fail: a fetch the policy refuses is a console message, a broken SVG a parser error.
        let fetching = HTMLPage(title: "t", blocks: [.picture(svg: "<img src=\"http://127.0.0.1:9/x.png\">", caption: "")])
        #expect(!(try HeadlessChromium.load(try write(fetching.render(), "fetching.html"))).console.isEmpty)
        let broken = try HeadlessChromium.load(try write("<svg xmlns=\"http://www.w3.org/2000/svg\"><text>a & b</text></svg>", "broken.svg"))
        #expect(broken.dom.contains("parsererror"))
    }
}
