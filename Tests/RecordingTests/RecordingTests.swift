import Foundation
import Recording
import Testing
import TockModel

/// The fixtures in Tests/Fixtures/recordings (written as Kapacitor writes recordings by make_fixtures.py).
enum Fixture {
    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures/recordings")
    static func path(_ name: String) -> String { directory.appendingPathComponent(name).path }

    /// A temporary file holding `bytes`.
    static func temporary(_ bytes: [UInt8], name: String = "input") throws -> String {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("tock-recording-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let url = dir.appendingPathComponent(name)
        try Data(bytes).write(to: url)
        return url.path
    }
}

/// 2023-11-14T22:13:20Z, the first recorded time of the fixtures.
private let t0: Timestamp = 1_700_000_000_000_000_000
private let second: Timestamp = 1_000_000_000

@Suite("Kapacitor recordings: formats told by content")
struct RecordingFormatTests {
    @Test("gzip and plain stream recordings, batch archives and line protocol are told apart by their bytes")
    func detection() throws {
        #expect(try RecordingInput.format(path: Fixture.path("cpu.srpl")) == .stream(gzip: true))
        #expect(try RecordingInput.format(path: Fixture.path("cpu-plain.srpl")) == .stream(gzip: false))
        #expect(try RecordingInput.format(path: Fixture.path("cpu.brpl")) == .batch)
        // The name says nothing: line protocol in a file called .srpl is line protocol.
        let lp = try Fixture.temporary(Array("cpu,host=a usage=1 1\ncpu,host=b usage=2 2\n".utf8), name: "x.srpl")
        #expect(try RecordingInput.format(path: lp) == .lineProtocol)
        let comment = try Fixture.temporary(Array("# a comment\ncpu usage=1 1\n".utf8))
        #expect(try RecordingInput.format(path: comment) == .lineProtocol)
    }

    @Test("a missing file is an error naming it")
    func missing() {
        #expect(throws: RecordingError.self) { try RecordingInput.format(path: "/nonexistent/x.srpl") }
        do {
            _ = try RecordingInput.format(path: "/nonexistent/x.srpl")
        } catch {
            #expect(error.description.hasPrefix("/nonexistent/x.srpl: cannot open:"))
        }
    }
}

@Suite("Kapacitor stream recordings (.srpl)")
struct StreamRecordingTests {
    func readAll(_ name: String, rebase: RebaseTime? = nil, runLength: Int = 8192) throws -> [[Point]] {
        var runs: [[Point]] = []
        try StreamRecordingReader(path: Fixture.path(name)).read(runLength: runLength, rebase: rebase) { runs.append($0) }
        return runs
    }

    @Test("a gzip recording as Kapacitor writes it: database, retention policy and line protocol per point")
    func gzipRecording() throws {
        let points = try readAll("cpu.srpl").flatMap { $0 }
        #expect(points.count == 4)
        #expect(points.map(\.name) == ["cpu", "cpu", "cpu", "mem"])
        #expect(points.map(\.database) == ["telegraf", "telegraf", "telegraf", "other"])
        #expect(points.map(\.retentionPolicy) == ["autogen", "autogen", "autogen", "weekly"])
        #expect(points.map(\.time) == [t0, t0 + second, t0 + 2 * second, t0 + 3 * second])
        #expect(points[0].tags == ["host": "a"])
        #expect(points[0].fields["usage"] == .double(10))
        #expect(points[3].fields["used"] == .int(5))
    }

    @Test("the plain recording reads the same points; runs are cut at the run length")
    func plainRecording() throws {
        let gzip = try readAll("cpu.srpl").flatMap { $0 }
        let runs = try readAll("cpu-plain.srpl", runLength: 3)
        #expect(runs.map(\.count) == [3, 1])
        #expect(runs.flatMap { $0 } == gzip)
    }

    @Test("--rebase-time moves the first point to the time given and the others with it")
    func rebase() throws {
        let target = try #require(RebaseTime(parsing: "2026-01-01T00:00:00Z"))
        let points = try readAll("cpu.srpl", rebase: target).flatMap { $0 }
        let first: Timestamp = 1_767_225_600_000_000_000
        #expect(points.map(\.time) == [first, first + second, first + 2 * second, first + 3 * second])
        let now = Date(timeIntervalSince1970: 1_800_000_000)
        #expect(RebaseTime(parsing: "now", now: now)?.target == 1_800_000_000 * second)
        #expect(RebaseTime(parsing: "yesterday") == nil)
    }

