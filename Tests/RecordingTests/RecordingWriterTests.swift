import Foundation
import Recording
import Testing
import TockModel

/// The writers: what Tock records, the readers (and Kapacitor, whose layout the fixtures have) read back.
@Suite("Writing Kapacitor recordings")
struct RecordingWriterTests {
    static func temporaryPath(_ name: String) throws -> String {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("tock-writer-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        return dir.appendingPathComponent(name).path
    }

    @Test("a stream recording written by Tock is a gzip .srpl that reads back point for point")
    func streamRoundTrip() throws {
        var points: [Point] = []
        try StreamRecordingReader(path: Fixture.path("cpu.srpl")).read { points += $0 }
        let path = try Self.temporaryPath("out.srpl")
        let writer = try StreamRecordingWriter(path: path)
        for p in points { try writer.write(p) }
        try writer.close()
        #expect(writer.count == 4)

        #expect(try RecordingInput.format(path: path) == .stream(gzip: true))
        var back: [Point] = []
        try StreamRecordingReader(path: path).read { back += $0 }
        #expect(back.map(\.database) == ["telegraf", "telegraf", "telegraf", "other"])
        #expect(back.map(\.retentionPolicy) == ["autogen", "autogen", "autogen", "weekly"])
        #expect(back.map(\.time) == points.map(\.time))
        #expect(back.map(\.fields) == points.map(\.fields))
        #expect(back.map(\.tags) == points.map(\.tags))

        // Three lines per point: database, retention policy, line protocol with nanosecond times.
        var text = ""
        try RecordingInput.forEachLineChunk(path: path) { chunk, _ in text += String(decoding: chunk, as: UTF8.self) }
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        #expect(lines.count == 13 && lines.last == "")
        #expect(lines[0] == "telegraf" && lines[1] == "autogen")
        #expect(lines[2].hasPrefix("cpu,host=a usage=10") && lines[2].hasSuffix(" 1700000000000000000"))
        #expect(lines[11] == "mem,host=a used=5i 1700000003000000000")
    }

    @Test("an empty stream recording is a valid gzip file with nothing in it")
    func emptyStream() throws {
        let path = try Self.temporaryPath("empty.srpl")
        try StreamRecordingWriter(path: path).close()
        #expect(try StreamRecordingReader(path: path).read { _ in Issue.record("a point in an empty recording") } == 0)
    }

    @Test("a point line protocol cannot carry is refused and nothing of it is written")
    func badPoint() throws {
        let path = try Self.temporaryPath("bad.srpl")
        let writer = try StreamRecordingWriter(path: path)
        #expect(throws: RecordingError.self) { try writer.write(Point(name: "cpu", fields: [:], time: 1)) }
        try writer.write(Point(name: "cpu", fields: ["v": .int(1)], time: 2, database: "db", retentionPolicy: "rp"))
        try writer.close()
        var back: [Point] = []
        try StreamRecordingReader(path: path).read { back += $0 }
        #expect(back.map(\.time) == [2])
    }

    @Test("a batch recording written by Tock is a zip of JSON-line entries 0, 1, … that reads back batch for batch")
    func batchRoundTrip() throws {
        let original = try BatchRecording.read(path: Fixture.path("cpu.brpl"))
        let path = try Self.temporaryPath("out.brpl")
        let writer = try BatchRecordingWriter(path: path)
        for entry in original.entries { try writer.addEntry(entry.batches) }
        try writer.close()

        #expect(try RecordingInput.format(path: path) == .batch)
        let back = try BatchRecording.read(path: path)
        #expect(back.entries.map(\.name) == original.entries.indices.map(String.init))
        #expect(back.entries.map(\.batches) == original.entries.map(\.batches))
    }

    @Test("the archive is a zip other tools accept", .enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/unzip")))
    func zipAcceptedByUnzip() throws {
        let path = try Self.temporaryPath("check.brpl")
        let writer = try BatchRecordingWriter(path: path)
        let batch = Batch(name: "cpu", tmax: 1_700_000_000_000_000_000,
                          points: [BatchPoint(time: 1_700_000_000_000_000_000, fields: ["usage": .double(1.5)])])
        try writer.addEntry([batch])
        try writer.addEntry([batch, batch])
        try writer.close()
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/unzip")
        process.arguments = ["-t", path]
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        #expect(process.terminationStatus == 0, "\(output)")
        #expect(output.contains("testing: 0") && output.contains("testing: 1"), "\(output)")
    }

    @Test("a batch is one JSON line as Kapacitor's bufferedBatchMessage encodes it, empty members left out")
    func batchJSON() {
        let tags = Tags(["host": "a"])
        let dims = Dimensions(byName: false, tagNames: ["host"])
        let batch = Batch(name: "cpu", group: GroupID(name: "cpu", tags: tags, dimensions: dims), tags: tags, dimensions: dims,
                          tmax: 1_700_000_001_000_000_000,
                          points: [BatchPoint(time: 1_700_000_000_500_000_000, fields: ["n": .int(3), "usage": .double(90)],
                                              tags: tags),
                                   BatchPoint(time: 1_700_000_001_000_000_000, fields: ["s": .string("<ok>")])])
        var text = ""
        BatchRecordingWriter.appendJSON(batch, to: &text)
        let expected = "{\"name\":\"cpu\",\"tmax\":\"2023-11-14T22:13:21Z\",\"group\":\"\(GoEscaped(batch.group.rawValue))\",\"tags\":{\"host\":\"a\"},"
            + "\"points\":[{\"fields\":{\"n\":3,\"usage\":90},\"time\":\"2023-11-14T22:13:20.5Z\",\"tags\":{\"host\":\"a\"}},"
            + "{\"fields\":{\"s\":\"\\u003cok\\u003e\"},\"time\":\"2023-11-14T22:13:21Z\"}]}\n"
        #expect(text == expected)
    }

    private func GoEscaped(_ s: String) -> String {
        s.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\n", with: "\\n")
    }
}
