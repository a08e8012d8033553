/// Length-prefixed framing of Kapacitor's UDF protocol.
///
/// Every message on the wire is an unsigned LEB128 varint holding the message's length (low 7 bits
/// first, high bit set on every byte but the last, as Go's `binary.PutUvarint` writes it) followed by
/// exactly that many bytes of protobuf. Prefixes are 1 to 5 bytes long, so a frame holds at most
/// 2^32-1 bytes; there is no footer.

/// Unsigned LEB128 varints as the UDF protocol's length prefixes use them.
public enum Varint {
    /// The longest length prefix the protocol allows (a 32-bit length).
    public static let maxPrefixLength = 5

    /// The number of bytes `value` takes as a varint (1 to 10).
    @inlinable
    public static func encodedLength(_ value: UInt64) -> Int {
        var v = value
        var n = 1
        while v >= 0x80 {
            v &>>= 7
            n += 1
        }
        return n
    }

    /// Appends `value` as a varint to `buffer`.
    @inlinable
    public static func append(_ value: UInt64, to buffer: inout [UInt8]) {
        var v = value
        while v >= 0x80 {
            buffer.append(UInt8(truncatingIfNeeded: v) | 0x80)
            v &>>= 7
        }
        buffer.append(UInt8(truncatingIfNeeded: v))
    }
}

/// Why a stream of frames could not be split into messages.
public enum FrameError: Error, Sendable, Hashable, CustomStringConvertible {
    /// A length prefix announced a frame larger than the decoder's limit.
    case frameTooLarge(size: UInt64, limit: Int)
    /// A length prefix did not end within 5 bytes or does not fit in 32 bits.
    case lengthPrefixTooLong
    /// The stream ended inside a length prefix, after `bytesRead` of its bytes.
    case unexpectedEOFInLengthPrefix(bytesRead: Int)
    /// The stream ended inside a frame that still lacked `missingBytes` bytes.
    case unexpectedEOF(missingBytes: Int)

    public var description: String {
        switch self {
        case .frameTooLarge(let size, let limit):
            return "frame of \(size) bytes exceeds the limit of \(limit) bytes"
        case .lengthPrefixTooLong:
            return "too many bytes when decoding varint, larger than 32bit uint"
        case .unexpectedEOFInLengthPrefix(let n):
            return "unexpected EOF in a frame's length prefix after \(n) byte\(n == 1 ? "" : "s")"
        case .unexpectedEOF(let missing):
            return "unexpected EOF, expected \(missing) more bytes"
        }
    }
}

/// Splits a byte stream into frames incrementally.
///
/// Append chunks of any size as they arrive with ``append(_:)``, then call ``nextFrame()`` until it
/// returns `nil`; at the end of the stream call ``finish()`` to learn whether it ended cleanly.
/// Frames are returned as slices of the decoder's buffer, so no bytes are copied as long as the slice
/// is released before the next ``append(_:)``.
///
/// ```swift
/// var decoder = FrameDecoder()
/// decoder.append(chunk)
/// while let frame = try decoder.nextFrame() { handle(frame) }
/// ```
public struct FrameDecoder: Sendable {
    /// The default limit on a frame's size: 64 MiB.
    public static let defaultMaxFrameSize = 64 << 20

    /// Frames above this many bytes are refused with ``FrameError/frameTooLarge(size:limit:)``.
    public let maxFrameSize: Int

    @usableFromInline var buffer: [UInt8] = []
    /// Index in `buffer` of the first byte not yet returned.
    @usableFromInline var readIndex = 0

    /// Creates a decoder refusing frames above `maxFrameSize` bytes.
    public init(maxFrameSize: Int = FrameDecoder.defaultMaxFrameSize) {
        precondition(maxFrameSize >= 0, "maxFrameSize must not be negative")
        self.maxFrameSize = maxFrameSize
    }

    /// The number of bytes received but not yet returned in a frame.
    public var bufferedByteCount: Int { buffer.count - readIndex }

