import Testing
import UDFProtocol

@Suite("Varint length prefixes")
struct VarintTests {
    static let cases: [(UInt64, [UInt8])] = [
        (0, [0x00]),
        (1, [0x01]),
        (127, [0x7F]),
        (128, [0x80, 0x01]),
        (300, [0xAC, 0x02]),
        (16_383, [0xFF, 0x7F]),
        (16_384, [0x80, 0x80, 0x01]),
        (UInt64(UInt32.max), [0xFF, 0xFF, 0xFF, 0xFF, 0x0F]),
    ]

    @Test("encodes like Go's binary.PutUvarint", arguments: cases)
    func encodes(value: UInt64, bytes: [UInt8]) {
        var out: [UInt8] = []
        Varint.append(value, to: &out)
        #expect(out == bytes)
        #expect(Varint.encodedLength(value) == bytes.count)
    }
}

/// Frames of several sizes, including empty and multi-byte-prefix ones.
private let payloads: [[UInt8]] = [
    [],
    [0x2A],
    Array(repeating: 7, count: 127),
    (0..<128).map { UInt8($0 % 256) },
    (0..<300).map { UInt8($0 % 251) },
    [1, 2, 3],
]

private func stream(_ frames: [[UInt8]]) -> [UInt8] {
    var out: [UInt8] = []
    for f in frames { FrameEncoder.appendFrame(f, to: &out) }
    return out
}

@Suite("FrameDecoder")
struct FrameDecoderTests {
    @Test("a stream split at every byte boundary yields the same frames")
    func splitEverywhere() throws {
        let bytes = stream(payloads)
        for cut in 0...bytes.count {
            var decoder = FrameDecoder()
            var frames: [[UInt8]] = []
            decoder.append(bytes[..<cut])
            while let f = try decoder.nextFrame() { frames.append(Array(f)) }
            decoder.append(bytes[cut...])
            while let f = try decoder.nextFrame() { frames.append(Array(f)) }
            try decoder.finish()
            #expect(frames == payloads, "cut at \(cut)")
        }
    }

    @Test("a stream fed one byte at a time yields the same frames")
    func byteByByte() throws {
        var decoder = FrameDecoder()
        var frames: [[UInt8]] = []
        for b in stream(payloads) {
            decoder.append(CollectionOfOne(b))
            while let f = try decoder.nextFrame() { frames.append(Array(f)) }
        }
        try decoder.finish()
        #expect(frames == payloads)
        #expect(decoder.bufferedByteCount == 0)
    }

    @Test("many frames in one chunk come out one by one")
    func manyPerChunk() throws {
        var decoder = FrameDecoder()
        decoder.append(stream(Array(repeating: [9, 9], count: 1000)))
        var count = 0
        while let f = try decoder.nextFrame() {
            #expect(Array(f) == [9, 9])
            count += 1
        }
        #expect(count == 1000)
    }

    @Test("a frame above the limit is refused, naming its size and the limit")
    func oversize() {
        var decoder = FrameDecoder(maxFrameSize: 100)
        decoder.append(stream([Array(repeating: 0, count: 101)]))
        #expect(throws: FrameError.frameTooLarge(size: 101, limit: 100)) { try decoder.nextFrame() }
        #expect(FrameError.frameTooLarge(size: 101, limit: 100).description
            == "frame of 101 bytes exceeds the limit of 100 bytes")
    }

    @Test("the default limit is 64 MiB and is checked before the frame arrives")
    func defaultLimit() {
        var decoder = FrameDecoder()
        #expect(decoder.maxFrameSize == 64 * 1024 * 1024)
        var prefix: [UInt8] = []
        Varint.append(64 * 1024 * 1024 + 1, to: &prefix)
        decoder.append(prefix)
        #expect(throws: FrameError.frameTooLarge(size: 64 * 1024 * 1024 + 1, limit: 64 * 1024 * 1024)) {
            try decoder.nextFrame()
        }
    }

    @Test("a length prefix longer than 5 bytes is an error")
    func garbageVarint() {
        var decoder = FrameDecoder()
        decoder.append([0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01])
        #expect(throws: FrameError.lengthPrefixTooLong) { try decoder.nextFrame() }
    }

    @Test("a 5-byte prefix above 2^32-1 is an error")
    func prefixAbove32Bits() {
        var decoder = FrameDecoder(maxFrameSize: Int.max)
        decoder.append([0xFF, 0xFF, 0xFF, 0xFF, 0x1F])
        #expect(throws: FrameError.lengthPrefixTooLong) { try decoder.nextFrame() }
    }

    @Test("an incomplete prefix waits for more bytes")
    func partialPrefix() throws {
        var decoder = FrameDecoder()
        decoder.append([0xAC])
        #expect(try decoder.nextFrame() == nil)
        decoder.append([0x02])
        #expect(try decoder.nextFrame() == nil)
        decoder.append(Array(repeating: 1, count: 300))
        #expect(try decoder.nextFrame()?.count == 300)
    }

    @Test("EOF inside a frame reports how many bytes were missing")
    func truncated() throws {
        var decoder = FrameDecoder()
        decoder.append([0x0A, 1, 2, 3])
        #expect(try decoder.nextFrame() == nil)
        #expect(throws: FrameError.unexpectedEOF(missingBytes: 7)) { try decoder.finish() }
        #expect(FrameError.unexpectedEOF(missingBytes: 7).description == "unexpected EOF, expected 7 more bytes")
    }

    @Test("EOF right after a length prefix reports the whole frame as missing")
    func truncatedAfterPrefix() {
        var decoder = FrameDecoder()
        decoder.append([0xAC, 0x02])
        #expect(throws: FrameError.unexpectedEOF(missingBytes: 300)) { try decoder.finish() }
    }

    @Test("EOF inside a length prefix is an error; EOF between frames is not")
    func truncatedPrefix() throws {
        var decoder = FrameDecoder()
        decoder.append([0x01, 0x2A, 0x80])
        #expect(try decoder.nextFrame() == [0x2A])
        #expect(try decoder.nextFrame() == nil)
        #expect(throws: FrameError.unexpectedEOFInLengthPrefix(bytesRead: 1)) { try decoder.finish() }

        var clean = FrameDecoder()
        clean.append([0x01, 0x2A])
        _ = try clean.nextFrame()
        try clean.finish()
    }
}
