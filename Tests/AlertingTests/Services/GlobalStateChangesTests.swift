import Engine
import Testing
@testable import Alerting

/// Kapacitor's alert node sends only state changes when a global service says `state-changes-only = true`
/// (alert.go: `if c.Global && c.StateChangesOnly { n.IsStateChangesOnly = true }` for smtp, slack, discord, bigpanda,
/// servicenow and zenoss).
@Suite struct GlobalStateChangesTests {
    static let sections = ["smtp", "slack", "discord", "bigpanda", "servicenow", "zenoss"]

    @Test("global with state-changes-only makes every alert send state changes only", arguments: sections)
    func globalStateChangesOnly(section: String) throws {
        let both = try AlertingService(configuration: [section: [["global": .bool(true), "state-changes-only": .bool(true)]]])
        #expect(both.forcesStateChangesOnly)
        let globalOnly = try AlertingService(configuration: [section: [["global": .bool(true)]]])
        #expect(!globalOnly.forcesStateChangesOnly)
        #expect(try !AlertingService(configuration: [:]).forcesStateChangesOnly)
    }
}
