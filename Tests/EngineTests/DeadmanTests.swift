import Foundation
import Testing
import TICKScript
import TockModel
@testable import Engine

@Suite("deadman (Kapacitor pipeline/node.go Deadman, stats.go, services/deadman)")
struct DeadmanTests {
    static func graph(_ script: String, sections: ConfigSections = ConfigSections()) throws -> String {
        var builder = TaskBuilder(taskID: "t")
        builder.configSections = sections
        return try builder.build(try Program.parse(script)).dot(name: "t")
    }

    static var global: ConfigSections {
        var s = ConfigSections()
        s.deadman.global = true
        s.deadman.threshold = 5
        s.deadman.interval = 60 * GoDuration.second
        return s
    }

    @Test("the graph is Kapacitor's: stats is a source, a childless watched node gets a noop", arguments: [
        ("stream|from().measurement('cpu')|deadman(100.0, 10s)",
         "stream0 -> from1;\nfrom1 -> noop3;\nstats2 -> derivative4;\nderivative4 -> alert5;\n", false),
        ("var data = stream|from()\ndata|deadman(1.0, 10s)\ndata|window().period(1m)",
         "stream0 -> from1;\nfrom1 -> noop3;\nfrom1 -> window6;\nstats2 -> derivative4;\nderivative4 -> alert5;\n", false),
        ("var data = stream|from()\ndata|httpOut('x')\ndata|deadman(1.0, 10s)",
         "stream0 -> from1;\nfrom1 -> httpOut2;\nstats3 -> derivative4;\nderivative4 -> alert5;\n", false),
        ("stream|from()|window().period(10s).every(10s)|deadman(1.0, 1m)",
         "stream0 -> from1;\nfrom1 -> window2;\nwindow2 -> noop4;\nstats3 -> derivative5;\nderivative5 -> alert6;\n", false),
        ("stream|from()|stats(10s)|httpOut('s')",
         "stream0 -> from1;\nfrom1 -> noop3;\nstats2 -> httpOut4;\n", false),
        // [deadman] global = true: a deadman on the stream source after the script, as CreatePipeline adds it.
        ("stream|from().measurement('cpu')|httpOut('x')",
         "stream0 -> from1;\nfrom1 -> httpOut2;\nstats3 -> derivative4;\nderivative4 -> alert5;\n", true),
    ])
    func graphs(script: String, edges: String, global: Bool) throws {
        #expect(try Self.graph(script, sections: global ? Self.global : ConfigSections()) == "digraph t {\n" + edges + "}\n")
    }

