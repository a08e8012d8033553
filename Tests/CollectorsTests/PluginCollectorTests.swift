import Foundation
import LogTesting
import Synchronization
import Testing
import TockModel
@testable import Collectors
import Engine
import PluginHost
import PluginSupervisor

@Suite("collector plugins over Tock's plugin protocol: the Python SDK, and faults a plugin makes on purpose", .serialized)
struct PluginCollectorTests {
    static let root: String = {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<3 { url.deleteLastPathComponent() }
        return url.path
    }()

    final class Received: Sendable {
        let points = Mutex<[Point]>([])
        let log = LogLines()
        var context: StreamContext {
            StreamContext(clock: { 5_000 }, logger: log.logger, emit: { [self] new in self.points.withLock { $0 += new } })
        }
        var count: Int { points.withLock { $0.count } }
        func logged(_ text: String) -> Bool { log.all.contains { $0.1.contains(text) } }
    }

    func plugin(_ fault: String, options: [String: HandlerOption]? = nil, gatherTimeout: Duration = .seconds(2),
                timeout: Int64 = 2_000_000_000, backoff: Duration = .milliseconds(50)) -> PluginCollector {
        let configuration = CollectorPluginConfiguration(
            name: "faulty", program: "python3", arguments: [Self.root + "/Tests/Fixtures/collectors/fault_collector.py"],
            environment: ["TOCK_PYTHON_SDK": Self.root + "/Protocol/python"], timeout: timeout,
            options: options ?? ["fault": .string(fault), "label": .string("t")])
        return PluginCollector(configuration: configuration, gatherTimeout: gatherTimeout, backoff: backoff)
    }

    func waitFor(_ what: String, timeout: Duration = .seconds(15), _ condition: () -> Bool) async throws {
        let deadline = ContinuousClock.now + timeout
        while !condition() {
            guard ContinuousClock.now < deadline else { throw CollectorError("test", "timed out waiting for \(what)") }
            try await Task.sleep(for: .milliseconds(20))
        }
    }

    @Test("a polled plugin answers each gather; its handshake's interval and options are honoured")
    func polled() async throws {
        let collector = plugin("none")
        let received = Received()
        try collector.start(received.context)
        defer { collector.stop() }
        try await waitFor("the handshake") { collector.isRunning }
        #expect(collector.preferredInterval == .milliseconds(200))
        #expect(received.logged("started faulty 1.0 (polled)"))
        // The plugin's stderr is read on a thread of its own: its line may come after the handshake.
        try await waitFor("the plugin's stderr line") {
            received.log.all.contains { $0.0 == .info && $0.1.contains("faulty collector up, fault=none") }
        }
        collector.tick()
        try await waitFor("the first gather") { received.count == 1 }
        collector.tick()
        try await waitFor("the second gather") { received.count == 2 }
        let points = received.points.withLock { $0 }
        #expect(points.map { $0.fields.first?.value } == [.int(1), .int(2)])
        #expect(points.allSatisfy { $0.tags["plugin"] == "t" && $0.time == 5_000 })
    }

    @Test("a crash is logged with its status and last stderr lines, and the plugin restarted")
    func crash() async throws {
        let collector = plugin("crash")
        let received = Received()
        try collector.start(received.context)
        defer { collector.stop() }
        try await waitFor("the handshake") { collector.isRunning }
        collector.tick()
        try await waitFor("the first gather") { received.count == 1 }
        collector.tick()
        try await waitFor("the crash") { received.logged("exited with status 7") }
        #expect(received.logged("crashing on purpose"))
        try await waitFor("the restart") { received.log.all.filter { $0.1.contains("started faulty") }.count == 2 && collector.isRunning }
        collector.tick()
        try await waitFor("a gather of the new process") { received.count == 2 }
    }

