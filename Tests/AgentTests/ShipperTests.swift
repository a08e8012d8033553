import Foundation
import LogTesting
import Synchronization
import Testing
import TockModel
@testable import Agent

@Suite("The agent's shipper: batches by size and interval, keeps them while the server is down, sends them in order")
struct ShipperTests {
    /// A server the test scripts: it answers each batch with the next outcome (the last one repeats) and records
    /// what it took.
    final class ScriptedServer: Sendable {
        let outcomes: Mutex<[WriteClient.Outcome]>
        let taken = Mutex<[DiskBuffer.Batch]>([])
        let attempts = Mutex(0)

        init(_ outcomes: [WriteClient.Outcome]) { self.outcomes = Mutex(outcomes) }

        func send(_ batch: DiskBuffer.Batch) -> WriteClient.Outcome {
            attempts.withLock { $0 += 1 }
            let outcome = outcomes.withLock { $0.count > 1 ? $0.removeFirst() : $0[0] }
            if outcome == .written { taken.withLock { $0.append(batch) } }
            return outcome
        }

        func script(_ outcomes: [WriteClient.Outcome]) { self.outcomes.withLock { $0 = outcomes } }

        /// The line protocol of every batch taken, in order.
        var lines: [String] {
            taken.withLock { batches in
                batches.flatMap { batch in
                    let text = batch.gzip ? (try? Shipper.gunzip(batch.body)) ?? [] : batch.body
                    return String(decoding: text, as: UTF8.self).split(separator: "\n").map(String.init)
                }
            }
        }
    }

    static func configuration(batchSize: Int = 1000, gzip: Bool = true) -> AgentConfiguration {
        var c = AgentConfiguration()
        c.urls = ["http://127.0.0.1:1"]
        c.batchSize = batchSize
        c.gzip = gzip
        c.flushInterval = .milliseconds(50)
        return c
    }

    static func points(_ range: Range<Int>, database: String = "") -> [Point] {
        range.map { i in
            var p = Point(name: "seq", tags: Tags(["host": "h1"]), fields: Fields([("n", .int(Int64(i)))]), time: Int64(i))
            p.database = database
            return p
        }
    }

    static func waitUntil(_ what: String, _ condition: () -> Bool) async throws {
        let deadline = ContinuousClock.now + .seconds(20)
        while !condition() {
            guard ContinuousClock.now < deadline else { throw ShipperTestError(what) }
            try await Task.sleep(for: .milliseconds(10))
        }
    }

    @Test("points are batched per database up to batch-size, gzip-compressed, and taken in order")
    func batching() async throws {
        let dir = try DiskBufferTests.directory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let server = ScriptedServer([.written])
        let shipper = Shipper(configuration: Self.configuration(batchSize: 10), buffer: try DiskBuffer(directory: dir, maxBytes: 1 << 20),
                              logger: .discarding) { batch, _ in server.send(batch) }
        let running = Task { await shipper.run() }
        defer { running.cancel() }
        shipper.submit(Self.points(0..<25))
        shipper.submit(Self.points(100..<103, database: "other"))
        try await Self.waitUntil("28 points taken") { shipper.stats.sentPoints == 28 }
        let batches = server.taken.withLock { $0 }
        #expect(batches.filter { $0.database == "telegraf" }.map(\.points) == [10, 10, 5])
        #expect(batches.filter { $0.database == "other" }.map(\.points) == [3])
        #expect(batches.allSatisfy { $0.gzip })
        let telegraf = batches.filter { $0.database == "telegraf" }
        let lines = telegraf.flatMap { String(decoding: try! Shipper.gunzip($0.body), as: UTF8.self).split(separator: "\n").map(String.init) }
        #expect(lines == (0..<25).map { "seq,host=h1 n=\($0)i \($0)" })
    }

