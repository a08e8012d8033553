import FuzzSupport
import PluginHost
import SwiftProtobuf
import UDFProtocol

/// The properties the UDF fuzz target checks on any bytes a UDF process could write to its stdout.
///
/// 1. ``FrameDecoder`` splits any byte stream into frames or throws a ``FrameError``: no trap. The
///    frames it returns, each after its length prefix, are exactly the bytes it consumed, and
///    cutting the stream into two chunks at any place gives the same frames and the same error.
/// 2. The host's hand-written decoder (``UDFCodec/decodeResponse(_:)-(UnsafeRawBufferPointer)``) agrees with
///    swift-protobuf on every frame and on the whole input read as one `agent.Response`: both accept and
///    give the same response (``UDFCodec/convert(_:)`` of swift-protobuf's message), or both refuse.
public enum UDFFuzzing {
    /// A small frame limit, so the fuzzer also reaches ``FrameError/frameTooLarge(size:limit:)``.
    static let maxFrameSize = 1024

    public static func check(_ input: UnsafeRawBufferPointer) throws(PropertyViolation) {
        let bytes = [UInt8](input)
        let whole = split(bytes, cut: nil)
        let cut = bytes.isEmpty ? 0 : bytes.count * Int(bytes[0]) / 256
        let twoChunks = split(bytes, cut: cut)
        try require(whole.frames == twoChunks.frames && whole.outcome == twoChunks.outcome,
                    "frames depend on chunking (cut at \(cut)): \(whole) vs \(twoChunks)")
        try require(tiles(whole.frames, bytes[..<whole.consumed]),
                    "the frames are not the bytes consumed, each after its length: \(whole.frames) vs \(bytes[..<whole.consumed])")

        for frame in whole.frames { try compareDecoders(frame) }
        try compareDecoders(bytes)
    }

    /// Whether `consumed` is exactly the frames in order, each after a length prefix of 1 to 5 bytes that
    /// ends with a byte below 0x80. (Not simply `FrameEncoder`'s bytes: a prefix may be overlong, as Go's
    /// `binary.Uvarint` also accepts, so re-encoding it can be shorter.)
    static func tiles(_ frames: [[UInt8]], _ consumed: ArraySlice<UInt8>) -> Bool {
        var p = consumed.startIndex
        for frame in frames {
            let window = consumed[p..<min(p + Varint.maxPrefixLength, consumed.endIndex)]
            guard let last = window.firstIndex(where: { $0 < 0x80 }) else { return false }
            let length = window[...last].reversed().reduce(0) { $0 << 7 | Int($1 & 0x7F) }
            let payload = last + 1
            guard length == frame.count, payload + frame.count <= consumed.endIndex,
                  consumed[payload..<(payload + frame.count)].elementsEqual(frame) else { return false }
            p = payload + frame.count
        }
        return p == consumed.endIndex
    }

    /// Frames from `bytes` fed as one chunk, or as two cut at `cut`.
    static func split(_ bytes: [UInt8], cut: Int?) -> Split {
        var decoder = FrameDecoder(maxFrameSize: maxFrameSize)
        var result = Split()
        let chunks = cut.map { [bytes[..<$0], bytes[$0...]] } ?? [bytes[...]]
        var fed = 0
        for chunk in chunks {
            decoder.append(chunk)
            fed += chunk.count
            do {
                while let frame = try decoder.nextFrame() { result.frames.append(Array(frame)) }
            } catch {
                result.consumed = fed - decoder.bufferedByteCount
                result.outcome = "\(error)"
                return result
            }
            result.consumed = fed - decoder.bufferedByteCount
        }
        do {
            try decoder.finish()
        } catch {
            result.outcome = "\(error)"
        }
        return result
    }

    struct Split: Equatable, CustomStringConvertible {
        var frames: [[UInt8]] = []
        var consumed = 0
        var outcome = "clean end"
        var description: String { "\(frames.count) frames, \(consumed) bytes, \(outcome)" }
    }

    /// The hand-written decoder and swift-protobuf must agree on `frame`.
    static func compareDecoders(_ frame: [UInt8]) throws(PropertyViolation) {
        let hand: Result<UDFResponse, any Error> = Result { try UDFCodec.decodeResponse(frame[...]) }
        let reference: Result<UDFResponse, any Error> = Result {
            UDFCodec.convert(try Agent_Response(serializedBytes: frame))
        }
        switch (hand, reference) {
        case (.success(let a), .success(let b)):
            try require(a == b || String(reflecting: a) == String(reflecting: b),
                        "decoders disagree on \(frame):\nhand-written: \(a)\nswift-protobuf: \(b)")
        case (.failure(let error), .success(let b)):
            // swift-protobuf is lenient with some malformed input (a varint's bits past 64, a truncated varint
            // ending a map entry) that Go's protowire, Kapacitor's, refuses as the hand-written decoder does.
            // What must hold is that the well-formed encoding of the same message decodes, and the same.
            // Through JSON, which drops unknown fields (swift-protobuf keeps their raw, possibly malformed, bytes).
            let canonical: [UInt8]
            do {
                let json = try Agent_Response(serializedBytes: frame).jsonString()
                canonical = try Agent_Response(jsonString: json).serializedBytes()
            } catch {
                throw PropertyViolation("swift-protobuf cannot re-encode what it decoded from \(frame): \(error)")
            }
            guard let again = try? UDFCodec.decodeResponse(canonical[...]) else {
                throw PropertyViolation("hand-written decoder refuses the well-formed encoding \(canonical) of what swift-protobuf accepts in \(frame)\nerror on the original: \(error)\nswift-protobuf: \(b)")
            }
            guard let expected = try? UDFCodec.convert(Agent_Response(serializedBytes: canonical)) else {
                throw PropertyViolation("swift-protobuf refuses its own encoding \(canonical) of \(frame)")
            }
            try require(again == expected || String(reflecting: again) == String(reflecting: expected),
                        "decoders disagree on the well-formed encoding \(canonical) of \(frame):\nhand-written: \(again)\nswift-protobuf: \(expected)")
        case (.success(let a), .failure(let error)):
            throw PropertyViolation("hand-written decoder accepts what swift-protobuf refuses: \(frame)\nhand-written: \(a)\nswift-protobuf: \(error)")
        case (.failure, .failure):
            break
        }
    }
}
