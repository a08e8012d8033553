import Foundation
import PluginHost
import SwiftProtobuf
import Testing
import UDFProtocol

/// A UDF's frame can hold unknown fields of the deprecated group wire type, and groups nest. The host's
/// hand-written decoder skips them recursively, so it bounds the nesting as swift-protobuf does (found
/// while writing the UDF fuzz target: `Tests/Fuzz/Crashers/udf/point-100-nested-groups.bin`).
@Suite("UDF response decoder: nested groups")
struct DecoderDepthTests {
    /// `depth` nested unknown groups (field 15), empty inside.
    static func groups(_ depth: Int) -> Wire {
        var w = Wire()
        for _ in 0..<depth { w.tag(15, 3) }
        for _ in 0..<depth { w.tag(15, 4) }
        return w
    }

    /// A Response whose point carries `depth` nested groups.
    static func pointFrame(groupDepth depth: Int) -> [UInt8] {
        var w = Wire()
        w.delimited(17) { p in
            p.string(2, "cpu")
            p.bytes += groups(depth).bytes
        }
        return w.bytes
    }

    /// A Response with `depth` nested groups next to its point.
    static func responseFrame(groupDepth depth: Int) -> [UInt8] {
        var w = groups(depth)
        w.delimited(17) { p in p.string(2, "cpu") }
        return w.bytes
    }

    static func accepts(_ frame: [UInt8]) -> (hand: Bool, swiftProtobuf: Bool) {
        let hand = (try? UDFCodec.decodeResponse(frame[...])) != nil
        let reference = (try? Agent_Response(serializedBytes: frame)) != nil
        return (hand, reference)
    }

    @Test("a million nested groups are refused with an error instead of overflowing the stack")
    func deepNestingIsAnError() {
        let frame = Self.pointFrame(groupDepth: 1_000_000)
        #expect(throws: UDFCodecError.self) { try UDFCodec.decodeResponse(frame[...]) }
    }

    @Test("the decoder accepts the same nesting depths as swift-protobuf, in a point and in the response",
          arguments: 95...101)
    func sameLimitAsSwiftProtobuf(depth: Int) {
        let inPoint = Self.accepts(Self.pointFrame(groupDepth: depth))
        #expect(inPoint.hand == inPoint.swiftProtobuf, "groups \(depth) deep in a point")
        let inResponse = Self.accepts(Self.responseFrame(groupDepth: depth))
        #expect(inResponse.hand == inResponse.swiftProtobuf, "groups \(depth) deep in the response")
    }

    @Test("swift-protobuf's limit is where this test expects it, so the range above spans it")
    func limitIsInRange() {
        #expect(Self.accepts(Self.pointFrame(groupDepth: 95)).swiftProtobuf)
        #expect(!Self.accepts(Self.pointFrame(groupDepth: 101)).swiftProtobuf)
    }
}

/// A known field sent with another wire type than its declaration's is an unknown field to swift-protobuf
/// and to Go's protobuf (Kapacitor), not an error (found by fuzzing, see `Tests/Fuzz/Crashers.md`).
@Suite("UDF response decoder: known fields with the wrong wire type")
struct DecoderWireTypeTests {
    /// A point named "cpu" with a float field, plus `odd` written into it.
    static func pointFrame(_ odd: (inout Wire) -> Void) -> [UInt8] {
        var w = Wire()
        w.delimited(17) { p in
            p.string(2, "cpu")
            p.delimited(8) { e in
                e.string(1, "usage")
                e.tag(2, 1); e.bytes += withUnsafeBytes(of: (0.5 as Double).bitPattern.littleEndian, Array.init)
            }
            odd(&p)
        }
        return w.bytes
    }

    @Test("each known field of a point, sent as a varint or a fixed32, is skipped like swift-protobuf skips it",
          arguments: 1...12)
    func pointFieldWithWrongWireType(field: Int) throws {
        for wire in [0, 5] {
            let frame = Self.pointFrame { p in
                p.tag(field, wire)
                if wire == 0 { p.varint(7) } else { p.bytes += [1, 2, 3, 4] }
            }
            let reference = UDFCodec.convert(try Agent_Response(serializedBytes: frame))
            let decoded = try UDFCodec.decodeResponse(frame[...])
            #expect(decoded == reference, "field \(field), wire type \(wire)")
        }
    }

    @Test("a response whose point field comes as a varint has no point: it is skipped, not an error")
    func responsePointAsVarint() throws {
        var w = Wire()
        w.tag(17, 0); w.varint(1)
        let decoded = try UDFCodec.decodeResponse(w.bytes[...])
        guard case .other(let response) = decoded else {
            Issue.record("expected a response without message, got \(decoded)")
            return
        }
        #expect(response.message == nil)
    }
}