    @Test("while the server is down batches wait on disk; when it is back they are sent oldest first and none is lost")
    func outage() async throws {
        let dir = try DiskBufferTests.directory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let server = ScriptedServer([.retry("connection refused")])
        var configuration = Self.configuration(batchSize: 5, gzip: false)
        configuration.retryMaxInterval = .milliseconds(200)
        let buffer = try DiskBuffer(directory: dir, maxBytes: 1 << 20)
        let lines = LogRecorder()
        let shipper = Shipper(configuration: configuration, buffer: buffer, logger: lines.logger) { batch, _ in
            server.send(batch)
        }
        let running = Task { await shipper.run() }
        defer { running.cancel() }
        shipper.submit(Self.points(0..<20))
        try await Self.waitUntil("a failed attempt") { server.attempts.withLock { $0 } >= 2 }
        #expect(buffer.totals.points == 20)
        #expect(shipper.stats.sentPoints == 0)
        #expect(lines.entries.filter { $0.0 == .error && $0.1.hasPrefix("cannot write: connection refused") }.count == 1)
        // Waiting batches are synced to the disk once the server failed to take them.
        #expect(buffer.unsyncedCount == 0)
        server.script([.written])
        try await Self.waitUntil("every point taken") { shipper.stats.sentPoints == 20 }
        #expect(server.lines == (0..<20).map { "seq,host=h1 n=\($0)i \($0)" })
        #expect(buffer.totals.batches == 0)
        #expect(lines.contains(.info, "the server takes writes again"))
    }

    @Test("points the server refuses (400) are dropped and counted, not retried; the next batch goes on")
    func rejected() async throws {
        let dir = try DiskBufferTests.directory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let server = ScriptedServer([.rejected("partial write: field type conflict"), .written])
        let shipper = Shipper(configuration: Self.configuration(batchSize: 3), buffer: try DiskBuffer(directory: dir, maxBytes: 1 << 20),
                              logger: .discarding) { batch, _ in server.send(batch) }
        let running = Task { await shipper.run() }
        defer { running.cancel() }
        shipper.submit(Self.points(0..<6))
        try await Self.waitUntil("the second batch taken") { shipper.stats.sentPoints == 3 }
        #expect(shipper.stats.rejectedPoints == 3)
        #expect(shipper.stats.lastError?.contains("field type conflict") == true)
        #expect(server.attempts.withLock { $0 } == 2)
    }

    @Test("a batch the server finds too large (413) is sent in halves")
    func split() async throws {
        let dir = try DiskBufferTests.directory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let server = ScriptedServer([.tooLarge("413"), .written])
        let shipper = Shipper(configuration: Self.configuration(batchSize: 8), buffer: try DiskBuffer(directory: dir, maxBytes: 1 << 20),
                              logger: .discarding) { batch, _ in server.send(batch) }
        let running = Task { await shipper.run() }
        defer { running.cancel() }
        shipper.submit(Self.points(0..<8))
        try await Self.waitUntil("the halves taken") { shipper.stats.sentPoints == 8 }
        #expect(server.taken.withLock { $0.map(\.points) } == [4, 4])
        #expect(server.lines == (0..<8).map { "seq,host=h1 n=\($0)i \($0)" })
    }

    @Test("stop() cuts a write that hangs short and returns; the batch stays buffered and no outage is counted")
    func stopDuringWrite() async throws {
        let dir = try DiskBufferTests.directory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let writing = Mutex(false)
        let shipper = Shipper(configuration: Self.configuration(batchSize: 3), buffer: try DiskBuffer(directory: dir, maxBytes: 1 << 20),
                              logger: .discarding) { _, interruption in
            writing.withLock { $0 = true }
            // A server that never answers: only the interruption ends the write.
            while !interruption.isInterrupted { usleep(5_000) }
            return .retry("cancelled: the agent is stopping")
        }
        shipper.start()
        shipper.submit(Self.points(0..<3))
        try await Self.waitUntil("the write under way") { writing.withLock { $0 } }
        let started = ContinuousClock.now
        await Shipper.onThread("test-stop") { shipper.stop() }
        #expect(ContinuousClock.now - started < .seconds(2))
        #expect(shipper.buffer.totals.points == 3)
        #expect(shipper.stats.failedWrites == 0)
    }

