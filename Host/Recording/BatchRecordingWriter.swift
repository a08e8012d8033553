import Engine
import Foundation
import TockModel

/// Writes a Kapacitor batch recording (`.brpl`) as Kapacitor writes one (`saveBatchRecording` in
/// services/replay/service.go with Go's `archive/zip`): a zip archive with one deflate entry per batch query of the
/// task, named `0`, `1`, …, each holding one JSON batch per line as `WriteBatchForRecording` encodes them
/// (`json.Encoder` of edge's `bufferedBatchMessage`). ``BatchRecording`` (and Kapacitor) read it back.
///
/// Each entry is compressed whole when it is added; only the central directory stays in memory until ``close()``.
public final class BatchRecordingWriter {
    public let path: String
    private let file: FileHandle
    private var offset = 0
    private var central: [UInt8] = []
    private var entryCount = 0
    private var closed = false

    /// Creates (or truncates) the file at `path`.
    public init(path: String) throws(RecordingError) {
        self.path = path
        guard FileManager.default.createFile(atPath: path, contents: nil),
              let file = FileHandle(forWritingAtPath: path) else {
            throw RecordingError(file: path, "cannot create the recording file")
        }
        self.file = file
    }

    deinit { if !closed { try? file.close() } }

    /// Adds the next entry (named by its index, as Kapacitor names them) holding `batches`.
    public func addEntry(_ batches: [Batch]) throws(RecordingError) {
        var text = ""
        for b in batches { Self.appendJSON(b, to: &text) }
        try addEntry(name: String(entryCount), contents: Array(text.utf8))
    }

    /// Adds an entry with the given bytes (deflate-compressed).
    public func addEntry(name: String, contents: [UInt8]) throws(RecordingError) {
        var data: [UInt8] = []
        do {
            let deflater = try Deflater(.raw)
            try contents.withUnsafeBytes { raw in try deflater.compress(raw) { data.append(contentsOf: $0) } }
            try deflater.finish { data.append(contentsOf: $0) }
        } catch {
            throw RecordingError(file: path, entry: name, "cannot compress: \(error)")
        }
        guard offset + data.count < Int(UInt32.max), contents.count < Int(UInt32.max) else {
            throw RecordingError(file: path, entry: name, "the recording is larger than 4 GiB (zip64 is not written)")
        }
        let crc = Deflater.crc32(contents)
        let nameBytes = Array(name.utf8)
        let (time, date) = Self.dosTime(Date())
        var header: [UInt8] = []
        Self.u32(0x0403_4B50, &header)
        Self.u16(20, &header); Self.u16(0x0800, &header); Self.u16(8, &header)
        Self.u16(time, &header); Self.u16(date, &header)
        Self.u32(crc, &header); Self.u32(UInt32(data.count), &header); Self.u32(UInt32(contents.count), &header)
        Self.u16(UInt16(nameBytes.count), &header); Self.u16(0, &header)
        header += nameBytes

        Self.u32(0x0201_4B50, &central)
        Self.u16(20, &central); Self.u16(20, &central); Self.u16(0x0800, &central); Self.u16(8, &central)
        Self.u16(time, &central); Self.u16(date, &central)
        Self.u32(crc, &central); Self.u32(UInt32(data.count), &central); Self.u32(UInt32(contents.count), &central)
        Self.u16(UInt16(nameBytes.count), &central); Self.u16(0, &central); Self.u16(0, &central)
        Self.u16(0, &central); Self.u16(0, &central); Self.u32(0o100644 << 16, &central)
        Self.u32(UInt32(offset), &central)
        central += nameBytes

        try write(header)
        try write(data)
        entryCount += 1
    }

    /// Writes the central directory and closes the file.
    public func close() throws(RecordingError) {
        guard !closed else { return }
        closed = true
        var end: [UInt8] = []
        Self.u32(0x0605_4B50, &end)
        Self.u16(0, &end); Self.u16(0, &end)
        Self.u16(UInt16(entryCount), &end); Self.u16(UInt16(entryCount), &end)
        Self.u32(UInt32(central.count), &end); Self.u32(UInt32(offset), &end)
        Self.u16(0, &end)
        try write(central)
        try write(end)
        do {
            try file.synchronize()
            try file.close()
        } catch {
            throw RecordingError(file: path, "cannot finish the recording: \(error.localizedDescription)")
        }
    }

    private func write(_ bytes: [UInt8]) throws(RecordingError) {
        do { try file.write(contentsOf: bytes) } catch {
            throw RecordingError(file: path, "cannot write: \(error.localizedDescription)")
        }
        offset += bytes.count
    }

    /// One batch as Kapacitor's `bufferedBatchMessage.MarshalJSON` spells it, with the newline `json.Encoder` adds:
    /// `{"name":…,"tmax":…,"group":…,"byname":true,"tags":{…},"points":[{"fields":{…},"time":…,"tags":{…}}]}`
    /// (empty members left out, as `omitempty` does).
    public static func appendJSON(_ batch: Batch, to out: inout String) {
        out += "{"
        var first = true
        func key(_ k: String) {
            if !first { out += "," }
            first = false
            out += "\"\(k)\":"
        }
        if !batch.name.isEmpty { key("name"); GoJSON.appendString(batch.name, to: &out) }
        key("tmax"); GoJSON.appendString(RFC3339Nano.format(batch.tmax), to: &out)
        if !batch.group.rawValue.isEmpty { key("group"); GoJSON.appendString(batch.group.rawValue, to: &out) }
        if batch.byName { key("byname"); out += "true" }
        if !batch.tags.isEmpty { key("tags"); appendTags(batch.tags, to: &out) }
        if !batch.points.isEmpty {
            key("points")
            out += "["
            for (i, p) in batch.points.enumerated() {
                if i > 0 { out += "," }
                out += "{\"fields\":{"
                for (j, f) in p.fields.enumerated() {
                    if j > 0 { out += "," }
                    GoJSON.appendString(f.key, to: &out)
                    out += ":"
                    GoJSON.appendField(f.value, to: &out)
                }
                out += "},\"time\":"
                GoJSON.appendString(RFC3339Nano.format(p.time), to: &out)
                if !p.tags.isEmpty { out += ",\"tags\":"; appendTags(p.tags, to: &out) }
                out += "}"
            }
            out += "]"
        }
        out += "}\n"
    }

    private static func appendTags(_ tags: Tags, to out: inout String) {
        out += "{"
        for (i, t) in tags.enumerated() {
            if i > 0 { out += "," }
            GoJSON.appendString(t.key, to: &out)
            out += ":"
            GoJSON.appendString(t.value, to: &out)
        }
        out += "}"
    }

    private static func u16(_ v: UInt16, _ out: inout [UInt8]) { out += [UInt8(v & 0xFF), UInt8(v >> 8)] }
    private static func u32(_ v: UInt32, _ out: inout [UInt8]) {
        out += [UInt8(v & 0xFF), UInt8((v >> 8) & 0xFF), UInt8((v >> 16) & 0xFF), UInt8(v >> 24)]
    }

    /// MS-DOS time and date (UTC) of the entries, as zip headers carry them.
    private static func dosTime(_ date: Date) -> (UInt16, UInt16) {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        let c = calendar.dateComponents([.year, .month, .day, .hour, .minute, .second], from: date)
        let time = UInt16((c.hour ?? 0) << 11 | (c.minute ?? 0) << 5 | (c.second ?? 0) / 2)
        let date = UInt16(max(0, (c.year ?? 1980) - 1980) << 9 | (c.month ?? 1) << 5 | (c.day ?? 1))
        return (time, date)
    }
}
