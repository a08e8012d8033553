import Foundation
import Testing

/// Scripts in the shapes Chronograf's rule builder emits (chronograf's `kapacitor/tickscripts.go` and
/// `triggers.go`), `influxDBOut` left out until the InfluxDB issue lands: they define, enable and alert
/// through the daemon, and the alert points reach the `httpOut('output')` endpoint Chronograf reads.
@Suite("Chronograf rule-builder scripts through the daemon")
struct ChronografRuleTests {
    /// Chronograf's header: every setting is a `var`, the alert ID is built with `+` outside a lambda.
    static func header(name: String, trigger: String, extra: String) -> String {
        """
        var db = 'telegraf'

        var rp = 'autogen'

        var measurement = 'cpu'

        var groupBy = ['host']

        var whereFilter = lambda: ("cpu" == 'cpu-total')

        \(extra)

        var name = '\(name)'

        var idVar = name + ':{{.Group}}'

        var message = ' {{.ID}} is {{.Level}} value: {{ index .Fields "value" }}'

        var idTag = 'alertID'

        var levelTag = 'level'

        var messageField = 'message'

        var durationField = 'duration'

        var outputDB = 'chronograf'

        var outputRP = 'autogen'

        var outputMeasurement = 'alerts'

        var triggerType = '\(trigger)'

        """
    }

    static let threshold = header(name: "Ruley McRuleface", trigger: "threshold", extra: "var period = 10s\n\nvar every = 10s") + """
        var crit = 90

        var data = stream
            |from()
                .database(db)
                .retentionPolicy(rp)
                .measurement(measurement)
                .groupBy(groupBy)
                .where(whereFilter)
            |window()
                .period(period)
                .every(every)
                .align()
            |mean('usage_user')
                .as('value')

        var trigger = data
            |alert()
                .crit(lambda: "value" > crit)
                .stateChangesOnly()
                .message(message)
                .id(idVar)
                .idTag(idTag)
                .levelTag(levelTag)
                .messageField(messageField)
                .durationField(durationField)

        trigger
            |eval(lambda: float("value"))
                .as('value')
                .keep()

        trigger
            |httpOut('output')

        """

    static let relative = header(name: "relative cpu", trigger: "relative", extra: "var shift = 10s") + """
        var crit = 50

        var data = stream
            |from()
                .database(db)
                .retentionPolicy(rp)
                .measurement(measurement)
                .groupBy(groupBy)
                .where(whereFilter)
            |eval(lambda: "usage_user")
                .as('value')

        var past = data
            |shift(shift)

        var current = data

        var trigger = past
            |join(current)
                .as('past', 'current')
            |eval(lambda: abs(float("current.value" - "past.value")) / float("past.value") * 100.0)
                .keep()
                .as('value')
            |alert()
                .crit(lambda: "value" > crit)
                .stateChangesOnly()
                .message(message)
                .id(idVar)
                .idTag(idTag)
                .levelTag(levelTag)
                .messageField(messageField)
                .durationField(durationField)

        trigger
            |httpOut('output')

        """

    func ok(_ daemon: DaemonProcess, _ args: [String]) throws {
        let result = try daemon.cli(args)
        #expect(result.status == 0, "tock \(args.joined(separator: " ")) failed: \(result.stderr)")
    }

    /// The series `httpOut('output')` holds, once it holds any.
    func output(_ daemon: DaemonProcess, _ task: String) async throws -> [[String: Any]] {
        var series: [[String: Any]] = []
        try await DaemonProcess.waitUntil("\(task)'s httpOut holds a series") {
            let reply = try await HTTP.send("GET", daemon.url + "/kapacitor/v1/tasks/\(task)/output")
            let json = try? JSONSerialization.jsonObject(with: reply.body) as? [String: Any]
            series = json?["series"] as? [[String: Any]] ?? []
            return !series.isEmpty
        }
        return series
    }

    @Test("a threshold rule: mean over aligned windows, alert ID built from the rule's name, tags and fields as Chronograf reads them")
    func thresholdRule() async throws {
        let dir = try DaemonProcess.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let daemon = try await DaemonProcess(dataDirectory: dir)
        defer { daemon.stop() }
        try ok(daemon, ["define", "threshold", "-tick", try file("t.tick", Self.threshold, in: dir),
                        "-dbrp", "telegraf.autogen", "-type", "stream"])
        try ok(daemon, ["enable", "threshold"])
        // Window [0s,10s) has a mean of 95 for host a: critical. The point at 10s closes it.
        let lines = """
            cpu,cpu=cpu-total,host=a usage_user=94 1
            cpu,cpu=cpu-total,host=a usage_user=96 5
            cpu,cpu=cpu1,host=a usage_user=1 6
            cpu,cpu=cpu-total,host=a usage_user=10 10
            """
        #expect(try await daemon.write(lines, db: "telegraf", rp: "autogen") == 204)
        let series = try await output(daemon, "threshold")
        #expect(series.count == 1)
        let tags = series.first?["tags"] as? [String: String]
        #expect(tags == ["host": "a", "alertID": "Ruley McRuleface:host=a", "level": "CRITICAL"])
        #expect(series.first?["columns"] as? [String] == ["time", "duration", "message", "value"])
        let row = (series.first?["values"] as? [[Any]])?.first
        // An aggregate of a window carries the window's end time (Kapacitor's batch TMax).
        #expect(row?[0] as? String == "1970-01-01T00:00:10Z")
        #expect(row?[2] as? String == " Ruley McRuleface:host=a is CRITICAL value: 95")
        #expect(row?[3] as? Double == 95)
    }

    @Test("a relative rule: shift, join and a percent change, alerting on a jump of more than 50 %")
    func relativeRule() async throws {
        let dir = try DaemonProcess.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let daemon = try await DaemonProcess(dataDirectory: dir)
        defer { daemon.stop() }
        try ok(daemon, ["define", "relative", "-tick", try file("r.tick", Self.relative, in: dir),
                        "-dbrp", "telegraf.autogen", "-type", "stream"])
        try ok(daemon, ["enable", "relative"])
        // The value at 0s shifted by 10s meets the value at 10s: 20 → 40 is a change of 100 %.
        let lines = """
            cpu,cpu=cpu-total,host=b usage_user=20 0
            cpu,cpu=cpu-total,host=b usage_user=40 10
            """
        #expect(try await daemon.write(lines, db: "telegraf", rp: "autogen") == 204)
        let series = try await output(daemon, "relative")
        let tags = series.first?["tags"] as? [String: String]
        #expect(tags == ["host": "b", "alertID": "relative cpu:host=b", "level": "CRITICAL"])
        let columns = series.first?["columns"] as? [String] ?? []
        let row = (series.first?["values"] as? [[Any]])?.first ?? []
        let value = columns.firstIndex(of: "value").flatMap { row.count > $0 ? row[$0] as? Double : nil }
        #expect(value == 100)
        #expect(row.first as? String == "1970-01-01T00:00:10Z")
    }
}