    @Test("drain at shutdown seals the open batch; what the server does not take stays on disk for the next run")
    func drain() async throws {
        let dir = try DiskBufferTests.directory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let server = ScriptedServer([.retry("down")])
        let shipper = Shipper(configuration: Self.configuration(batchSize: 1000), buffer: try DiskBuffer(directory: dir, maxBytes: 1 << 20),
                              logger: .discarding) { batch, _ in server.send(batch) }
        shipper.submit(Self.points(0..<7))
        await shipper.drain(within: .milliseconds(300))
        let reopened = try DiskBuffer(directory: dir, maxBytes: 1 << 20)
        #expect(reopened.totals.points == 7)
    }
}

struct ShipperTestError: Error, CustomStringConvertible {
    var description: String
    init(_ what: String) { description = "timed out waiting for \(what)" }
}

@Suite("The agent's open batch journal: points collected between two flushes survive a kill")
struct OpenBatchJournalTests {
    /// The points of every batch in `buffer`, as line protocol.
    static func bufferedLines(_ buffer: DiskBuffer) throws -> [String] {
        var lines: [String] = []
        while let entry = buffer.oldest() {
            let batch = try #require(try buffer.read(entry))
            let text = batch.gzip ? try Shipper.gunzip(batch.body) : batch.body
            lines += String(decoding: text, as: UTF8.self).split(separator: "\n").map(String.init)
            buffer.remove(entry)
        }
        return lines
    }

    @Test("a shipper killed before its flush: the next one on the same directory seals the journaled points first")
    func recoveredAfterKill() throws {
        let dir = try DiskBufferTests.directory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        do {
            // Never sealed, never sent: the process "dies" with the batch open.
            let killed = Shipper(configuration: ShipperTests.configuration(), buffer: try DiskBuffer(directory: dir, maxBytes: 1 << 20),
                                 logger: .discarding) { _, _ in .retry("down") }
            killed.submit(ShipperTests.points(0..<3))
            killed.submit(ShipperTests.points(3..<5, database: "other"))
        }
        let logged = LogRecorder()
        let buffer = try DiskBuffer(directory: dir, maxBytes: 1 << 20)
        _ = Shipper(configuration: ShipperTests.configuration(), buffer: buffer, logger: logged.logger) { _, _ in .written }
        #expect(buffer.totals.points == 5)
        #expect(try Self.bufferedLines(buffer).sorted() == (0..<5).map { "seq,host=h1 n=\($0)i \($0)" }.sorted())
        #expect(logged.entries.first { $0.1.hasPrefix("5 points collected but not sealed") }?.0 == .info)
        // Recovered once: a third run finds nothing more.
        let again = try DiskBuffer(directory: dir, maxBytes: 1 << 20)
        _ = Shipper(configuration: ShipperTests.configuration(), buffer: again, logger: .discarding) { _, _ in .written }
        #expect(again.totals.points == 0)
    }

    @Test("sealed points are not journaled twice: after a flush, or a batch filled by batch-size, nothing is left to recover")
    func nothingLeftAfterSeal() throws {
        let dir = try DiskBufferTests.directory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        do {
            let shipper = Shipper(configuration: ShipperTests.configuration(batchSize: 4), buffer: try DiskBuffer(directory: dir, maxBytes: 1 << 20),
                                  logger: .discarding) { _, _ in .retry("down") }
            shipper.submit(ShipperTests.points(0..<6))  // one full batch of 4 sealed, 2 open
            #expect(OpenBatchJournal.recover(directory: dir).records.map(\.points) == [2])
            shipper.seal()
            #expect(OpenBatchJournal.recover(directory: dir).records.isEmpty)
        }
        let buffer = try DiskBuffer(directory: dir, maxBytes: 1 << 20)
        _ = Shipper(configuration: ShipperTests.configuration(), buffer: buffer, logger: .discarding) { _, _ in .written }
        #expect(buffer.totals.points == 6)
    }

    @Test("a record cut short by the kill is left out; the ones before it are recovered")
    func tornRecord() {
        let whole = Array("2 10 8:telegrafautogen\nab\ncd 1 2\n".utf8)
        let parsed = OpenBatchJournal.parse(whole + Array("1 99 1:x".utf8))
        #expect(!parsed.complete)
        #expect(parsed.records == [OpenBatchJournal.Record(database: "telegraf", retentionPolicy: "autogen", points: 2,
                                                            body: Array("ab\ncd 1 2\n".utf8))])
    }
}
