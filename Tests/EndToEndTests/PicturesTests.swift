import BrowserTesting
import Foundation
import Testing

/// Issue 13's pictures through the built `tock`: the printer demo's HTML report and the pipeline graph as SVG
/// (`show --svg`, `show-graph --svg`), each opened in a real browser (Debian's chromium, headless) when it is there.
@Suite("Pictures: the demo's report and the graph as SVG", .serialized)
struct PicturesTests {
    static let browser = HeadlessChromium.isInstalled

    func directory() throws -> String {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("tock-pictures-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        return dir
    }

    /// The DOM's text from each `<g class="panel"` to the next: one entry a panel.
    static func panels(_ dom: String) -> [String] { Array(dom.components(separatedBy: "<g class=\"panel\"").dropFirst()) }

    @Test("tock demo printer writes a self-contained report: the chart shades each critical window, marks the planted anomalies")
    func demoReport() throws {
        let dir = try directory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let report = dir + "/day.html"
        let run = try TockBinary.run(["demo", "printer", "--report", report, "--log-dir", dir])
        #expect(run.status == 0, "stderr:\n\(run.stderr)")
        #expect(run.stdout.contains("report: \(report)\n"), "the path is printed:\n\(run.stdout)")
        let html = try String(contentsOfFile: report, encoding: .utf8)
        // Every critical window of seed 42 (PrinterDemoSpecification) is one shaded rectangle, in its field's panel.
        let expected = PrinterDemoSpecification.expectedCritical
        let panels = Self.panels(html)
        #expect(panels.count == 3)
        for (panel, field) in zip(panels, ["hotend", "bed", "air"]) {
            #expect(panel.hasPrefix(" data-series=\"\(field)\""))
            #expect(panel.components(separatedBy: "class=\"alert-window\"").count - 1 == expected.filter { $0.hasPrefix(field + " ") }.count,
                    "\(field)'s shaded windows")
            #expect(panel.components(separatedBy: "class=\"marker\"").count - 1 == 1, "\(field)'s planted anomaly")
        }
        #expect(html.contains("<td>hotend</td><td>1:00–1:05</td>"))
        #expect(html.contains("false positive"))
        #expect(!html.contains("<script") && !html.contains("src="))

        guard Self.browser else {
            print("chromium is not installed (apt-get install chromium): the report was not opened in a browser")
            return
        }
        let page = try HeadlessChromium.load(report)
        #expect(page.console.isEmpty, "console messages: \(page.console)")
        #expect(page.count("class=\"alert-window\"") == expected.count)
        #expect(page.count("class=\"marker\"") == 3)
        #expect(page.count("class=\"mean\"") == 3)
    }

    static let branching = """
        var data = stream
            |from()
                .measurement('cpu')
        data
            |window()
                .period(1m)
                .every(1m)
            |mean('usage')
            |alert()
                .crit(lambda: "mean" > 90)
        data
            |httpOut('raw')

        """

    @Test("tock show-graph --svg draws a script's graph: a box per node, a path per edge")
    func showGraphSVG() throws {
        let dir = try directory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let tick = try file("branching.tick", Self.branching, in: dir)
        let dot = try TockBinary.run(["show-graph", tick])
        let svg = try TockBinary.run(["show-graph", "--svg", tick])
        #expect(svg.status == 0, "stderr:\n\(svg.stderr)")
        let edges = dot.stdout.split(separator: "\n").filter { $0.contains(" -> ") }
        let nodes = Set(edges.flatMap { $0.replacingOccurrences(of: ";", with: "").components(separatedBy: " -> ") })
        #expect(nodes.count == 6 && edges.count == 5, "stream, from, window, mean, alert, httpOut:\n\(dot.stdout)")
        #expect(svg.stdout.hasPrefix("<svg xmlns=\"http://www.w3.org/2000/svg\""))
        #expect(svg.stdout.components(separatedBy: "<g class=\"node\"").count - 1 == nodes.count)
        #expect(svg.stdout.components(separatedBy: "<path class=\"edge\"").count - 1 == edges.count)
        for node in nodes { #expect(svg.stdout.contains("data-id=\"\(node)\"")) }

        // The printer task: its @tTest() UDFs come from the sample configuration.
        let printer = try TockBinary.run(["show-graph", "--svg", "--config", "SampleUDFs/printer/tock.conf",
                                          "SampleUDFs/printer/print_temps.tick"])
        #expect(printer.status == 0, "stderr:\n\(printer.stderr)")
        #expect(printer.stdout.components(separatedBy: "<g class=\"node\"").count - 1 == 9, "stream, from, window, 3 × (tTest, alert)")
        #expect(printer.stdout.components(separatedBy: "<path class=\"edge\"").count - 1 == 8)
        for id in ["window2", "tTest3", "alert4", "tTest7", "alert8"] { #expect(printer.stdout.contains("data-id=\"\(id)\"")) }

        guard Self.browser else { return }
        let path = try file("graph.svg", svg.stdout, in: dir)
        let page = try HeadlessChromium.load(path)
        #expect(!page.dom.contains("parsererror"), "\(page.dom)")
        #expect(page.count("class=\"node\"") == nodes.count)
    }

    @Test("tock show TASK --svg draws the running task's graph with its counters and edge counts")
    func showTaskSVG() async throws {
        let dir = try directory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let daemon = try await DaemonProcess(dataDirectory: dir)
        defer { daemon.stop() }
        let tick = try file("t.tick", "stream\n    |from()\n        .measurement('cpu')\n    |alert()\n        .crit(lambda: \"value\" > 1)\n", in: dir)
        ok(try daemon.cli(["define", "cpu_a", "-tick", tick, "-dbrp", "db.rp"]), "define")
        ok(try daemon.cli(["enable", "cpu_a"]), "enable")
        #expect(try await daemon.write("cpu value=1 1\ncpu value=2 2\ncpu value=3 3\n", db: "db", rp: "rp") == 204)
        try await DaemonProcess.waitUntil("the task processed the points") {
            try daemon.cli(["show", "cpu_a"]).stdout.components(separatedBy: "processed=\"3\"").count - 1 == 2
        }
        let svg = ok(try daemon.cli(["show", "cpu_a", "--svg"]), "show --svg")
        #expect(svg.hasPrefix("<svg "))
        #expect(svg.components(separatedBy: "<g class=\"node\"").count - 1 == 3)
        // The alert node received the 3 points and triggered on 2 and 3; each edge carried 3.
        #expect(svg.contains(">in: 3</text>") && svg.contains(">crits_triggered: 2</text>"), "the alert node's counters:\n\(svg)")
        #expect(svg.components(separatedBy: "class=\"edge-label\" fill=\"#333\">3</text>").count - 1 == 2,
                "the edges' processed counts:\n\(svg)")
        // Kapacitor's single-dash spelling works too; a template's graph draws without counters.
        let dashed = ok(try daemon.cli(["show", "-svg", "cpu_a"]), "show -svg")
        #expect(dashed.components(separatedBy: "<g class=\"node\"").count - 1 == 3)
        ok(try daemon.cli(["define-template", "tpl", "-tick", tick, "-type", "stream"]), "define-template")
        let template = ok(try daemon.cli(["show-template", "tpl", "--svg"]), "show-template --svg")
        #expect(template.components(separatedBy: "<g class=\"node\"").count - 1 == 3)
        #expect(!template.contains("errors:"))

        guard Self.browser else { return }
        let page = try HeadlessChromium.load(try file("task.svg", svg, in: dir))
        #expect(!page.dom.contains("parsererror"), "\(page.dom)")
        #expect(page.count("class=\"node\"") == 3)
    }
}
