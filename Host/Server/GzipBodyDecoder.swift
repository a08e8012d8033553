import CompressNIO
import NIOCore

/// Decodes a `Content-Encoding: gzip` body that arrives in chunks of any size, as Go's `gzip.Reader` (and so
/// InfluxDB) reads it: the members of a multi-member body are decoded one after the other, and the body must
/// end exactly where a member ends.
///
/// ```swift
/// var decoder = try GzipBodyDecoder()
/// for try await var chunk in body { try decoder.decode(&chunk) { decoded in text.writeImmutableBuffer(decoded) } }
/// try decoder.finish()   // throws .truncated when the body stopped inside a member
/// ```
///
/// Every decoded byte is handed to the closure exactly once, in order.
struct GzipBodyDecoder {
    /// Why a body is not a gzip stream.
    enum Failure: Error, Equatable, CustomStringConvertible {
        /// The body ends inside a member (Go: `unexpected EOF`).
        case truncated(compressedBytes: Int)
        /// A member does not start with the gzip magic bytes `1f 8b` (Go: `gzip: invalid header`).
        case invalidHeader(offset: Int)
        /// The deflate data or the CRC-32/length trailer is wrong (Go: `flate: corrupt input` / `gzip: invalid checksum`).
        case corrupt(offset: Int)

        var description: String {
            switch self {
            case .truncated(let n):
                "invalid gzip body: unexpected EOF: the body ends after \(n) compressed byte\(n == 1 ? "" : "s"), inside the gzip stream (was it cut short?)"
            case .invalidHeader(let offset):
                offset == 0
                    ? "invalid gzip body: invalid header: the body does not start with the gzip magic bytes 1f 8b (is it really gzip?)"
                    : "invalid gzip body: invalid header: data after the end of the gzip stream at compressed byte \(offset) is not another gzip member"
            case .corrupt(let offset):
                "invalid gzip body: corrupt data or checksum in the gzip stream before compressed byte \(offset)"
            }
        }
    }

    private let decompressor: ZlibDecompressor
    private var window: ByteBuffer
    /// Compressed bytes consumed so far.
    private(set) var compressedBytes = 0
    /// Whether the current member has ended (its trailer was read and checked).
    private var memberEnded = false
    /// Whether the current member may have ended exactly at the end of the last chunk (zlib does not say).
    private var maybeEnded = false
    /// The first two bytes of the current member, to check the magic number.
    private var header: [UInt8] = []
    /// Where the current member starts, in compressed bytes.
    private var memberStart = 0

    init(windowSize: Int = 64 * 1024) throws {
        decompressor = try ZlibDecompressor(algorithm: .gzip)
        window = ByteBufferAllocator().buffer(capacity: windowSize)
    }

    /// Decodes `chunk` (all of it), handing each decoded piece to `sink`.
    mutating func decode(_ chunk: inout ByteBuffer, _ sink: (ByteBuffer) throws -> Void) throws {
        // zlib may keep output back when the window fills: it is drained (with no more input) before returning.
        var windowFilled = false
        while chunk.readableBytes > 0 || windowFilled {
            if memberEnded {
                // Another member follows (Go's reader is multistream by default).
                try decompressor.reset()
                memberEnded = false
                maybeEnded = false
                header.removeAll()
                memberStart = compressedBytes
            }
            try checkMagic(chunk)
            window.clear()
            windowFilled = false
            let before = chunk.readableBytes
            do {
                try decompressor.inflate(from: &chunk, to: &window)
                // A normal return is Z_STREAM_END, or Z_OK having used all the input with room to spare. With input
                // left it can only be the end of the member (an ended stream takes no more input, and returns so).
                if chunk.readableBytes > 0 { memberEnded = true } else { maybeEnded = true }
            } catch let error as CompressNIOError where error == .bufferOverflow {
                windowFilled = true
                maybeEnded = false
            } catch let error as CompressNIOError where error == .inputBufferOverflow {
                // zlib used all the input and wants more.
                maybeEnded = false
            } catch let error as CompressNIOError where error == .corruptData {
                throw Failure.corrupt(offset: compressedBytes + before - chunk.readableBytes)
            }
            compressedBytes += before - chunk.readableBytes
            if window.readableBytes > 0 { try sink(window) }
        }
    }

    /// Checks that the body ended where a member ends; throws ``Failure/truncated(compressedBytes:)`` if not.
    mutating func finish() throws {
        if memberEnded { return }
        if maybeEnded {
            // zlib used all of the last chunk and returned normally: the member ended there exactly, or it wants more.
            // A stream that has not ended takes a byte offered to it (there is room for output); an ended one does not.
            var probe = ByteBuffer(bytes: [0])
            window.clear()
            do {
                try decompressor.inflate(from: &probe, to: &window)
                if probe.readableBytes == 1 && window.readableBytes == 0 { return }
            } catch {}
        }
        throw Failure.truncated(compressedBytes: compressedBytes)
    }

    /// The magic bytes of a member (zlib reports a wrong magic as corrupt data; Go names it an invalid header).
    private mutating func checkMagic(_ chunk: ByteBuffer) throws {
        guard header.count < 2 else { return }
        let needed = min(2 - header.count, chunk.readableBytes)
        let bytes = chunk.getBytes(at: chunk.readerIndex, length: needed)!
        for b in bytes {
            let expected: UInt8 = header.isEmpty ? 0x1f : 0x8b
            if b != expected { throw Failure.invalidHeader(offset: memberStart) }
            header.append(b)
        }
    }
}
