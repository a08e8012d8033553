#if canImport(Glibc)
import Glibc
#endif
import Foundation
import Logging
import Synchronization
import TockModel

/// The agent's outbox: sealed batches on disk, oldest first, until a server takes them.
///
/// Every batch is written here before it is sent (to a temporary name, then renamed), so a batch survives the server
/// being down and the agent being restarted or killed. A batch is made durable against a power cut (`fsync`) only once
/// it has to wait: ``sync()`` when the server does not take it, or when the agent stops with it unsent. While the server
/// takes writes, a batch leaves within milliseconds of its writing, and syncing it would cost more than the agent's
/// collectors do. The buffer is bounded by its total size on disk: when a
/// new batch would pass the bound, the oldest batches are deleted and their points counted as dropped. Nothing is
/// dropped while the buffer is under its bound.
///
/// A batch file is one header line, `tock-agent-batch v1 db=… rp=… points=N gzip=0|1`, then the body as it is
/// posted to `/write`.
public final class DiskBuffer: Sendable {
    /// A batch for one database and retention policy, its body as sent (line protocol, gzip-compressed when `gzip`).
    public struct Batch: Sendable, Hashable {
        public var database: String
        public var retentionPolicy: String
        public var points: Int
        public var gzip: Bool
        public var body: [UInt8]

        public init(database: String, retentionPolicy: String, points: Int, gzip: Bool, body: [UInt8]) {
            self.database = database
            self.retentionPolicy = retentionPolicy
            self.points = points
            self.gzip = gzip
            self.body = body
        }
    }

    /// A batch waiting on disk.
    public struct Entry: Sendable, Hashable {
        public var sequence: UInt64
        public var bytes: Int
        public var points: Int
    }

    /// What the buffer holds and has dropped since it was opened.
    public struct Totals: Sendable, Hashable {
        public var batches = 0
        public var bytes = 0
        public var points = 0
        public var droppedBatches = 0
        public var droppedPoints = 0
    }

    public let directory: String
    public let maxBytes: Int
    private let state: Mutex<State>

    private struct State {
        var entries: [Entry] = []
        var next: UInt64 = 1
        var totals = Totals()
        /// Batches written but not yet synced to the disk.
        var unsynced: Set<UInt64> = []
    }

