import Foundation
import Testing

/// `tock run SCRIPT --input X.brpl`: a Kapacitor batch recording replayed into a batch task, each entry feeding
/// one `query()` node, in order.
@Suite("tock run: batch recordings into batch tasks")
struct BatchRunTests {
    let twoQueries = """
        var cpu = batch
          |query('SELECT usage FROM telegraf.autogen.cpu').period(10s).every(10s).groupBy('host')
        var mem = batch
          |query('SELECT used FROM telegraf.autogen.mem').period(10s).every(10s)
        cpu
          |max('usage')
        mem
          |sum('used')
        """

    func script(_ text: String) throws -> (path: String, dir: URL) {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("tock-batch-run-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let path = dir.appendingPathComponent("b.tick").path
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return (path, dir)
    }

    let recording = TockBinary.root + "/Tests/Fixtures/recordings/cpu.brpl"

    @Test func eachEntryFeedsItsQueryAndTheBatchesGoThroughTheTask() throws {
        let (path, dir) = try script(twoQueries)
        defer { try? FileManager.default.removeItem(at: dir) }
        let result = try TockBinary.run(["run", path, "--input", recording])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.split(separator: "\n").map(String.init) == [
            #"{"node":"max3","series":[{"name":"cpu","tags":{"host":"a"},"columns":["time","max"],"values":[["2023-11-14T22:13:30Z",12.5]]}]}"#,
            #"{"node":"max3","series":[{"name":"cpu","tags":{"host":"b"},"columns":["time","max","ok","state"],"values":[["2023-11-14T22:14:00Z",7,true,"busy"]]}]}"#,
            #"{"node":"sum4","series":[{"name":"mem","columns":["time","sum"],"values":[["2023-11-14T22:15:00Z",1]]}]}"#,
        ])
        // The summary counts the recorded points and what each query emitted.
        #expect(result.stderr.contains("read 4 points"))
        #expect(result.stderr.contains("query1                   0          2          0"))
    }

    @Test func rebaseTimeMovesEachEntrysFirstPointToTheTime() throws {
        let (path, dir) = try script(twoQueries)
        defer { try? FileManager.default.removeItem(at: dir) }
        let result = try TockBinary.run(["run", path, "--input", recording, "--quiet", "--rebase-time", "2026-01-01T00:00:00Z"])
        #expect(result.status == 0, "\(result.stderr)")
        let lines = result.stdout.split(separator: "\n")
        #expect(lines.count == 3)
        #expect(lines.contains { $0.contains(#""sum4""#) && $0.contains("2026-01-01T00:00:00Z") })
        #expect(lines.contains { $0.contains(#""host":"a""#) && $0.contains("2026-01-01T00:00:10Z") })
    }

    @Test func entriesAndQueriesMustMatch() throws {
        let (path, dir) = try script("batch|query('SELECT usage FROM cpu').every(10s)|log()")
        defer { try? FileManager.default.removeItem(at: dir) }
        let one = try TockBinary.run(["run", path, "--input", recording])
        #expect(one.status == 2)
        #expect(one.stderr.contains("has 2 recorded queries but the script has 1 batch query; each entry feeds one query, in order"))
        // A batch task does not read line protocol or stream recordings.
        let stream = try TockBinary.run(["run", path, "--input", TockBinary.root + "/Tests/Fixtures/recordings/cpu.srpl"])
        #expect(stream.status == 2)
        #expect(stream.stderr.contains("the script is a batch task (batch|query()): it replays a Kapacitor batch recording (.brpl)"))
    }
}
