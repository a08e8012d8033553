import Foundation
import LogTesting
import Testing
@testable import Agent

@Suite("The agent's disk buffer: batches wait on disk, oldest first, within a bound, across restarts")
struct DiskBufferTests {
    static func directory() throws -> String {
        let path = NSTemporaryDirectory() + "tock-buffer-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    static func batch(_ text: String, points: Int = 1, database: String = "telegraf") -> DiskBuffer.Batch {
        DiskBuffer.Batch(database: database, retentionPolicy: "", points: points, gzip: false, body: Array(text.utf8))
    }

    @Test("batches come back in the order they were appended, with their database and retention policy")
    func order() throws {
        let dir = try Self.directory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let buffer = try DiskBuffer(directory: dir, maxBytes: 1 << 20)
        try buffer.append(Self.batch("a v=1 1\n", database: "db one"))
        try buffer.append(DiskBuffer.Batch(database: "x", retentionPolicy: "rp=2", points: 2, gzip: true, body: [0, 1, 2, 10, 255]))
        let first = try #require(buffer.oldest())
        let read = try #require(try buffer.read(first))
        #expect(read.database == "db one")
        #expect(read.body == Array("a v=1 1\n".utf8))
        buffer.remove(first)
        let next = try #require(buffer.oldest())
        let second = try #require(try buffer.read(next))
        #expect(second == DiskBuffer.Batch(database: "x", retentionPolicy: "rp=2", points: 2, gzip: true, body: [0, 1, 2, 10, 255]))
        #expect(buffer.totals.batches == 1)
        #expect(buffer.totals.points == 2)
    }

    @Test("a batch written unsynced is there for a restarted agent at once, and waits for sync() to reach the disk")
    func deferredSync() throws {
        let dir = try Self.directory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let buffer = try DiskBuffer(directory: dir, maxBytes: 1 << 20)
        try buffer.append(Self.batch("a v=1 1\n"), synced: false)
        try buffer.append(Self.batch("a v=2 2\n"), synced: false)
        try buffer.append(Self.batch("a v=3 3\n"))
        #expect(buffer.unsyncedCount == 2)
        // Another process (a restarted agent) reads them without any sync.
        let reopened = try DiskBuffer(directory: dir, maxBytes: 1 << 20)
        #expect(reopened.totals.batches == 3)
        // A batch sent before the sync is no longer waiting for it.
        buffer.remove(try #require(buffer.oldest()))
        #expect(buffer.unsyncedCount == 1)
        #expect(buffer.sync() == nil)
        #expect(buffer.unsyncedCount == 0)
        #expect(buffer.totals.batches == 2)
    }

    @Test("past its bound the buffer drops the oldest batches and counts their points; below it nothing is dropped")
    func bound() throws {
        let dir = try Self.directory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let body = String(repeating: "x", count: 900) + "\n"
        let buffer = try DiskBuffer(directory: dir, maxBytes: 5_000)
        var dropped = 0
        for i in 0..<5 { dropped += try buffer.append(Self.batch("\(i)" + body, points: 10)) }
        #expect(dropped == 0)
        #expect(buffer.totals.batches == 5)
        for i in 5..<8 { dropped += try buffer.append(Self.batch("\(i)" + body, points: 10)) }
        #expect(dropped == 30)
        #expect(buffer.totals.droppedPoints == 30)
        #expect(buffer.totals.bytes <= 5_000)
        let oldestEntry = try #require(buffer.oldest())
        let oldest = try #require(try buffer.read(oldestEntry))
        #expect(oldest.body.first == UInt8(ascii: "3"))
        let files = try FileManager.default.contentsOfDirectory(atPath: dir).filter { $0.hasSuffix(".batch") }
        #expect(files.count == buffer.totals.batches)
    }

    @Test("a reopened buffer keeps the earlier run's batches in order; a half-written file is deleted, a bad one set aside")
    func reopen() throws {
        let dir = try Self.directory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        do {
            let buffer = try DiskBuffer(directory: dir, maxBytes: 1 << 20)
            for i in 0..<3 { try buffer.append(Self.batch("m v=\(i) \(i)\n", points: 1)) }
        }
        try "partial".write(toFile: dir + "/00000000000000000009.tmp", atomically: false, encoding: .utf8)
        try "not a batch header\n".write(toFile: dir + "/00000000000000000008.batch", atomically: false, encoding: .utf8)
        let lines = LogRecorder()
        let buffer = try DiskBuffer(directory: dir, maxBytes: 1 << 20, logger: lines.logger)
        #expect(buffer.totals.batches == 3)
        #expect(lines.entries.contains { $0.0 == .warning && $0.1.contains("00000000000000000008.batch") && $0.1.contains("set aside") })
        #expect(!FileManager.default.fileExists(atPath: dir + "/00000000000000000009.tmp"))
        #expect(FileManager.default.fileExists(atPath: dir + "/00000000000000000008.batch.bad"))
        var bodies: [String] = []
        while let entry = buffer.oldest() {
            bodies.append(String(decoding: try #require(try buffer.read(entry)).body, as: UTF8.self))
            buffer.remove(entry)
        }
        #expect(bodies == ["m v=0 0\n", "m v=1 1\n", "m v=2 2\n"])
        // New batches continue after the old ones, never reusing a name.
        try buffer.append(Self.batch("n v=1 1\n"))
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir).contains("00000000000000000010.batch"))
    }

    @Test("a directory that cannot be written is refused with its path")
    func unwritable() throws {
        #expect {
            try DiskBuffer(directory: "/proc/tock-no-such-dir", maxBytes: 1 << 20)
        } throws: { ($0 as? DiskBufferError)?.description.contains("/proc/tock-no-such-dir") == true }
    }

    @Test("a batch's header keeps any database and retention policy name, and reads the headers earlier agents wrote")
    func headerNames() throws {
        for name in ["telegraf", "my db", "a=b%c", "données", "\"quoted\"", "tab\there", ""] {
            #expect(DiskBuffer.unescape(Substring(DiskBuffer.escape(name))) == name)
            #expect(!DiskBuffer.escape(name).contains(" ") && !DiskBuffer.escape(name).contains("="))
        }
        // Foundation's percent-encoding left non-ASCII letters as they were.
        #expect(DiskBuffer.parseHeader("tock-agent-batch v1 db=donn\u{e9}es rp=my%20rp points=3 gzip=1")
                == DiskBuffer.Header(database: "données", retentionPolicy: "my rp", points: 3, gzip: true))
        #expect(DiskBuffer.unescape("bad%G1") == nil)
        #expect(DiskBuffer.unescape("cut%4") == nil)
        #expect(DiskBuffer.unescape("%FF%FE") == nil, "not UTF-8")
    }
}
