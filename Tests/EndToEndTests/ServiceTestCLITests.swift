import Foundation
import Testing

/// `tock service-tests` and `tock list service-tests` against a running daemon, in Kapacitor's output layout
/// (`cmd/kapacitor/main.go`: `%-20s%-10v%s` with Service, Success, Message; `Service Name` for the list).
@Suite("tock service-tests")
struct ServiceTestCLITests {
    @Test("list service-tests prints one name a line under Service Name; service-tests reports each service's result")
    func listAndRun() async throws {
        let dir = try DaemonProcess.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        // Port 1 on the loopback: nothing listens, the connection is refused at once.
        let daemon = try await DaemonProcess(dataDirectory: dir, configuration: """
            [[slack]]
              enabled = true
              url = "http://127.0.0.1:1/hook"

            """)
        defer { daemon.stop() }
        let list = try daemon.cli(["list", "service-tests", "s*"])
        #expect(list.status == 0, "\(list.stderr)")
        #expect(list.stdout == "Service Name\nsensu\nservicenow\nslack\nsmtp\nsnmptrap\n")

        let run = try daemon.cli(["service-tests", "slack", "teams"])
        #expect(run.status == 0, "\(run.stderr)")
        let lines = run.stdout.split(separator: "\n").map(String.init)
        #expect(lines.count == 3, "\(run.stdout)")
        #expect(lines.first == "Service             Success   Message")
        #expect(lines.dropFirst().first?.hasPrefix("slack               false     slack") == true, "\(run.stdout)")
        #expect(lines.last == "teams               false     [teams] is not enabled: set enabled = true in kapacitor.conf to use the teams handler",
                "\(run.stdout)")

        let none = try daemon.cli(["service-tests"])
        #expect(none.status != 0)
        #expect(none.stderr.contains("must provide at least one service name or pattern."), "\(none.stderr)")
    }
}
