import Foundation

/// Reading a file in large blocks, decompressed when it is gzip.
enum RecordingFile {
    static let blockSize = 4 << 20

    /// The first `count` bytes of the file (fewer when it is shorter).
    static func head(path: String, count: Int = 4096) throws -> [UInt8] {
        let fd = try open(path)
        defer { close(fd) }
        var buffer = [UInt8](repeating: 0, count: count)
        var filled = 0
        while filled < count {
            let n = buffer.withUnsafeMutableBytes { Foundation.read(fd, $0.baseAddress! + filled, count - filled) }
            if n < 0 && errno == EINTR { continue }
            if n < 0 { throw RecordingError(file: path, "cannot read: \(String(cString: strerror(errno)))") }
            if n == 0 { break }
            filled += n
        }
        return Array(buffer[0..<filled])
    }

    /// The start (up to `count` bytes) of the decompressed text of a gzip file; what could be decompressed
    /// when the file is damaged (the reader reports that later, with its place).
    static func decompressedHead(path: String, count: Int = 4096) -> [UInt8] {
        var out: [UInt8] = []
        struct Enough: Error {}
        do {
            try forEachDecompressedChunk(path: path) { chunk in
                out.append(contentsOf: chunk.prefix(count - out.count))
                if out.count >= count { throw Enough() }
            }
        } catch {}
        return out
    }

    /// Calls `body` with the file's bytes in blocks, decompressed first when the file starts with the gzip magic.
    static func forEachDecompressedChunk(path: String, _ body: (UnsafeRawBufferPointer) throws -> Void) throws {
        let fd = try open(path)
        defer { close(fd) }
        var block = [UInt8](repeating: 0, count: blockSize)
        var inflater: Inflater?
        var first = true
        while true {
            let n = block.withUnsafeMutableBytes { Foundation.read(fd, $0.baseAddress!, $0.count) }
            if n < 0 && errno == EINTR { continue }
            if n < 0 { throw RecordingError(file: path, "cannot read: \(String(cString: strerror(errno)))") }
            if n == 0 { break }
            if first {
                first = false
                if n >= 2 && block[0] == 0x1F && block[1] == 0x8B {
                    do { inflater = try Inflater(.gzip) } catch { throw RecordingError(file: path, "\(error)") }
                }
            }
            try block.withUnsafeBytes { all in
                let chunk = UnsafeRawBufferPointer(rebasing: all[0..<n])
                if let inflater {
                    do {
                        try inflater.decompress(chunk, body)
                    } catch let failure as Inflater.Failure {
                        throw RecordingError(file: path, gzipMessage(failure))
                    }
                } else {
                    try body(chunk)
                }
            }
        }
        if let inflater {
            do { try inflater.finish() } catch { throw RecordingError(file: path, gzipMessage(error)) }
        }
    }

    static func gzipMessage(_ failure: Inflater.Failure) -> String {
        switch failure {
        case .corrupt(let why): "invalid gzip data: \(why)"
        case .truncated: "invalid gzip data: unexpected end of file inside the gzip stream (was it cut short?)"
        case .trailingData: "invalid gzip data: bytes after the end of the compressed stream"
        }
    }

    static func open(_ path: String) throws -> Int32 {
        let fd = Foundation.open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw RecordingError(file: path, "cannot open: \(String(cString: strerror(errno)))") }
        return fd
    }
}
