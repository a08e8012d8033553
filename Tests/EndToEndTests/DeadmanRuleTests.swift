import Foundation
import Testing

/// A deadman rule as Chronograf's rule builder writes it (its `influxDBOut` left out until Tock has one), defined,
/// enabled and firing in `tock serve` with a `[deadman]` section.
@Suite("Chronograf deadman rule end to end", .serialized)
struct DeadmanRuleTests {
    static let script = """
        var db = 'telegraf'
        var rp = 'autogen'
        var measurement = 'cpu'
        var groupBy = []
        var whereFilter = lambda: ("cpu" == 'cpu-total')
        var period = 1s
        var name = 'Deadman rule'
        var idVar = name + ':{{.Group}}'
        var message = 'Deadman: {{.ID}} is {{.Level}}'
        var idTag = 'alertID'
        var levelTag = 'level'
        var messageField = 'message'
        var durationField = 'duration'
        var triggerType = 'deadman'
        var threshold = 0.0

        var data = stream
            |from()
                .database(db)
                .retentionPolicy(rp)
                .measurement(measurement)
                .groupBy(groupBy)
                .where(whereFilter)

        var trigger = data
            |deadman(threshold, period)
                .message(message)
                .id(idVar)
                .idTag(idTag)
                .levelTag(levelTag)
                .messageField(messageField)
                .durationField(durationField)

        trigger
            |eval(lambda: "emitted")
                .as('value')
                .keep('value', messageField, durationField)
            |eval(lambda: float("value"))
                .as('value')
                .keep()

        trigger
            |httpOut('output')

        """

    @Test("it defines and enables, shows Kapacitor's graph, and fires with its id and message when no data comes")
    func chronografDeadman() async throws {
        let dir = try DaemonProcess.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let daemon = try await DaemonProcess(dataDirectory: dir, configuration: "[deadman]\n  threshold = 3.0\n")
        defer { daemon.stop() }
        let tick = try file("deadman.tick", Self.script, in: dir)
        ok(try daemon.cli(["define", "chronograf-v1-deadman", "-tick", tick, "-dbrp", "telegraf.autogen"]), "define")
        ok(try daemon.cli(["enable", "chronograf-v1-deadman"]), "enable")
        let shown = ok(try daemon.cli(["show", "chronograf-v1-deadman"]), "show")
        #expect(shown.contains("Status: enabled\nExecuting: true\n"), "\(shown)")
        for edge in ["stream0 -> from1", "from1 -> noop3", "stats2 -> derivative4", "derivative4 -> alert5",
                     "alert5 -> eval6", "eval6 -> eval7", "alert5 -> httpOut8"] {
            #expect(shown.contains(edge), "\(edge) in\n\(shown)")
        }
        #expect(!shown.contains("from1 -> stats2"), "\(shown)")
        // No data: stats reports 0 points per second, 0 <= 0.0 is CRITICAL and the alert's point reaches httpOut.
        var series: [[String: Any]] = []
        try await DaemonProcess.waitUntil("the deadman fired into httpOut", timeout: 30) {
            let object = try await daemon.getJSON("/kapacitor/v1/tasks/chronograf-v1-deadman/output")
            series = object["series"] as? [[String: Any]] ?? []
            return !series.isEmpty
        }
        let row = try #require(series.first)
        #expect(row["name"] as? String == "stats")
        #expect(row["columns"] as? [String] == ["time", "duration", "emitted", "message"], "\(row)")
        let tags = row["tags"] as? [String: String] ?? [:]
        #expect(tags == ["alertID": "Deadman rule:nil", "level": "CRITICAL"], "\(row)")
        let values = (row["values"] as? [[Any]])?.first ?? []
        #expect(values.count == 4 && (values[2] as? NSNumber)?.doubleValue == 0, "\(row)")
        #expect(values.last as? String == "Deadman: Deadman rule:nil is CRITICAL", "\(row)")
    }
}
