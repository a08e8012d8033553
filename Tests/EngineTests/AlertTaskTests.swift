import Foundation
import Testing
import TICKScript
import TockModel
@testable import Engine

@Suite("Alert node in a task")
struct AlertTaskTests {
    static func cpu(_ values: [Double], host: String = "serverA") -> [Point] {
        values.enumerated().map { i, v in point("cpu", ["host": host], ["value": .double(v)], at: Int64(i)) }
    }

    static func alerts(_ c: Collector) -> [String] {
        c.events.compactMap { if case .alert(let json) = $0.event { json } else { nil } }
    }

    @Test func theDocumentedResetExampleRunsFromATICKscript() throws {
        let dir = try AlertFixtures.temporaryDirectory()
        let log = dir.appendingPathComponent("cpu.log").path
        let script = """
            stream
                |from()
                    .measurement('cpu')
                    .groupBy('host')
                |alert()
                    .info(lambda: "value" > 60)
                    .infoReset(lambda: "value" < 50)
                    .warn(lambda: "value" > 70)
                    .warnReset(lambda: "value" < 60)
                    .crit(lambda: "value" > 80)
                    .critReset(lambda: "value" < 70)
                    .message('{{ .ID }} {{ .Level }} {{ index .Fields "value" }}')
                    .levelTag('level')
                    .log('\(log)')
            """
        let (c, _) = try run(script, Self.cpu([61, 73, 64, 85, 62, 56, 47]))
        let messages = Self.alerts(c).map { json -> String in
            let r = json.range(of: "\"message\":\"")!
            return String(json[r.upperBound...].prefix { $0 != "\"" })
        }
        #expect(messages == [
            "cpu:host=serverA INFO 61", "cpu:host=serverA WARNING 73", "cpu:host=serverA WARNING 64",
            "cpu:host=serverA CRITICAL 85", "cpu:host=serverA INFO 62", "cpu:host=serverA INFO 56",
            "cpu:host=serverA OK 47",
        ])
        #expect(c.points.map { $0.tags["level"] } == ["INFO", "WARNING", "WARNING", "CRITICAL", "INFO", "INFO", "OK"])
        let lines = try String(contentsOfFile: log, encoding: .utf8).split(separator: "\n").map(String.init)
        #expect(lines == Self.alerts(c))
    }

    /// The printer demo's alert: a script variable inside the lambda, a fixed ID, a log file.
    @Test func thePrinterDemoAlertShape() throws {
        let dir = try AlertFixtures.temporaryDirectory()
        let log = dir.appendingPathComponent("hotend_failure.log").path
        let script = """
            var alpha = 0.001
            stream
                |from()
                    .measurement('temperatures')
                |alert()
                    .id('hotend')
                    .crit(lambda: "pvalue" < alpha)
                    .log('\(log)')
            """
        let points = [0.5, 0.0001, 0.2].enumerated().map { i, p in
            point("temperatures", [:], ["t": .double(1), "pvalue": .double(p)], at: Int64(300 * (i + 1)))
        }
        let (c, _) = try run(script, points)
        let lines = try String(contentsOfFile: log, encoding: .utf8).split(separator: "\n").map(String.init)
        #expect(lines == Self.alerts(c))
        #expect(lines.count == 2)
        #expect(lines.first?.hasPrefix(#"{"id":"hotend","message":"hotend is CRITICAL","#) == true)
        #expect(lines.first?.contains(#""time":"1970-01-01T00:10:00Z","duration":0,"level":"CRITICAL""#) == true)
        #expect(lines.last?.contains(#""time":"1970-01-01T00:15:00Z","duration":300000000000,"level":"OK""#) == true)
    }

    @Test func stateChangesOnlyAndNoRecoveriesFromAScript() throws {
        let script = """
            stream
                |from()
                    .measurement('cpu')
                |alert()
                    .crit(lambda: "value" > 80)
                    .stateChangesOnly()
                    .noRecoveries()
            """
        let (c, _) = try run(script, Self.cpu([90, 91, 50, 92]))
        #expect(Self.alerts(c).count == 2)
        #expect(Self.alerts(c).allSatisfy { $0.contains("\"level\":\"CRITICAL\"") && $0.hasSuffix("\"recoverable\":false}") })
    }

    @Test func aBadTemplateIsAScriptErrorAtItsProperty() {
        let error = buildError("""
            stream
                |from()
                |alert()
                    .crit(lambda: "value" > 80)
                    .message('{{ .Value }}')
            """)
        #expect(error?.position.line == 5)
        #expect(error?.message.contains("invalid message template") == true)
        #expect(error?.message.contains("can't evaluate field Value") == true)
    }

    @Test func aRelativeLogPathIsAScriptError() {
        let error = buildError("""
            stream
                |from()
                |alert()
                    .crit(lambda: "value" > 80)
                    .log('alerts.log')
            """)
        #expect(error?.message == "alert log path must be absolute: alerts.log is not absolute")
        #expect(error?.position.line == 5)
    }
}
