import Foundation
import LineProtocol
import TockModel

/// Writes a Kapacitor stream recording (`.srpl`) as Kapacitor writes one (`WritePointForRecording` in Kapacitor's
/// replay.go, the file wrapped in `gzip.NewWriter` by services/replay/service.go): for each point its database,
/// its retention policy and the point in line protocol with nanosecond times, each on its own line, in one gzip
/// member. ``StreamRecordingReader`` (and Kapacitor) read it back.
///
/// Not thread-safe: one writer per recording, used under its owner's lock.
public final class StreamRecordingWriter {
    public let path: String
    private let file: FileHandle
    private let deflater: Deflater
    private let serializer = LineProtocolSerializer(precision: .nanoseconds)
    private var pending: [UInt8] = []
    private var compressed: [UInt8] = []
    private var closed = false
    /// Points written so far.
    public private(set) var count = 0

    /// Creates (or truncates) the file at `path`.
    public init(path: String) throws(RecordingError) {
        self.path = path
        guard FileManager.default.createFile(atPath: path, contents: nil),
              let file = FileHandle(forWritingAtPath: path) else {
            throw RecordingError(file: path, "cannot create the recording file")
        }
        self.file = file
        do { deflater = try Deflater(.gzip) } catch { throw RecordingError(file: path, error.description) }
    }

    deinit { if !closed { try? file.close() } }

    /// Appends one point (its database and retention policy are the point's own).
    /// A point line protocol cannot carry (no fields, an empty name) is an error and nothing of it is written.
    public func write(_ point: Point) throws(RecordingError) {
        var line: [UInt8] = []  // ends with its line break
        do { try serializer.append(point, to: &line) } catch {
            throw RecordingError(file: path, "cannot record a point of \(point.name): \(error)")
        }
        pending.append(contentsOf: point.database.utf8)
        pending.append(0x0A)
        pending.append(contentsOf: point.retentionPolicy.utf8)
        pending.append(0x0A)
        pending.append(contentsOf: line)
        count += 1
        if pending.count >= 256 << 10 { try flushPending() }
    }

    /// Finishes the gzip member and closes the file; the writer takes nothing more.
    public func close() throws(RecordingError) {
        guard !closed else { return }
        closed = true
        do {
            try flushPending()
            try deflater.finish { compressed.append(contentsOf: $0) }
            try drain(force: true)
            try file.synchronize()
            try file.close()
        } catch let error as RecordingError {
            throw error
        } catch {
            throw RecordingError(file: path, "cannot finish the recording: \(error)")
        }
    }

    private func flushPending() throws(RecordingError) {
        guard !pending.isEmpty else { return }
        do {
            try pending.withUnsafeBytes { raw in try deflater.compress(raw) { compressed.append(contentsOf: $0) } }
        } catch {
            throw RecordingError(file: path, "cannot compress: \(error)")
        }
        pending.removeAll(keepingCapacity: true)
        try drain(force: false)
    }

    private func drain(force: Bool) throws(RecordingError) {
        guard force ? !compressed.isEmpty : compressed.count >= 64 << 10 else { return }
        do { try file.write(contentsOf: compressed) } catch {
            throw RecordingError(file: path, "cannot write: \(error.localizedDescription)")
        }
        compressed.removeAll(keepingCapacity: true)
    }
}
