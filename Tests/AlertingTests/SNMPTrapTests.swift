import Engine
import Foundation
import Testing
@testable import Alerting
import TockModel

/// Traps to Debian's real `snmptrapd` on a loopback UDP port, which accepts only the community `kapacitor` and
/// prints each trap's variable bindings with numeric OIDs.
@Suite("snmptrap: SNMPv2c traps to a real snmptrapd", .serialized,
       .enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/sbin/snmptrapd"), "snmptrapd is not installed"))
struct SNMPTrapTests {
    static func receiver() async throws -> ReceiverProcess {
        let port = try ReceiverProcess.freePort(udp: true)
        let dir = try ReceiverProcess.temporaryDirectory("snmptrapd")
        try "authCommunity log kapacitor\n".write(toFile: dir + "/snmptrapd.conf", atomically: true, encoding: .utf8)
        return try await ReceiverProcess("/usr/sbin/snmptrapd",
                                         ["-f", "-Lo", "-n", "-C", "-c", dir + "/snmptrapd.conf", "-On", "-M", "/dev/null", "-m", "",
                                          "-F", "TRAP %v\n", "udp:127.0.0.1:\(port)"],
                                         port: port, directory: dir, ready: "NET-SNMP version")
    }

    static func service(_ port: Int, community: String = "kapacitor") throws -> SNMPTrapService {
        try SNMPTrapService(elements: [["enabled": .bool(true), "addr": .string("127.0.0.1:\(port)"), "community": .string(community)]])
    }

    @Test("the trap OID and each data binding, values rendered from the event's templates")
    func trap() async throws {
        let receiver = try await Self.receiver()
        defer { receiver.stop() }
        let sender = try Self.service(receiver.port).makeSender(options: [
            "trap-oid": .string("1.3.6.1.4.1.1.1"),
            "data-list": .list([
                .object(["oid": .string("1.3.6.1.4.1.1.2"), "type": .string("s"), "value": .string("{{ .Message }} ({{ .Level }})")]),
                .object(["oid": .string("1.3.6.1.4.1.1.3"), "type": .string("i"), "value": .string("{{ index .Fields \"value\" | printf \"%.0f\" }}")]),
                .object(["oid": .string("1.3.6.1.4.1.1.4"), "type": .string("c"), "value": .string("123456789012")]),
                .object(["oid": .string("1.3.6.1.4.1.1.5"), "type": .string("t"), "value": .string("4200")]),
                .object(["oid": .string("1.3.6.1.4.1.1.6"), "type": .string("n"), "value": .string("")]),
                .object(["oid": .string("1.3.6.1.4.1.1.7"), "type": .string("a"), "value": .string("10.0.0.7")]),
                .object(["oid": .string("1.3.6.1.4.1.1.8"), "type": .string("u"), "value": .string("4000000000")]),
                .object(["oid": .string("1.3.6.1.4.1.1.9"), "type": .string("o"), "value": .string("1.3.6.1.2.1.1")]),
                .object(["oid": .string("1.3.6.1.4.1.1.10"), "type": .string("x"), "value": .string("DE AD be ef")]),
            ]),
        ])
        let wrongCommunity = try Self.service(receiver.port, community: "public").makeSender(options: ["trap-oid": .string("1.3.6.1.4.1.9.9")])
        try await wrongCommunity.send(AlertFixtures.event())
        try await sender.send(AlertFixtures.event(message: "serverA cpu is CRITICAL"))
        let text = try await receiver.waitForOutput { $0.contains("1.3.6.1.4.1.1.10") }
        let traps = text.split(separator: "\n").filter { $0.hasPrefix("TRAP ") }
        #expect(traps.count == 1, "the trap with community public was accepted: \(text)")
        #expect(traps.last?.dropFirst(5).split(separator: "\t").map { $0.trimmingCharacters(in: .whitespaces) } == [
            ".1.3.6.1.2.1.1.3.0 = Timeticks: (1000) 0:00:10.00",
            ".1.3.6.1.6.3.1.1.4.1.0 = OID: .1.3.6.1.4.1.1.1",
            ".1.3.6.1.4.1.1.2 = STRING: \"serverA cpu is CRITICAL (CRITICAL)\"",
            ".1.3.6.1.4.1.1.3 = INTEGER: 100",
            ".1.3.6.1.4.1.1.4 = Counter64: 123456789012",
            ".1.3.6.1.4.1.1.5 = Timeticks: (4200) 0:00:42.00",
            ".1.3.6.1.4.1.1.6 = NULL",
            ".1.3.6.1.4.1.1.7 = IpAddress: 10.0.0.7",
            ".1.3.6.1.4.1.1.8 = Gauge32: 4000000000",
            ".1.3.6.1.4.1.1.9 = OID: .1.3.6.1.2.1.1",
            ".1.3.6.1.4.1.1.10 = Hex-STRING: DE AD BE EF",
        ])
    }

    @Test("a value that is not of its type is a permanent failure naming the binding")
    func badValue() async throws {
        let sender = try Self.service(1).makeSender(options: [
            "trap-oid": .string("1.3.6.1.4.1.1.1"),
            "data-list": .list([.object(["oid": .string("1.3.6.1.4.1.1.3"), "type": .string("i"), "value": .string("{{ .Message }}")])]),
        ])
        do {
            try await sender.send(AlertFixtures.event(message: "high"))
            Issue.record("sent a non-integer as INTEGER")
        } catch {
            #expect(!error.isRetryable)
            #expect(error.reason == "snmptrap: data 1.3.6.1.4.1.1.3: \"high\" is not a value of type i")
        }
    }

    @Test("configuration: Kapacitor's defaults, the community redacted; bad OIDs, types and templates refused when the handler is made")
    func configuration() throws {
        let defaults = try SNMPTrapService(elements: [])
        #expect(defaults.addr == "localhost:162" && defaults.community == "kapacitor" && defaults.retries == 1 && !defaults.enabled)
        #expect(defaults.elements[0]["community"] == .bool(true))
        do {
            _ = try defaults.makeSender(options: ["trap-oid": .string("1.3.6.1.4.1.1")])
            Issue.record("a disabled service made a sender")
        } catch {
            #expect(error.message == "snmptrap is not enabled: set enabled = true in the [snmptrap] section of kapacitor.conf")
        }
        let s = try Self.service(162)
        func refused(_ options: [String: HandlerOption]) -> HandlerOptionError? {
            do { _ = try s.makeSender(options: options); return nil } catch { return error }
        }
        #expect(refused(["trap-oid": .string("not.an.oid")])?.option == "trap-oid")
        let item = { (type: String, value: String) in
            ["trap-oid": HandlerOption.string("1.3.6.1.4.1.1"),
             "data-list": .list([.object(["oid": .string("1.3.6.1.4.1.1.2"), "type": .string(type), "value": .string(value)])])]
        }
        #expect(refused(item("z", "1"))?.message == "snmptrap: Snmptrap Datatype not known: z (types: c i u t a o s x d n)")
        #expect(refused(item("s", "{{ .Nope }}"))?.option == "data-list")
        #expect(refused(item("s", "{{ .ID }}")) == nil)
    }
}
