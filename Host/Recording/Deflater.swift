import Foundation
internal import CZlib

/// Streaming zlib compression: one gzip member (a stream recording) or raw deflate (a zip entry's method 8).
final class Deflater {
    enum Format {
        /// A gzip member (window bits 16 + 15), as Go's `gzip.Writer` writes.
        case gzip
        /// Raw deflate, no header (window bits -15).
        case raw
    }

    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    private var stream = z_stream()
    private var output = [UInt8](repeating: 0, count: 1 << 16)
    private var finished = false

    init(_ format: Format, level: Int32 = Z_DEFAULT_COMPRESSION) throws(Failure) {
        let rc = tock_deflateInit2(&stream, level, format == .gzip ? 31 : -15)
        guard rc == Z_OK else { throw Failure(description: "zlib could not start compressing (\(rc))") }
    }

    deinit { deflateEnd(&stream) }

    /// Compresses `input`, handing the compressed bytes to `sink` in pieces.
    func compress(_ input: UnsafeRawBufferPointer, _ sink: (UnsafeRawBufferPointer) throws -> Void) throws {
        guard !input.isEmpty else { return }
        try run(input, flush: Z_NO_FLUSH, sink)
    }

    /// Ends the stream (the gzip trailer or the final deflate block).
    func finish(_ sink: (UnsafeRawBufferPointer) throws -> Void) throws {
        guard !finished else { return }
        finished = true
        try run(UnsafeRawBufferPointer(start: nil, count: 0), flush: Z_FINISH, sink)
    }

    private func run(_ input: UnsafeRawBufferPointer, flush: Int32, _ sink: (UnsafeRawBufferPointer) throws -> Void) throws {
        stream.next_in = input.baseAddress.map { UnsafeMutablePointer(mutating: $0.assumingMemoryBound(to: Bytef.self)) }
        stream.avail_in = UInt32(input.count)
        while true {
            let (rc, produced): (Int32, Int) = output.withUnsafeMutableBytes { out in
                stream.next_out = out.baseAddress!.assumingMemoryBound(to: Bytef.self)
                stream.avail_out = UInt32(out.count)
                let rc = deflate(&stream, flush)
                return (rc, out.count - Int(stream.avail_out))
            }
            if produced > 0 {
                try output.withUnsafeBytes { try sink(UnsafeRawBufferPointer(rebasing: $0[0..<produced])) }
            }
            switch rc {
            case Z_STREAM_END: return
            case Z_OK, Z_BUF_ERROR: break
            default: throw Failure(description: "zlib error \(rc) while compressing")
            }
            if flush == Z_FINISH { continue }
            if stream.avail_in == 0 && stream.avail_out != 0 { return }
        }
    }

    /// The CRC-32 of `bytes` (zip entries carry it).
    static func crc32(_ bytes: [UInt8]) -> UInt32 {
        bytes.withUnsafeBufferPointer { UInt32(CZlib.crc32(0, $0.baseAddress, uInt($0.count))) }
    }
}
