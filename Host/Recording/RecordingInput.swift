/// Opening an input file whatever it holds: the format by content, and its text in line-aligned chunks.
public enum RecordingInput {
    /// The format of the file at `path`, told by its first bytes.
    public static func format(path: String) throws(RecordingError) -> RecordingFormat {
        let head: [UInt8]
        do { head = try RecordingFile.head(path: path) } catch let e as RecordingError { throw e } catch {
            throw RecordingError(file: path, "\(error)")
        }
        return RecordingFormat.detect(head: head, decompressedHead: { RecordingFile.decompressedHead(path: path) })
    }

    /// Calls `body` with the file's text (decompressed when it is gzip) in chunks that end at a line break, with
    /// the 1-based number of each chunk's first line.
    public static func forEachLineChunk(path: String, _ body: ([UInt8], Int) throws -> Void) throws {
        var pending: [UInt8] = []
        var line = 1
        try RecordingFile.forEachDecompressedChunk(path: path) { chunk in
            guard let lastNewline = chunk.lastIndex(of: UInt8(ascii: "\n")) else {
                pending.append(contentsOf: chunk)
                return
            }
            var piece = pending
            pending = []
            piece.append(contentsOf: chunk[0...lastNewline])
            pending.append(contentsOf: chunk[(lastNewline + 1)...])
            try body(piece, line)
            line += piece.reduce(0) { $0 + ($1 == UInt8(ascii: "\n") ? 1 : 0) }
        }
        if !pending.isEmpty { try body(pending, line) }
    }
}