    /// Adds the next chunk of the stream.
    public mutating func append(_ bytes: UnsafeRawBufferPointer) {
        compact()
        buffer.append(contentsOf: bytes)
    }

    /// Adds the next chunk of the stream.
    public mutating func append(_ bytes: some Sequence<UInt8>) {
        compact()
        buffer.append(contentsOf: bytes)
    }

    /// Drops the bytes already returned, so the buffer holds only what is still pending.
    @usableFromInline mutating func compact() {
        if readIndex == 0 { return }
        if readIndex == buffer.count {
            buffer.removeAll(keepingCapacity: true)
        } else {
            buffer.removeSubrange(0..<readIndex)
        }
        readIndex = 0
    }

    /// The next complete frame, or `nil` when more bytes are needed.
    ///
    /// - Throws: ``FrameError/frameTooLarge(size:limit:)`` or ``FrameError/lengthPrefixTooLong``;
    ///   after an error the stream cannot be resynchronised and the decoder should be dropped.
    public mutating func nextFrame() throws(FrameError) -> ArraySlice<UInt8>? {
        let available = buffer.count - readIndex
        if available == 0 { return nil }
        let first = readIndex
        let parsed: (length: UInt64, prefix: Int)? = try buffer.withUnsafeBufferPointer { buf throws(FrameError) in
            var value: UInt64 = 0
            var shift: UInt64 = 0
            var i = first
            while i < buf.count {
                let byte = buf[i]
                i += 1
                value |= UInt64(byte & 0x7F) << shift
                if byte < 0x80 {
                    if value > UInt64(UInt32.max) { throw .lengthPrefixTooLong }
                    return (value, i - first)
                }
                shift += 7
                if i - first == Varint.maxPrefixLength { throw .lengthPrefixTooLong }
            }
            return nil
        }
        guard let (length, prefix) = parsed else { return nil }
        if length > UInt64(maxFrameSize) { throw .frameTooLarge(size: length, limit: maxFrameSize) }
        let size = Int(length)
        let start = readIndex + prefix
        if buffer.count - start < size {
            // Make room for the whole frame once instead of growing step by step.
            if buffer.capacity < start + size { buffer.reserveCapacity(start + size) }
            return nil
        }
        readIndex = start + size
        return buffer[start..<start + size]
    }

    /// Checks that the stream ended on a frame boundary; call it when the input reaches EOF.
    ///
    /// - Throws: ``FrameError/unexpectedEOF(missingBytes:)`` when a frame is incomplete, or
    ///   ``FrameError/unexpectedEOFInLengthPrefix(bytesRead:)`` when the stream stopped inside a prefix.
    public func finish() throws(FrameError) {
        let available = buffer.count - readIndex
        if available == 0 { return }
        var value: UInt64 = 0
        var shift: UInt64 = 0
        for i in 0..<min(available, Varint.maxPrefixLength) {
            let byte = buffer[readIndex + i]
            value |= UInt64(byte & 0x7F) << shift
            if byte < 0x80 {
                throw .unexpectedEOF(missingBytes: Int(value) - (available - i - 1))
            }
            shift += 7
        }
        throw .unexpectedEOFInLengthPrefix(bytesRead: available)
    }
}

/// Writes frames: a varint length followed by the message bytes.
public enum FrameEncoder {
    /// Appends `payload` as one frame to `output`.
    @inlinable
    public static func appendFrame(_ payload: some Collection<UInt8>, to output: inout [UInt8]) {
        Varint.append(UInt64(payload.count), to: &output)
        output.append(contentsOf: payload)
    }

    /// Appends `payload` as one frame to `output`.
    @inlinable
    public static func appendFrame(_ payload: UnsafeRawBufferPointer, to output: inout [UInt8]) {
        Varint.append(UInt64(payload.count), to: &output)
        output.append(contentsOf: payload)
    }

    /// Returns `payload` as one frame.
    @inlinable
    public static func frame(_ payload: some Collection<UInt8>) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(payload.count + Varint.maxPrefixLength)
        appendFrame(payload, to: &out)
        return out
    }
}
