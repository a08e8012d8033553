internal import CZlib

/// Streaming zlib decompression: gzip (members one after the other, as Go's `gzip.Reader` reads them) or raw
/// deflate (a zip entry's method 8).
///
/// Direct zlib rather than compress-nio's wrapper: reading a file chunk by chunk needs to know where a member
/// ends (`Z_STREAM_END`) and whether the input stopped inside one, which the wrapper does not tell.
final class Inflater {
    enum Format {
        /// gzip members (window bits 16 + 15).
        case gzip
        /// Raw deflate, no header (window bits -15).
        case raw
    }

    enum Failure: Error, Equatable {
        /// The data is not valid (a bad header, corrupt deflate data or a wrong checksum).
        case corrupt(String)
        /// The input ended inside a stream.
        case truncated
        /// Bytes after the end of a raw deflate stream, or after a gzip member that are not another member.
        case trailingData
    }

    private let format: Format
    private var stream = z_stream()
    /// Whether the current stream (member) has ended.
    private(set) var ended = false
    /// Whether any input was given since the last stream ended.
    private var started = false
    private var output = [UInt8](repeating: 0, count: 1 << 18)

    init(_ format: Format) throws(Failure) {
        self.format = format
        let rc = tock_inflateInit2(&stream, format == .gzip ? 31 : -15)
        guard rc == Z_OK else { throw .corrupt("zlib could not start (\(rc))") }
    }

    deinit { inflateEnd(&stream) }

    /// Decompresses `input`, handing the output to `sink` in pieces. A gzip member that ends is followed by
    /// the next one when the input goes on; a raw stream must be the whole input.
    func decompress(_ input: UnsafeRawBufferPointer, _ sink: (UnsafeRawBufferPointer) throws -> Void) throws {
        guard let base = input.baseAddress, input.count > 0 else { return }
        var offset = 0
        while offset < input.count {
            if ended {
                guard format == .gzip else { throw Failure.trailingData }
                // The next gzip member (Go reads concatenated members as one stream).
                guard inflateReset(&stream) == Z_OK else { throw Failure.corrupt("zlib could not reset") }
                ended = false
            }
            started = true
            stream.next_in = UnsafeMutablePointer(mutating: base.advanced(by: offset).assumingMemoryBound(to: Bytef.self))
            let available = min(input.count - offset, Int(UInt32.max))
            stream.avail_in = UInt32(available)
            repeat {
                let (rc, produced): (Int32, Int) = output.withUnsafeMutableBytes { out in
                    stream.next_out = out.baseAddress!.assumingMemoryBound(to: Bytef.self)
                    stream.avail_out = UInt32(out.count)
                    let rc = inflate(&stream, Z_NO_FLUSH)
                    return (rc, out.count - Int(stream.avail_out))
                }
                if produced > 0 {
                    try output.withUnsafeBytes { try sink(UnsafeRawBufferPointer(rebasing: $0[0..<produced])) }
                }
                switch rc {
                case Z_OK, Z_BUF_ERROR:
                    break
                case Z_STREAM_END:
                    ended = true
                case Z_DATA_ERROR:
                    throw Failure.corrupt(stream.msg.map { String(cString: $0) } ?? "corrupt data")
                case Z_MEM_ERROR:
                    throw Failure.corrupt("out of memory")
                default:
                    throw Failure.corrupt("zlib error \(rc)")
                }
                if rc == Z_BUF_ERROR && stream.avail_out != 0 { break }
            } while !ended && (stream.avail_in > 0 || stream.avail_out == 0)
            offset += available - Int(stream.avail_in)
        }
    }

    /// Checks that the input ended where a stream ends.
    func finish() throws(Failure) {
        if started && !ended { throw .truncated }
    }
}