    @Test("a plugin that hangs: its gather times out, then the missed keepalives get it restarted")
    func hang() async throws {
        let collector = plugin("hang", gatherTimeout: .milliseconds(300), timeout: 1_000_000_000)
        let received = Received()
        try collector.start(received.context)
        defer { collector.stop() }
        try await waitFor("the handshake") { collector.isRunning }
        collector.tick()
        try await waitFor("the first gather") { received.count == 1 }
        collector.tick()
        try await waitFor("the gather timeout") { received.logged("did not finish a gather within 300ms") }
        #expect(!collector.isRunning)
        try await waitFor("the keepalive timeout") { received.logged("did not answer a keepalive") }
        try await waitFor("the restart") { received.log.all.filter { $0.1.contains("started faulty") }.count == 2 }
    }

    @Test("garbage on stdout ends the process with a malformed-frame error; it is restarted")
    func garbage() async throws {
        let collector = plugin("garbage")
        let received = Received()
        try collector.start(received.context)
        defer { collector.stop() }
        try await waitFor("the handshake") { collector.isRunning }
        collector.tick()
        try await waitFor("the first gather") { received.count == 1 }
        collector.tick()
        try await waitFor("the malformed frame") { received.logged("frame") && received.logged("restarting in") }
        try await waitFor("the restart") { received.log.all.filter { $0.1.contains("started faulty") }.count == 2 }
    }

    @Test("a gather the plugin reports failed is logged and counts the collector down; a flood of streamed points arrives whole")
    func errorsAndFlood() async throws {
        let failing = plugin("error")
        let received = Received()
        try failing.start(received.context)
        defer { failing.stop() }
        try await waitFor("the handshake") { failing.isRunning }
        failing.tick()
        try await waitFor("the failed gather") { received.logged("gather failed: OSError: sensor unplugged") }
        try await waitFor("the collector counted down") { !failing.isRunning }

        let flooding = plugin("flood")
        let flood = Received()
        try flooding.start(flood.context)
        defer { flooding.stop() }
        try await waitFor("5000 streamed points") { flood.count == 5000 }
    }

    @Test("options are checked against the plugin's handshake: unknown, missing or ill-typed is refused; repeated failures give up")
    func options() async throws {
        let unknown = plugin("none", options: ["label": .string("t"), "colour": .string("red")], backoff: .milliseconds(10))
        let received = Received()
        try unknown.start(received.context)
        defer { unknown.stop() }
        try await waitFor("the refusal") { received.logged("collector plugin faulty has no option colour (options: fault, label)") }
        try await waitFor("giving up") { received.logged("gave up after 5 failures in a row, next try in 10m0s") }

        let missing = plugin("none", options: [:], backoff: .seconds(60))
        let other = Received()
        try missing.start(other.context)
        defer { missing.stop() }
        try await waitFor("the refusal") { other.logged("collector plugin faulty needs option label") }
        let typed = plugin("none", options: ["label": .int(3)], backoff: .seconds(60))
        let third = Received()
        try typed.start(third.context)
        defer { typed.stop() }
        try await waitFor("the refusal") { third.logged("option label must be a string") }
    }
}

@Suite("the Swift SDK's sample collector, tock-uptime-collector")
struct SwiftCollectorSampleTests {
    @Test("answers gathers with the host's uptime and load, tagged by its option")
    func uptime() async throws {
        let exe = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
        let binary = URL(fileURLWithPath: exe).deletingLastPathComponent().appendingPathComponent("tock-uptime-collector").path
        let collector = PluginCollector(configuration: CollectorPluginConfiguration(
            name: "uptime", program: binary, options: ["source": .string("swift")]), gatherTimeout: .seconds(5))
        let received = PluginCollectorTests.Received()
        try collector.start(received.context)
        defer { collector.stop() }
        let deadline = ContinuousClock.now + .seconds(15)
        while !collector.isRunning && ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(20)) }
        #expect(collector.preferredInterval == .seconds(30))
        collector.tick()
        while received.count == 0 && ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(20)) }
        let point = try #require(received.points.withLock { $0.first })
        #expect(point.name == "uptime")
        #expect(point.tags["source"] == "swift")
        #expect((point.fields.first { $0.key == "seconds" }?.value.numeric ?? 0) > 0)
    }
}
