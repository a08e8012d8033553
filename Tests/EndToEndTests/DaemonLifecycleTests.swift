import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// `tock serve`'s long-lived parts run as swift-service-lifecycle services of one `ServiceGroup`, which owns the
/// signals: SIGTERM and SIGINT shut the group down gracefully (the server first, the tasks drained, their alert
/// handlers settled, the state saved) and the daemon exits 0; SIGHUP reloads what supports it and the daemon goes on.
@Suite("The daemon's service group", .serialized)
struct DaemonLifecycleSpecification {
    /// A stream task whose every point above 5 is a CRITICAL alert appended to `alerts`.
    static func alertScript(_ alerts: String) -> String {
        """
        stream
            |from()
                .measurement('cpu')
            |alert()
                .crit(lambda: "value" > 5)
                .log('\(alerts)')

        """
    }

    /// The daemon's log from its first line to its last.
    func lines(_ daemon: DaemonProcess) -> [String] {
        ((try? String(contentsOfFile: daemon.logPath, encoding: .utf8)) ?? "").split(separator: "\n").map(String.init)
    }

    /// Whether each of `messages` is logged, in this order.
    func logged(_ messages: [String], in lines: [String]) -> Bool {
        var from = lines.startIndex
        for message in messages {
            guard let at = lines[from...].firstIndex(where: { $0.contains(message) }) else { return false }
            from = lines.index(after: at)
        }
        return true
    }

    func drainsAndExits(on signal: Int32) async throws {
        let dir = try DaemonProcess.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let alerts = dir + "/alerts.log"
        let tick = try file("alert.tick", Self.alertScript(alerts), in: dir)
        let daemon = try await DaemonProcess(dataDirectory: dir)
        defer { daemon.stop() }
        for args in [["define", "hot", "-tick", tick, "-type", "stream", "-dbrp", "db.rp"], ["enable", "hot"]] {
            let result = try daemon.cli(args)
            #expect(result.status == 0, "tock \(args.joined(separator: " ")): \(result.stderr)")
        }
        #expect(try await daemon.write("cpu value=7 1\n", db: "db", rp: "rp") == 204)

        kill(daemon.process.processIdentifier, signal)
        let deadline = Date().addingTimeInterval(30)
        while daemon.process.isRunning && Date() < deadline { try await Task.sleep(for: .milliseconds(20)) }
        #expect(!daemon.process.isRunning, "the daemon must exit after the signal")
        #expect(daemon.stop() == 0, "a graceful shutdown exits 0")

        // The point written before the signal went through the task and its handler before the exit.
        let written = (try? String(contentsOfFile: alerts, encoding: .utf8)) ?? ""
        #expect(written.contains("\"level\":\"CRITICAL\""), "alerts.log: \(written)")
        // The group stopped its services in the reverse of their order: the tasks drained, then the state saved.
        let log = lines(daemon)
        #expect(logged(["msg=\"shutting down: draining tasks\"", "msg=stopped"], in: log), "\(log.joined(separator: "\n"))")
    }

    @Test("SIGTERM: the server stops, the tasks drain into their alert handlers, and the daemon exits 0")
    func sigterm() async throws {
        try await drainsAndExits(on: SIGTERM)
    }

    @Test("SIGINT shuts the daemon down as SIGTERM does")
    func sigint() async throws {
        try await drainsAndExits(on: SIGINT)
    }

    @Test("SIGHUP reloads [load] and the daemon keeps serving; SIGTERM after it still exits 0")
    func sighup() async throws {
        let dir = try DaemonProcess.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let load = dir + "/load"
        try FileManager.default.createDirectory(atPath: load + "/tasks", withIntermediateDirectories: true)
        let daemon = try await DaemonProcess(dataDirectory: dir, configuration: """
            [load]
              enabled = true
              dir = "\(load)"
            """)
        defer { daemon.stop() }
        // A task file that comes after the start is defined by the next SIGHUP.
        _ = try file("late.tick", """
            dbrp "db"."rp"

            stream
                |from()
                    .measurement('cpu')
                |httpOut('out')

            """, in: load + "/tasks")
        kill(daemon.process.processIdentifier, SIGHUP)
        try await DaemonProcess.waitUntil("the SIGHUP reload defines the task") {
            (try? daemon.cli(["list", "tasks"]).stdout.contains("late")) == true
        }
        #expect(daemon.process.isRunning, "SIGHUP must not stop the daemon")
        #expect(try await HTTP.send("GET", daemon.url + "/ping").status == 204)
        #expect(lines(daemon).contains { $0.contains("msg=\"SIGHUP: reloading\"") && $0.contains("service=load") })
        #expect(daemon.stop() == 0)
    }
}