    /// Opens (creating it if needed) the buffer in `directory`; batches left by an earlier run are kept, in order.
    /// Files that are not batches, or batches whose header cannot be read, are logged and set aside
    /// with a `.bad` suffix.
    public init(directory: String, maxBytes: Int, logger: Logger = .discarding) throws(DiskBufferError) {
        self.directory = directory
        self.maxBytes = maxBytes
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        } catch {
            throw DiskBufferError("cannot create the buffer directory \(directory): \(error.localizedDescription)")
        }
        guard access(directory, W_OK) == 0 else {
            throw DiskBufferError("the buffer directory \(directory) is not writable: \(String(cString: strerror(errno)))")
        }
        let names: [String]
        do { names = try FileManager.default.contentsOfDirectory(atPath: directory) } catch {
            throw DiskBufferError("cannot list the buffer directory \(directory): \(error.localizedDescription)")
        }
        var state = State()
        for name in names.sorted() {
            let path = "\(directory)/\(name)"
            // Names are never reused, not even those of files set aside or cut short.
            if let number = UInt64(name.prefix { $0.isNumber }) { state.next = max(state.next, number + 1) }
            if name.hasSuffix(".tmp") {
                unlink(path)  // a write cut short by a crash: it never became a batch
                continue
            }
            guard name.hasSuffix(".batch"), let sequence = UInt64(name.dropLast(6)) else { continue }
            guard let header = Self.readHeader(path), let size = Self.size(path) else {
                logger.warning("buffered batch \(path) is unreadable; set aside as \(name).bad")
                rename(path, path + ".bad")
                continue
            }
            state.entries.append(Entry(sequence: sequence, bytes: size, points: header.points))
            state.totals.batches += 1
            state.totals.bytes += size
            state.totals.points += header.points
            state.next = max(state.next, sequence + 1)
        }
        self.state = Mutex(state)
    }

    public var totals: Totals { state.withLock { $0.totals } }

    /// The oldest batch waiting, if any.
    public func oldest() -> Entry? { state.withLock { $0.entries.first } }

    /// Writes `batch` (synced to the disk when `synced`, else at the next ``sync()``), then drops the oldest batches
    /// until the buffer is within its bound again.
    /// - Returns: the number of points dropped to make room.
    @discardableResult
    public func append(_ batch: Batch, synced: Bool = true) throws(DiskBufferError) -> Int {
        let sequence = state.withLock { state in
            defer { state.next += 1 }
            return state.next
        }
        let path = self.path(sequence)
        let temporary = String(path.dropLast(".batch".count)) + ".tmp"
        var bytes = Array(Self.header(batch).utf8)
        bytes += batch.body
        try Self.writeFile(bytes, to: temporary, sync: synced)
        guard rename(temporary, path) == 0 else {
            let reason = String(cString: strerror(errno))
            unlink(temporary)
            throw DiskBufferError("cannot rename \(temporary) to \(path): \(reason)")
        }
        let dropped = state.withLock { state -> [Entry] in
            state.entries.append(Entry(sequence: sequence, bytes: bytes.count, points: batch.points))
            if !synced { state.unsynced.insert(sequence) }
            state.totals.batches += 1
            state.totals.bytes += bytes.count
            state.totals.points += batch.points
            var dropped: [Entry] = []
            while state.totals.bytes > maxBytes, !state.entries.isEmpty {
                let entry = state.entries.removeFirst()
                state.unsynced.remove(entry.sequence)
                state.totals.batches -= 1
                state.totals.bytes -= entry.bytes
                state.totals.points -= entry.points
                state.totals.droppedBatches += 1
                state.totals.droppedPoints += entry.points
                dropped.append(entry)
            }
            return dropped
        }
        for entry in dropped { unlink(self.path(entry)) }
        return dropped.reduce(0) { $0 + $1.points }
    }

    /// Reads a waiting batch back; `nil` when it was dropped meanwhile.
    public func read(_ entry: Entry) throws(DiskBufferError) -> Batch? {
        guard state.withLock({ $0.entries.contains(entry) }) else { return nil }
        let path = self.path(entry)
        guard let bytes = OpenBatchJournal.read(path) else {
            if state.withLock({ !$0.entries.contains(entry) }) { return nil }
            throw DiskBufferError("cannot read the buffered batch \(path)")
        }
        guard let end = bytes.firstIndex(of: UInt8(ascii: "\n")),
              let header = Self.parseHeader(String(decoding: bytes[..<end], as: UTF8.self)) else {
            throw DiskBufferError("the buffered batch \(path) has no valid header")
        }
        return Batch(database: header.database, retentionPolicy: header.retentionPolicy, points: header.points,
                     gzip: header.gzip, body: Array(bytes[(end + 1)...]))
    }

    /// Deletes a batch a server has taken (or refused for good).
    public func remove(_ entry: Entry) {
        let removed = state.withLock { state -> Bool in
            guard let index = state.entries.firstIndex(of: entry) else { return false }
            state.entries.remove(at: index)
            state.unsynced.remove(entry.sequence)
            state.totals.batches -= 1
            state.totals.bytes -= entry.bytes
            state.totals.points -= entry.points
            return true
        }
        if removed { unlink(path(entry)) }
    }

    private func path(_ entry: Entry) -> String { path(entry.sequence) }

    /// The file of the batch numbered `sequence`.
    private func path(_ sequence: UInt64) -> String {
        let digits = String(sequence)
        return "\(directory)/\(String(repeating: "0", count: max(0, 20 - digits.count)))\(digits).batch"
    }

    // MARK: Files

    struct Header: Hashable {
        var database: String
        var retentionPolicy: String
        var points: Int
        var gzip: Bool
    }

    static func header(_ batch: Batch) -> String {
        "tock-agent-batch v1 db=\(escape(batch.database)) rp=\(escape(batch.retentionPolicy)) points=\(batch.points) gzip=\(batch.gzip ? 1 : 0)\n"
    }

    static func parseHeader(_ line: String) -> Header? {
        let words = line.split(separator: " ")
        guard words.count == 6, words[0] == "tock-agent-batch", words[1] == "v1" else { return nil }
        var values: [String: String] = [:]
        for word in words.dropFirst(2) {
            guard let equals = word.firstIndex(of: "=") else { return nil }
            values[String(word[..<equals])] = unescape(word[word.index(after: equals)...])
        }
        guard let database = values["db"], let rp = values["rp"], let points = values["points"].flatMap({ Int($0) }),
              let gzip = values["gzip"] else { return nil }
        return Header(database: database, retentionPolicy: rp, points: points, gzip: gzip == "1")
    }

    /// `text` with every byte but ASCII letters, digits, `-`, `_` and `.` percent-encoded (plain bytes, not
    /// Foundation's `CharacterSet`, whose Unicode tables would stay resident in the agent for one header a round).
    static func escape(_ text: String) -> String {
        let hex = Array("0123456789ABCDEF".utf8)
        var out: [UInt8] = []
        out.reserveCapacity(text.utf8.count)
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
                 UInt8(ascii: "-"), UInt8(ascii: "_"), UInt8(ascii: "."):
                out.append(byte)
            default:
                out += [UInt8(ascii: "%"), hex[Int(byte >> 4)], hex[Int(byte & 15)]]
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// The text `escape` (or an earlier agent's `addingPercentEncoding`, which left non-ASCII letters as they were)
    /// wrote; nil for a `%` not followed by two hex digits, or bytes that are not UTF-8.
    static func unescape(_ text: Substring) -> String? {
        var out: [UInt8] = []
        var bytes = text.utf8.makeIterator()
        func hexValue(_ byte: UInt8?) -> UInt8? {
            switch byte {
            case let b? where b >= UInt8(ascii: "0") && b <= UInt8(ascii: "9"): b - UInt8(ascii: "0")
            case let b? where b >= UInt8(ascii: "A") && b <= UInt8(ascii: "F"): b - UInt8(ascii: "A") + 10
            case let b? where b >= UInt8(ascii: "a") && b <= UInt8(ascii: "f"): b - UInt8(ascii: "a") + 10
            default: nil
            }
        }
        while let byte = bytes.next() {
            guard byte == UInt8(ascii: "%") else {
                out.append(byte)
                continue
            }
            guard let high = hexValue(bytes.next()), let low = hexValue(bytes.next()) else { return nil }
            out.append(high << 4 | low)
        }
        return String(validating: out, as: UTF8.self)
    }

    static func readHeader(_ path: String) -> Header? {
        guard let handle = FileHandle(forReadingAtPath: path) else { return nil }
        defer { try? handle.close() }
        guard let data = try? handle.read(upToCount: 512), let end = data.firstIndex(of: UInt8(ascii: "\n")) else { return nil }
        return parseHeader(String(decoding: data[..<end], as: UTF8.self))
    }

    static func size(_ path: String) -> Int? {
        var info = stat()
        return stat(path, &info) == 0 ? Int(info.st_size) : nil
    }

    /// How many batches wait to be synced.
    public var unsyncedCount: Int { state.withLock { $0.unsynced.count } }

    /// Syncs the batches written unsynced, and the directory that names them, to the disk.
    /// - Returns: why that failed, nil when every waiting batch is on the disk.
    @discardableResult
    public func sync() -> String? {
        let waiting = state.withLock { state -> [UInt64] in
            defer { state.unsynced = [] }
            return state.unsynced.sorted()
        }
        guard !waiting.isEmpty else { return nil }
        var failure: String?
        for sequence in waiting {
            let path = self.path(sequence)
            let fd = open(path, O_RDONLY | O_CLOEXEC)
            guard fd >= 0 else { continue }  // sent or dropped meanwhile
            if fsync(fd) != 0 { failure = "cannot sync \(path): \(String(cString: strerror(errno)))" }
            close(fd)
        }
        let dir = open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if dir >= 0 {
            if fsync(dir) != 0 { failure = failure ?? "cannot sync \(directory): \(String(cString: strerror(errno)))" }
            close(dir)
        }
        return failure
    }

    static func writeFile(_ bytes: [UInt8], to path: String, sync: Bool) throws(DiskBufferError) {
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw DiskBufferError("cannot create \(path): \(String(cString: strerror(errno)))") }
        var written = 0
        let failure: String? = bytes.withUnsafeBytes { raw in
            while written < raw.count {
                let n = write(fd, raw.baseAddress! + written, raw.count - written)
                if n < 0 {
                    if errno == EINTR { continue }
                    return String(cString: strerror(errno))
                }
                written += n
            }
            return !sync || fsync(fd) == 0 ? nil : String(cString: strerror(errno))
        }
        close(fd)
        if let failure {
            unlink(path)
            throw DiskBufferError("cannot write \(path): \(failure)")
        }
    }
}

/// The buffer directory cannot be used, or a batch cannot be written or read.
public struct DiskBufferError: Error, Sendable, Hashable, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}
