import Foundation

/// What an input file holds, told by its first bytes (never by its name).
public enum RecordingFormat: Sendable, Hashable, CustomStringConvertible {
    /// Plain line protocol.
    case lineProtocol
    /// A Kapacitor stream recording (`.srpl`): lines of database, retention policy, line protocol;
    /// `gzip` when compressed (as Kapacitor writes them).
    case stream(gzip: Bool)
    /// Gzip-compressed line protocol.
    case gzipLineProtocol
    /// A Kapacitor batch recording (`.brpl`): a zip archive with one entry of JSON-lines batches per query.
    case batch

    public var description: String {
        switch self {
        case .lineProtocol: "line protocol"
        case .stream(let gzip): gzip ? "stream recording (gzip)" : "stream recording"
        case .gzipLineProtocol: "line protocol (gzip)"
        case .batch: "batch recording"
        }
    }

    /// The format of a file that starts with `head` (its first few KiB); `decompressedHead`, for gzip, is the
    /// start of its decompressed text.
    ///
    /// - `PK\x03\x04` or `PK\x05\x06` (an empty archive): a batch recording.
    /// - `1f 8b`: gzip; a stream recording when the text inside is one, else line protocol.
    /// - Text whose first line has no space is a stream recording: every line-protocol point has a space
    ///   between its series and its fields, while a recording starts with a database name.
    public static func detect(head: [UInt8], decompressedHead: () -> [UInt8]) -> RecordingFormat {
        if head.starts(with: [0x50, 0x4B, 0x03, 0x04]) || head.starts(with: [0x50, 0x4B, 0x05, 0x06]) { return .batch }
        if head.starts(with: [0x1F, 0x8B]) {
            return isStreamRecording(decompressedHead()) ? .stream(gzip: true) : .gzipLineProtocol
        }
        return isStreamRecording(head) ? .stream(gzip: false) : .lineProtocol
    }

    /// Whether text looks like a stream recording: a first line without a space (a database name), a second
    /// line (the retention policy) and a third with a space (a line-protocol point).
    static func isStreamRecording(_ text: [UInt8]) -> Bool {
        var lines = text.split(separator: UInt8(ascii: "\n"), maxSplits: 3, omittingEmptySubsequences: false)
        if lines.count > 3 { lines.removeLast() }
        guard let first = lines.first, !first.isEmpty, !first.contains(UInt8(ascii: " ")),
              first.first != UInt8(ascii: "#") else { return false }
        // A short head (a tiny file) may end before the point line.
        return lines.count < 3 || lines[2].contains(UInt8(ascii: " "))
    }
}
