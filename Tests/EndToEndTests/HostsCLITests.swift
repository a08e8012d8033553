import Foundation
import Testing

/// `tock hosts` against `tock serve`: hosts registered from /write, set, listed with filters, shown, their metrics,
/// deleted, and the location surviving a restart.
@Suite("tock hosts verbs")
struct HostsCLITests {
    func ok(_ r: TockBinary.Result, _ what: String) {
        #expect(r.status == 0, "\(what): \(r.stderr)")
    }

    @Test("register from /write, set location and labels, list --unassigned/--silent/--location, show, metrics, delete, restart")
    func hostsVerbs() async throws {
        let dir = try DaemonProcess.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        var daemon: DaemonProcess? = try await DaemonProcess(dataDirectory: dir)
        let now = Int(Date().timeIntervalSince1970)
        #expect(try await daemon!.write("""
            cpu,host=web1,cpu=cpu-total usage_user=12.5 \(now - 30)
            cpu,host=web2 usage_user=3 \(now - 30)
            tock_agent,host=web1 version="0.3.1",uptime=10i,buffered=0i,dropped=0i \(now)
            host_facts,host=web1 os="Debian GNU/Linux 12",n_cpus=4i \(now)
            """, db: "telegraf", rp: "autogen") == 204)

        ok(try daemon!.cli(["hosts", "set", "web1", "location=725", "rack=b"]), "set web1")
        ok(try daemon!.cli(["hosts", "set", "ghost", "location=725"]), "set ghost (creates it)")
        let bad = try daemon!.cli(["hosts", "set", "web1", "rack"])
        #expect(bad.status != 0)

        let list = try daemon!.cli(["hosts", "list"])
        ok(list, "list")
        let lines = list.stdout.split(separator: "\n").map(String.init)
        #expect(lines.first?.hasPrefix("Host") == true && lines.first?.contains("Location") == true && lines.first?.contains("Status") == true)
        let web1 = try #require(lines.first { $0.hasPrefix("web1 ") })
        #expect(web1.contains("725") && web1.contains("rack=b") && web1.contains("0.3.1") && web1.contains("reporting"))
        #expect(lines.contains { $0.hasPrefix("ghost ") && $0.contains("never-reported") })

        let unassigned = try daemon!.cli(["hosts", "list", "--unassigned"])
        ok(unassigned, "list --unassigned")
        #expect(unassigned.stdout.split(separator: "\n").dropFirst().map { String($0.prefix(4)) } == ["web2"])
        let silent = try daemon!.cli(["hosts", "list", "--silent", "1h"])
        #expect(silent.stdout.split(separator: "\n").dropFirst().map { String($0.split(separator: " ")[0]) } == ["ghost"])
        let located = try daemon!.cli(["hosts", "list", "--location", "725"])
        #expect(located.stdout.split(separator: "\n").dropFirst().map { String($0.split(separator: " ")[0]) } == ["ghost", "web1"])

        let show = try daemon!.cli(["hosts", "show", "web1"])
        ok(show, "show")
        #expect(show.stdout.contains("Location:          725\n"))
        #expect(show.stdout.contains("os:              Debian GNU/Linux 12\n"))

        let metrics = try daemon!.cli(["hosts", "metrics", "web1", "--measurement", "cpu", "--field", "usage_user", "--past", "1h"])
        ok(metrics, "metrics")
        #expect(metrics.stdout.contains("cpu,cpu=cpu-total,host=web1 usage_user  12.5\n"), "\(metrics.stdout)")

        ok(try daemon!.cli(["hosts", "delete", "ghost"]), "delete")
        #expect(try daemon!.cli(["hosts", "show", "ghost"]).status != 0)

        #expect(daemon!.stop() == 0)
        daemon = try await DaemonProcess(dataDirectory: dir)
        let again = try daemon!.cli(["hosts", "show", "web1"])
        ok(again, "show after restart")
        #expect(again.stdout.contains("Location:          725\n"))
        #expect(again.stdout.contains("Labels:            rack=b\n"))
        #expect(again.stdout.contains("0.3.1"))
        #expect(daemon!.stop() == 0)
    }

    @Test("every [hosts] check-interval the daemon writes one tock_hosts point per host into _tock.autogen")
    func tockHostsPoints() async throws {
        let dir = try DaemonProcess.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let daemon = try await DaemonProcess(dataDirectory: dir, configuration: "[hosts]\n  check-interval = \"1s\"\n")
        let tick = dir + "/hosts.tick"
        try "stream\n    |from().measurement('tock_hosts').groupBy('host')\n    |httpOut('out')\n".write(toFile: tick, atomically: true, encoding: .utf8)
        ok(try daemon.cli(["define", "hosts_out", "-tick", tick, "-dbrp", "_tock.autogen"]), "define")
        ok(try daemon.cli(["enable", "hosts_out"]), "enable")
        ok(try daemon.cli(["hosts", "set", "ghost", "location=725"]), "set ghost")
        try await DaemonProcess.waitUntil("a tock_hosts point for ghost reaches the task") {
            let out = try? await daemon.getJSON("/kapacitor/v1/tasks/hosts_out/out")
            let series = out?["series"] as? [[String: Any]] ?? []
            return series.contains { ($0["tags"] as? [String: Any])?["host"] as? String == "ghost" && ($0["tags"] as? [String: Any])?["location"] as? String == "725" }
        }
        #expect(daemon.stop() == 0)
    }
}
