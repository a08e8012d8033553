import Foundation
import Testing

/// `tock bench alerts` end to end, with small counts: every case delivers every alert to the loopback receiver and
/// reports a rate, CPU and (but for `log`) the latency percentiles.
@Suite struct BenchAlertsTests {
    @Test("each case reports alerts/s, CPU and latency; the receiver got every alert")
    func smallRun() throws {
        let result = try TockBinary.run(["bench", "alerts", "--points", "300", "--latency-points", "20", "--rate", "200", "--runs", "1"])
        #expect(result.status == 0, "\(result.stderr)")
        let rows = result.stdout.split(separator: "\n").map { $0.split(separator: " ", omittingEmptySubsequences: true).map(String.init) }
        #expect(rows.first?.prefix(4) == ["tock", "bench", "alerts:", "300"])
        for name in ["log", "post", "notifier", "python"] {
            let row = try #require(rows.first { $0.first == name }, "no row for \(name) in \(result.stdout)")
            // case, alerts/s, CPU (value, "s"), CPU python (value, "s"), µs CPU/alert, p50, p99
            try #require(row.count == 9, "\(row)")
            #expect((Double(row[1]) ?? 0) > 0)
            if name == "log" {
                #expect(row[7...] == ["-", "-"])
            } else {
                let p50 = try #require(Double(row[7])), p99 = try #require(Double(row[8]))
                #expect(p50 > 0 && p99 >= p50)
            }
        }
    }

    @Test("a missing sample notifier is named, with what to do")
    func missingNotifier() throws {
        let result = try TockBinary.run(["bench", "alerts", "--webhook", "nowhere/webhook.py"])
        #expect(result.status != 0)
        #expect(result.stderr.contains("nowhere/webhook.py does not exist: run from the repository's root or give --webhook/--client"))
    }
}