    @Test("a recording that ends inside a point names the file and the last line")
    func truncated() throws {
        #expect(throws: RecordingError(file: Fixture.path("truncated.srpl"), line: 5,
                                       "invalid replay file format, expected another line (a line-protocol point after line 5)")) {
            try readAll("truncated.srpl")
        }
    }

    @Test("a bad line-protocol line names the file, line and column")
    func badLine() throws {
        do {
            _ = try readAll("bad-line.srpl")
            Issue.record("a bad line was accepted")
        } catch let error as RecordingError {
            #expect(error.line == 6)
            #expect(error.description.hasPrefix(Fixture.path("bad-line.srpl") + ":6: column "))
        }
    }

    @Test("a gzip stream cut short is an error, not a shorter recording")
    func cutGzip() throws {
        do {
            _ = try readAll("cut.srpl")
            Issue.record("a cut gzip stream was accepted")
        } catch let error as RecordingError {
            #expect(error.description.contains("cut.srpl: invalid gzip data"))
        }
    }

    @Test("gzip line protocol is read as line protocol, in line-aligned chunks")
    func gzipLineProtocol() throws {
        // gzip of "cpu usage=1 1\ncpu usage=2 2\n" with two members, as concatenated gzip files are.
        let text = Array("cpu usage=1 1\ncpu usage=2 2\n".utf8)
        let path = try Fixture.temporary(try gzipped(Array(text[0..<14])) + (try gzipped(Array(text[14...]))))
        #expect(try RecordingInput.format(path: path) == .gzipLineProtocol)
        var chunks: [(String, Int)] = []
        try RecordingInput.forEachLineChunk(path: path) { chunks.append((String(decoding: $0, as: UTF8.self), $1)) }
        #expect(chunks.map(\.0).joined() == String(decoding: text, as: UTF8.self))
        #expect(chunks.first?.1 == 1)
    }

    /// gzip by the system's `gzip` program (one member).
    func gzipped(_ bytes: [UInt8]) throws -> [UInt8] {
        let input = try Fixture.temporary(bytes)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["gzip", "-c", input]
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return [UInt8](data)
    }
}

@Suite("Kapacitor batch recordings (.brpl)")
struct BatchRecordingTests {
    @Test("a zip of JSON-lines batches as Kapacitor writes it (deflate with data descriptors, and stored)")
    func archive() throws {
        let recording = try BatchRecording.read(path: Fixture.path("cpu.brpl"))
        #expect(recording.entries.map(\.name) == ["0", "1"])
        let q0 = recording.entries[0].batches
        // The third batch of query 0 has no points: skipped, as Kapacitor's replay does.
        #expect(q0.count == 2)
        let a = q0[0]
        #expect(a.name == "cpu")
        #expect(a.tags == ["host": "a"])
        #expect(a.dimensions == Dimensions(byName: false, tagNames: ["host"]))
        #expect(a.group == GroupID(name: "cpu", tags: ["host": "a"], dimensions: Dimensions(tagNames: ["host"])))
        #expect(a.tmax == t0 + 10 * second)
        #expect(a.points.map(\.time) == [t0, t0 + 10 * second])
        // JSON numbers are floats, as Go decodes them; a point without tags takes the batch's.
        #expect(a.points.map { $0.fields["usage"] } == [.double(10), .double(12.5)])
        #expect(a.points.map(\.tags) == [["host": "a"], ["host": "a"]])
        let b = q0[1]
        #expect(b.points.first?.fields == ["usage": .double(7), "state": .string("busy"), "ok": .bool(true)])
        #expect(b.points.first?.time == t0 + 20 * second + second / 2)
        #expect(b.tmax == t0 + 40 * second)
        let mem = try #require(recording.entries[1].batches.first)
        #expect(mem.name == "mem" && mem.tags.isEmpty && mem.points.first?.tags.isEmpty == true)
        #expect(mem.points.first?.fields["used"] == .double(1))
    }

    @Test("rebasing moves each query's first point to the time given, tmax with the points")
    func rebase() throws {
        let target = try #require(RebaseTime(parsing: "2026-01-01T00:00:00Z"))
        let recording = try BatchRecording.read(path: Fixture.path("cpu.brpl"), rebase: target)
        let first: Timestamp = 1_767_225_600_000_000_000
        let q0 = recording.entries[0].batches
        #expect(q0[0].points.map(\.time) == [first, first + 10 * second])
        #expect(q0[0].tmax == first + 10 * second)
        #expect(q0[1].tmax == first + 40 * second)
        #expect(recording.entries[1].batches[0].points[0].time == first)
    }

    @Test("a bad batch names the file, the entry and the line")
    func badTime() {
        #expect(throws: RecordingError(file: Fixture.path("bad-time.brpl"), entry: "0", line: 2,
                                       "points[0].time \"yesterday\" is not an RFC 3339 time")) {
            try BatchRecording.read(path: Fixture.path("bad-time.brpl"))
        }
    }

    @Test("a damaged entry fails its checksum")
    func damaged() {
        #expect(throws: RecordingError(file: Fixture.path("damaged.brpl"), entry: "0",
                                       "checksum mismatch (the archive is damaged)")) {
            try BatchRecording.read(path: Fixture.path("damaged.brpl"))
        }
    }

    @Test("something that is not a zip archive says so")
    func notZip() throws {
        let path = try Fixture.temporary(Array("PK\u{3}\u{4} but nothing else".utf8))
        #expect(throws: RecordingError(file: path, "not a zip archive (no end of central directory record)")) {
            try BatchRecording.read(path: path)
        }
    }
}
