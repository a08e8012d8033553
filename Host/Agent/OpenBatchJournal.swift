#if canImport(Glibc)
import Glibc
#endif
import Synchronization

/// What the open (not yet sealed) batches hold, appended to a file in the buffer directory as the collectors hand
/// points over, so that an agent killed between two flushes (SIGKILL, a crash, the OOM killer) loses none of them:
/// the next run seals what the journal holds before it collects anything.
///
/// Each submission is one record: a header line `<points> <length> <database-length>:<database><retention-policy>`
/// then `length` bytes of line protocol. Appends are not synced: they survive the process, not a power cut (a sealed
/// batch is synced). Sealing moves `open.journal` aside to `sealing.journal` and deletes it once the sealed batches
/// are on disk; a crash in between leaves both, and the next run may send those points twice rather than lose them.
final class OpenBatchJournal: Sendable {
    /// One target's recovered points.
    struct Record: Sendable, Hashable {
        var database: String
        var retentionPolicy: String
        var points: Int
        var body: [UInt8]
    }

    let directory: String
    private let file = Mutex<Int32>(-1)

    var openPath: String { directory + "/open.journal" }
    var sealingPath: String { directory + "/sealing.journal" }

    init(directory: String) {
        self.directory = directory
    }

    deinit {
        file.withLock { fd in if fd >= 0 { close(fd) } }
    }

    /// Appends one submission; an error (disk full) is returned, the points stay in memory all the same.
    func append(database: String, retentionPolicy: String, points: Int, body: [UInt8]) -> String? {
        let record = Self.encode(Record(database: database, retentionPolicy: retentionPolicy, points: points, body: body))
        return file.withLock { fd -> String? in
            if fd < 0 {
                fd = open(openPath, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0o644)
                if fd < 0 { return "cannot open \(openPath): \(String(cString: strerror(errno)))" }
            }
            return Self.writeAll(fd, record)
        }
    }

    /// Starts sealing: what was journaled so far moves aside; later submissions go to a new journal.
    func beginSeal() {
        file.withLock { fd in
            if fd >= 0 { close(fd) }
            fd = -1
            // A sealing journal left by a crash was recovered at start; one still here is appended to, not lost.
            if access(sealingPath, F_OK) == 0, let left = Self.read(openPath) {
                let out = open(sealingPath, O_WRONLY | O_APPEND | O_CLOEXEC)
                if out >= 0 {
                    _ = Self.writeAll(out, left)
                    close(out)
                    unlink(openPath)
                }
            } else {
                rename(openPath, sealingPath)
            }
        }
    }

    /// The sealed batches are on disk: what was set aside is no longer needed.
    func endSeal() {
        unlink(sealingPath)
    }

    /// Replaces the journal with what is still open (after a full batch was sealed on its own).
    func replace(with open: [Record]) {
        file.withLock { fd in
            if fd >= 0 { close(fd) }
            fd = -1
            let temporary = openPath + ".tmp"
            var bytes: [UInt8] = []
            for r in open where r.points > 0 { bytes += Self.encode(r) }
            let out = Glibc.open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
            guard out >= 0 else { return }
            let failed = Self.writeAll(out, bytes) != nil
            close(out)
            if failed { unlink(temporary) } else { rename(temporary, openPath) }
        }
    }

    /// A record as the journal holds it: its header line, then its body.
    static func encode(_ r: Record) -> [UInt8] {
        Array("\(r.points) \(r.body.count) \(r.database.utf8.count):\(r.database)\(r.retentionPolicy)\n".utf8) + r.body
    }

    /// What the journals of an earlier run hold, merged per target in order (a record cut short by the crash is
    /// left out), and whether there was anything; the journals are deleted once the caller has stored the records
    /// (``discardRecovered()``).
    static func recover(directory: String) -> (records: [Record], torn: Bool) {
        var merged: [Record] = []
        var torn = false
        for name in ["sealing.journal", "open.journal"] {
            guard let bytes = read(directory + "/" + name) else { continue }
            let (records, complete) = parse(bytes)
            torn = torn || !complete
            for r in records {
                if let i = merged.firstIndex(where: { $0.database == r.database && $0.retentionPolicy == r.retentionPolicy }) {
                    merged[i].points += r.points
                    merged[i].body += r.body
                } else {
                    merged.append(r)
                }
            }
        }
        return (merged, torn)
    }

    /// Deletes the journals of an earlier run.
    static func discardRecovered(directory: String) {
        unlink(directory + "/sealing.journal")
        unlink(directory + "/open.journal")
    }

    /// The records of a journal, and whether it ended on a record boundary.
    static func parse(_ bytes: [UInt8]) -> (records: [Record], complete: Bool) {
        var records: [Record] = []
        var at = 0
        while at < bytes.count {
            guard let newline = bytes[at...].firstIndex(of: UInt8(ascii: "\n")) else { return (records, false) }
            let header = String(decoding: bytes[at..<newline], as: UTF8.self)
            let parts = header.split(separator: " ", maxSplits: 2, omittingEmptySubsequences: false)
            guard parts.count == 3, let points = Int(parts[0]), let length = Int(parts[1]),
                  let colon = parts[2].firstIndex(of: ":"), let nameLength = Int(parts[2][..<colon]) else { return (records, false) }
            let names = Array(parts[2][parts[2].index(after: colon)...].utf8)
            guard nameLength <= names.count, newline + 1 + length <= bytes.count else { return (records, false) }
            records.append(Record(database: String(decoding: names[..<nameLength], as: UTF8.self),
                                  retentionPolicy: String(decoding: names[nameLength...], as: UTF8.self),
                                  points: points, body: Array(bytes[(newline + 1)..<(newline + 1 + length)])))
            at = newline + 1 + length
        }
        return (records, true)
    }

    /// A whole file; nil when it cannot be read.
    static func read(_ path: String) -> [UInt8]? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var out: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = chunk.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
            if n < 0 { if errno == EINTR { continue }; return nil }
            if n == 0 { return out }
            out += chunk[0..<n]
        }
    }

    private static func writeAll(_ fd: Int32, _ bytes: [UInt8]) -> String? {
        var written = 0
        while written < bytes.count {
            let n = bytes.withUnsafeBytes { write(fd, $0.baseAddress! + written, $0.count - written) }
            if n < 0 {
                if errno == EINTR { continue }
                return "cannot write the open batch journal: \(String(cString: strerror(errno)))"
            }
            written += n
        }
        return nil
    }
}
