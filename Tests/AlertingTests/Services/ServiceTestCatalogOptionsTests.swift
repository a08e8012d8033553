import Engine
import Testing
@testable import Alerting
import TockModel

/// `GET /service-tests` options that Kapacitor's `TestOptions()` copies from the configuration.
@Suite("Service tests: default options taken from the configuration, null where Kapacitor shows null")
struct ServiceTestCatalogOptionsTests {
    static func values(_ name: String, _ service: any AlertServiceKind) throws -> [String: HandlerOption?] {
        let test = try #require(ServiceTestCatalog.test(named: name))
        return Dictionary(test.defaultOptionValues(for: service).map { ($0.0, $0.1) }, uniquingKeysWith: { a, _ in a })
    }

    @Test("opsgenie and opsgenie2: teams and recipients are the configuration's, null when it sets none",
          arguments: ["opsgenie", "opsgenie2"])
    func opsGenie(name: String) throws {
        func service(_ table: ConfigTable) throws -> any AlertServiceKind {
            name == "opsgenie" ? try OpsGenieService(elements: [table]) : try OpsGenie2Service(elements: [table])
        }
        let unset = try Self.values(name, try service(["enabled": .bool(true), "api-key": .string("k")]))
        #expect(unset["teams"] == .some(nil))
        #expect(unset["recipients"] == .some(nil))
        #expect(unset["message-type"] == .string("CRITICAL"))
        #expect(unset["message"] == .string("test opsgenie message"))
        #expect(unset["entity-id"] == .string("testEntityID"))

        let set = try Self.values(name, try service(["enabled": .bool(true), "api-key": .string("k"),
                                                      "teams": .array([.string("ops")]), "recipients": .array([.string("ann")])]))
        #expect(set["teams"] == .list([.string("ops")]))
        #expect(set["recipients"] == .list([.string("ann")]))
    }

    @Test("zenoss: action, method, type, tid and collector come from [zenoss]; the collector is empty by default")
    func zenoss() throws {
        let defaults = try Self.values("zenoss", try ZenossService(elements: []))
        #expect(defaults["collector"] == .string(""))
        #expect(defaults["action"] == .string("EventsRouter"))
        #expect(defaults["tid"] == .int(1))
        let configured = try Self.values("zenoss", try ZenossService(elements: [[
            "action": .string("Router2"), "method": .string("m"), "type": .string("t"), "tid": .int(9), "collector": .string("edge-1"),
        ]]))
        #expect(configured["action"] == .string("Router2"))
        #expect(configured["method"] == .string("m"))
        #expect(configured["type"] == .string("t"))
        #expect(configured["tid"] == .int(9))
        #expect(configured["collector"] == .string("edge-1"))
        #expect(configured["custom_fields"] == .object([:]))
    }
}
