import Foundation
import Testing

/// `tock run`'s output modes and inputs, through the built binary.
@Suite("tock run: linear output, output modes, Kapacitor recordings")
struct RunOutputTests {
    static func temporaryDirectory() throws -> URL {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("tock-run-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        return dir
    }

    static func write(_ name: String, _ text: String, in dir: URL) throws -> String {
        let url = dir.appendingPathComponent(name)
        try text.write(to: url, atomically: true, encoding: .utf8)
        return url.path
    }

    /// A 10s window per group, counted, into httpOut: `groups` groups, `windows` windows closed per group.
    static let windowed = """
        dbrp "db"."rp"
        stream
          |from().measurement('m').groupBy('host')
          |window().period(10s).every(10s)
          |count('v')
          |httpOut('out')
        """

    /// One point per group per second over `windows` × 10s (plus one to close the last window).
    static func input(groups: Int, windows: Int) -> String {
        var text = ""
        for second in 0...(windows * 10) {
            for g in 0..<groups { text += "m,host=h\(String(format: "%03d", g)) v=\(second) \(second)000000000\n" }
        }
        return text
    }

    func run(groups: Int, windows: Int, _ extra: [String] = []) throws -> TockBinary.Result {
        let dir = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let script = try Self.write("w.tick", Self.windowed, in: dir)
        let input = try Self.write("in.lp", Self.input(groups: groups, windows: windows), in: dir)
        let result = try TockBinary.run(["run", script, "--input", input, "--quiet"] + extra)
        #expect(result.status == 0, "\(result.stderr)")
        return result
    }

    @Test("each httpOut update prints the series that changed: bytes grow with windows × groups, not quadratically")
    func linearHTTPOut() throws {
        let small = try run(groups: 20, windows: 5)
        let lines = small.stdout.split(separator: "\n")
        // One line per window closed per group, each with one series row.
        #expect(lines.count == 20 * 5)
        #expect(lines.allSatisfy { $0.components(separatedBy: "\"columns\"").count == 2 })
        #expect(lines.first == #"{"node":"httpOut4","series":[{"name":"m","tags":{"host":"h000"},"columns":["time","count"],"values":[["1970-01-01T00:00:10Z",10]]}]}"#)
        // Every row has the same length here (same digits), so the bytes are exactly lines × row length.
        let lineBytes = lines.first!.utf8.count + 1
        #expect(small.stdout.utf8.count == 100 * lineBytes)
        // Twice the groups: twice the bytes (printing the whole state per update would be about four times).
        let doubled = try run(groups: 40, windows: 5)
        #expect(doubled.stdout.utf8.count == 2 * small.stdout.utf8.count)
    }

    @Test("--httpout final prints each endpoint's final result once; --output none prints nothing")
    func finalAndNone() throws {
        let final = try run(groups: 3, windows: 4, ["--httpout", "final"])
        let lines = final.stdout.split(separator: "\n")
        #expect(lines.count == 1)
        #expect(lines.first?.hasPrefix(#"{"node":"httpOut4","series":[{"name":"m","tags":{"host":"h000"},"columns":["time","count"],"values":[["1970-01-01T00:00:40Z",10]]},"#) == true)
        #expect(lines.first?.components(separatedBy: "\"columns\"").count == 4)
        let none = try run(groups: 3, windows: 4, ["--output", "none"])
        #expect(none.stdout.isEmpty)
    }

    @Test("--output all prints what every node emits, tagged with the node")
    func all() throws {
        let result = try run(groups: 2, windows: 1, ["--output", "all"])
        var counts: [String: Int] = [:]
        for line in result.stdout.split(separator: "\n") {
            let node = line.dropFirst(#"{"node":""#.count).prefix { $0 != "\"" }
            counts[String(node), default: 0] += 1
        }
        // 11 seconds × 2 groups through stream and from; one window per group closed, counted, served.
        #expect(counts == ["stream0": 22, "from1": 22, "window2": 2, "count3": 2, "httpOut4": 2])
    }

    @Test("--input reads Kapacitor stream recordings by content; --rebase-time moves them")
    func streamRecording() throws {
        let dir = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let script = try Self.write("r.tick", """
            dbrp "telegraf"."autogen"
            stream
              |from().measurement('cpu')
              |log()
            """, in: dir)
        let recording = TockBinary.root + "/Tests/Fixtures/recordings/cpu.srpl"
        let result = try TockBinary.run(["run", script, "--input", recording, "--quiet"])
        #expect(result.status == 0, "\(result.stderr)")
        // The mem point of other.weekly does not reach a task on telegraf.autogen.
        #expect(result.stdout.split(separator: "\n").map { $0.contains("\"2023-11-14T22:13:2") } == [true, true, true])
        let rebased = try TockBinary.run(["run", script, "--input", recording, "--quiet", "--rebase-time", "2026-01-01T00:00:00Z"])
        let times = rebased.stdout.split(separator: "\n").map { $0.components(separatedBy: "\"values\":[[\"")[1].prefix(20) }
        #expect(times == ["2026-01-01T00:00:00Z", "2026-01-01T00:00:01Z", "2026-01-01T00:00:02Z"])
        // A damaged recording: the file and the line.
        let bad = try TockBinary.run(["run", script, "--input", TockBinary.root + "/Tests/Fixtures/recordings/truncated.srpl"])
        #expect(bad.status == 2)
        #expect(bad.stderr.contains("Tests/Fixtures/recordings/truncated.srpl:5: invalid replay file format"))
        // A batch recording feeds a stream task nothing: refused, with the reason.
        let batch = try TockBinary.run(["run", script, "--input", TockBinary.root + "/Tests/Fixtures/recordings/cpu.brpl"])
        #expect(batch.status == 2)
        #expect(batch.stderr.contains("is a Kapacitor batch recording: it replays into a batch task (batch|query()), and the script has no query"))
    }
}
