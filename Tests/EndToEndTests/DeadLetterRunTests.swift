import Foundation
import Testing

/// `tock run` waits (at most `[alerting] drain-timeout`) for its handlers before exiting, and reports what they gave up.
@Suite("Dead letters of tock run", .serialized)
struct DeadLetterRunTests {
    static let script = """
        stream
            |from()
                .measurement('cpu')
            |alert()
                .id('{{ index .Tags "host" }}')
                .crit(lambda: "value" > 80)
                .tcp('127.0.0.1:PORT')

        """

    @Test("an alert to a receiver that is down is reported as a dead letter with its reason and fails the run (unless --keep-going); one that is up is delivered before exit")
    func reportsDeadLetters() throws {
        let dir = try DaemonProcess.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let config = try file("tock.conf", """
            [alerting]
              retry-max-attempts = 2
              retry-initial-backoff = "50ms"
              retry-max-backoff = "50ms"

            """, in: dir)
        let input = try file("in.lp", "cpu,host=a value=95 1\n", in: dir)
        // Port 1 on the loopback: nothing listens, every attempt is refused.
        let down = try file("down.tick", Self.script.replacingOccurrences(of: "PORT", with: "1"), in: dir)
        let ran = try TockBinary.run(["run", down, "--input", input, "--config", config, "--output", "none"])
        #expect(ran.status == 1, "a dead letter fails the run: \(ran.stderr)")
        #expect(ran.stderr.contains("dead letter 1: task down node alert2 tcp 127.0.0.1:1: event a CRITICAL retries-exhausted after 2 attempts: "),
                "\(ran.stderr)")
        #expect(ran.stderr.hasSuffix("1 dead letter (1 retries-exhausted)\n"
                                     + "alert handlers failed to deliver (the dead letters above): exiting 1; --keep-going exits 0 all the same\n"),
                "\(ran.stderr)")
        let kept = try TockBinary.run(["run", down, "--input", input, "--config", config, "--output", "none", "--keep-going"])
        #expect(kept.status == 0, "--keep-going: \(kept.stderr)")
        #expect(kept.stderr.hasSuffix("1 dead letter (1 retries-exhausted)\n"), "\(kept.stderr)")

        let port = try TCPLines.freePort()
        let listener = try TCPLines(port: port)
        defer { listener.stop() }
        let up = try file("up.tick", Self.script.replacingOccurrences(of: "PORT", with: "\(port)"), in: dir)
        let delivered = try TockBinary.run(["run", up, "--input", input, "--config", config, "--output", "none"])
        #expect(delivered.status == 0, "\(delivered.stderr)")
        #expect(!delivered.stderr.contains("dead letter"), "\(delivered.stderr)")
        // The receiver had the line before tock run exited; its reading thread may take a moment to record it.
        let deadline = Date().addingTimeInterval(5)
        while listener.lines.isEmpty && Date() < deadline { Thread.sleep(forTimeInterval: 0.02) }
        #expect(listener.lines.count == 1)
    }

    @Test("tock test reports the dead letters of a file's cases under its results")
    func testCommandReports() throws {
        let dir = try DaemonProcess.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        _ = try file("tock.conf", """
            [alerting]
              retry-max-attempts = 1

            """, in: dir)
        _ = try file("down.tick", Self.script.replacingOccurrences(of: "PORT", with: "1"), in: dir)
        let spec = try file("down.test.yaml", """
            script: down.tick
            config: tock.conf
            cases:
              - name: one critical alert
                input:
                  precision: s
                  lines: |
                    cpu,host=a value=95 1
                expect:
                  alertCount: 1

            """, in: dir)
        let r = try TockBinary.run(["test", spec])
        #expect(r.status == 0, "\(r.stdout)\(r.stderr)")
        #expect(r.stdout.contains("  dead letter 1: task "), "\(r.stdout)")
        #expect(r.stdout.contains("event a CRITICAL retries-exhausted after 1 attempt: "), "\(r.stdout)")
        #expect(r.stdout.contains("  1 dead letter (1 retries-exhausted)"), "\(r.stdout)")
    }

    @Test("a daemon stopping with events still pending after drain-timeout keeps them as stopped dead letters")
    func daemonStop() async throws {
        let dir = try DaemonProcess.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let config = """
            [alerting]
              drain-timeout = "300ms"
              retry-max-attempts = 100
              retry-initial-backoff = "1h"
              retry-max-backoff = "1h"

            """
        let tick = try file("cpu.tick", Self.script.replacingOccurrences(of: "PORT", with: "1"), in: dir)
        do {
            let daemon = try await DaemonProcess(dataDirectory: dir, configuration: config)
            #expect(try daemon.cli(["define", "cpu_alert", "-tick", tick, "-dbrp", "telegraf.autogen"]).status == 0)
            #expect(try daemon.cli(["enable", "cpu_alert"]).status == 0)
            #expect(try await daemon.write("cpu,host=a value=95 1\n", db: "telegraf", rp: "autogen") == 204)
            try await DaemonProcess.waitUntil("the first attempt failed and a retry waits") {
                ((try? String(contentsOfFile: daemon.logPath, encoding: .utf8)) ?? "").contains("retrying in 3600s")
            }
            let started = Date()
            #expect(daemon.stop() == 0)
            #expect(Date().timeIntervalSince(started) < 10, "the daemon waited drain-timeout, not the retry")
        }
        let daemon = try await DaemonProcess(dataDirectory: dir, configuration: config)
        defer { daemon.stop() }
        let letters = try await daemon.getJSON("/kapacitor/v1/alerts/dead-letters")["deadLetters"] as? [[String: Any]] ?? []
        #expect(letters.count == 1)
        #expect(letters.first?["reason"] as? String == "stopped")
        #expect(letters.first?["attempts"] as? Int == 1)
        #expect((letters.first?["detail"] as? String)?.hasPrefix("the handler stopped while waiting to retry: ") == true, "\(letters)")
    }
}