    @Test("NODE_NAME and INTERVAL are replaced once in the [deadman] id and message, as strings.Replace(…, 1)")
    func replacements() {
        #expect(BuildState.replacingFirst("NODE_NAME", in: "NODE_NAME/NODE_NAME", with: "from1") == "from1/NODE_NAME")
        #expect(BuildState.replacingFirst("INTERVAL", in: DeadmanConfig.defaultMessage, with: "1m0s")
            == "{{ .ID }} is {{ if eq .Level \"OK\" }}alive{{ else }}dead{{ end }}: {{ index .Fields \"emitted\" | printf \"%0.3f\" }} points/1m0s.")
        #expect(DeadmanConfig().interval == 10 * GoDuration.second && DeadmanConfig().threshold == 0 && !DeadmanConfig().global)
    }

    @Test("define errors say line:column", arguments: [
        ("stream|from()|deadman()", "deadman() takes at least 2 arguments, got 0", 1, 14),
        ("stream|from()|deadman('x', 10s)", "argument 1 of deadman() must be number, got string", 1, 23),
        ("stream|from()|deadman(1.0, 10)", "argument 2 of deadman() must be duration, got int", 1, 28),
        ("stream|from()|deadman(1.0, 10s, 'x')", "argument 3 of deadman() must be lambda, got string", 1, 33),
        ("stream|from()|deadman(1.0, 0s)", "deadman interval must be positive, got 0s", 1, 28),
        ("stream\n    |deadman(1.0, 10s)", "stream only supports |from(), not |deadman()", 2, 5),
    ])
    func defineErrors(script: String, message: String, line: Int, column: Int) throws {
        let error = try #require(buildError(script))
        #expect(error.message == message)
        #expect(error.position.line == line && error.position.column == column, "\(error.position)")
    }

    @Test("the properties after deadman() are the alert's")
    func alertProperties() throws {
        let error = try #require(buildError("stream|from()|deadman(1.0, 10s)\n    .stateChangesOnly()\n    .foo()"))
        #expect(error.message.hasPrefix("unknown property \"foo\" on alert"), "\(error.message)")
        #expect(error.position.line == 3 && error.position.column == 5)
        #expect(buildError("stream|from()|deadman(1.0, 10s, lambda: hour(\"time\") >= 8).id('x').message('y').noRecoveries()") == nil)
    }

    /// One alert event's id, message, level, and its data's first row.
    struct Event {
        var id: String, message: String, level: String
        var name: String, columns: [String], row: [Any]
        init?(_ json: String) {
            guard let o = try? JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any],
                  let data = o["data"] as? [String: Any], let series = (data["series"] as? [[String: Any]])?.first,
                  let values = (series["values"] as? [[Any]])?.first else { return nil }
            id = o["id"] as? String ?? ""
            message = o["message"] as? String ?? ""
            level = o["level"] as? String ?? ""
            name = series["name"] as? String ?? ""
            columns = series["columns"] as? [String] ?? []
            row = values
        }
    }

    @Test("a stream or batch edge that stops fires Kapacitor's CRITICAL, and recovers when data flows again",
          arguments: [
              ("stream|from().measurement('cpu')|deadman(0.0, 500ms)", "from1"),
              ("stream|from().measurement('cpu')|window().period(100ms).every(100ms)|deadman(0.0, 500ms)", "window2"),
          ])
    func firesAndRecovers(script: String, watched: String) throws {
        let c = Collector()
        let runner = try TaskRunner(script: script, options: .init(taskID: "cpu_dead"), handlers: c.handlers)
        try runner.start()
        func flow(for seconds: Double) {
            let end = Date().addingTimeInterval(seconds)
            while Date() < end {
                let now = Int64(Date().timeIntervalSince1970 * 1e9)
                runner.write([Point(name: "cpu", fields: ["value": .double(1)], time: now, database: "db", retentionPolicy: "rp")])
                usleep(20_000)
            }
        }
        flow(for: 1.6)
        usleep(1_800_000)
        flow(for: 1.6)
        try runner.stop()
        let events = c.events.compactMap { e -> Event? in if case .alert(let json) = e.event { Event(json) } else { nil } }
        let id = "node '\(watched)' in task 'cpu_dead'"
        let dead = try #require(events.firstIndex { $0.level == "CRITICAL" }, "no CRITICAL in \(c.events)")
        let crit = events[dead]
        #expect(crit.id == id)
        #expect(crit.message == "\(id) is dead: 0.000 points/500ms.")
        #expect(crit.name == "stats")
        #expect(crit.columns == ["time", "emitted"])
        #expect(crit.row.count == 2 && (crit.row[1] as? NSNumber)?.doubleValue == 0)
        // .align(): the stats times are on the interval.
        let time = try #require(RFC3339Nano.parse(crit.row[0] as? String ?? ""))
        #expect(time % (500 * GoDuration.millisecond) == 0, "\(crit.row[0])")
        let ok = try #require(events[dead...].first { $0.level == "OK" }, "no recovery after the CRITICAL")
        #expect(ok.id == id)
        #expect(ok.message.hasPrefix("\(id) is alive: ") && ok.message.hasSuffix(" points/500ms."), "\(ok.message)")
        #expect(((ok.row[1] as? NSNumber)?.doubleValue ?? 0) > 0)
    }

    @Test("the [deadman] id and message configure the alert; the script's .id() and .message() replace them")
    func configuredTemplates() throws {
        var sections = ConfigSections()
        sections.deadman.id = "dead:NODE_NAME:{{ .TaskName }}"
        sections.deadman.message = "{{ .ID }} {{ .Level }} every INTERVAL"
        for (script, id, message) in [
            ("stream|from()|deadman(0.0, 300ms)", "dead:from1:t", "dead:from1:t CRITICAL every 300ms"),
            ("stream|from()|deadman(0.0, 300ms).id('mine').message('{{ .ID }} is {{ .Level }}')", "mine", "mine is CRITICAL"),
        ] {
            let c = Collector()
            var options = TaskRunner.Options(taskID: "t")
            options.configSections = sections
            let runner = try TaskRunner(script: script, options: options, handlers: c.handlers)
            try runner.start()
            // No data: stats emits emitted 0 (Kapacitor's nil group), so the second emission's derivative is 0 <= 0.
            let deadline = Date().addingTimeInterval(10)
            while Date() < deadline && c.events.isEmpty { usleep(50_000) }
            try runner.stop()
            let first = try #require(c.events.first.flatMap { e -> Event? in if case .alert(let j) = e.event { Event(j) } else { nil } })
            #expect(first.id == id)
            #expect(first.message == message)
        }
    }
}
