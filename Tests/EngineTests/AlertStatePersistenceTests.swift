import Foundation
import Synchronization
import Testing
import TockModel
@testable import Engine

/// Alert levels kept in memory, as the daemon keeps them in its database.
final class MemoryAlertStates: AlertStateStore {
    let saved = Mutex<[String: (level: AlertLevel, time: Int64)]>([:])

    func lastLevel(taskID: String, nodeID: String, alertID: String) -> (level: AlertLevel, time: Int64)? {
        saved.withLock { $0["\(taskID)/\(nodeID)/\(alertID)"] }
    }

    func save(taskID: String, nodeID: String, alertID: String, level: AlertLevel, time: Int64) {
        saved.withLock { $0["\(taskID)/\(nodeID)/\(alertID)"] = (level, time) }
    }
}

@Suite("Alert levels outlive a run of the task")
struct AlertStatePersistenceTests {
    static let script = """
        stream
            |from()
                .measurement('cpu')
                .groupBy('host')
            |alert()
                .crit(lambda: "value" > 80)
                .stateChangesOnly()
        """

    func run(_ values: [Double], states: MemoryAlertStates) throws -> [String] {
        let c = Collector()
        var options = TaskRunner.Options(taskID: "cpu_alert")
        options.alertStates = states
        let runner = try TaskRunner(script: Self.script, options: options, handlers: c.handlers)
        try runner.start()
        runner.write(AlertTaskTests.cpu(values))
        try runner.stop()
        return AlertTaskTests.alerts(c).map { json in
            let level = json.range(of: #""level":""#).map { String(json[$0.upperBound...].prefix { $0 != "\"" }) } ?? "?"
            let previous = json.range(of: #""previousLevel":""#).map { String(json[$0.upperBound...].prefix { $0 != "\"" }) } ?? "?"
            return "\(previous)->\(level)"
        }
    }

    @Test("a CRITICAL alert is still CRITICAL in the next run: no repeat under stateChangesOnly, and OK is a recovery")
    func levelSurvivesARestart() throws {
        let states = MemoryAlertStates()
        #expect(try run([90, 95], states: states) == ["OK->CRITICAL"])
        #expect(states.lastLevel(taskID: "cpu_alert", nodeID: "alert2", alertID: "cpu:host=serverA")?.level == .critical)
        #expect(try run([91, 50], states: states) == ["CRITICAL->OK"])
        #expect(states.lastLevel(taskID: "cpu_alert", nodeID: "alert2", alertID: "cpu:host=serverA")?.level == .ok)
        #expect(try run([92], states: states) == ["OK->CRITICAL"])
    }

    @Test("without a store every run starts from OK")
    func withoutAStore() throws {
        let c = Collector()
        let runner = try TaskRunner(script: Self.script, options: .init(taskID: "cpu_alert"), handlers: c.handlers)
        try runner.start()
        runner.write(AlertTaskTests.cpu([91, 50]))
        try runner.stop()
        #expect(AlertTaskTests.alerts(c).count == 2)
    }
}
