import SwiftProtobuf
import Testing
import UDFProtocol
import UDFWireCodec

/// The shared hand-written codec (`UDFWireCodec`) against swift-protobuf, on the generated messages UDFKit hands to
/// its handlers: the same bytes out, the same messages in.
@Suite("AgentCodec")
struct AgentCodecTests {
    static func point(_ variant: Int) -> Agent_Point {
        var p = Agent_Point()
        switch variant {
        case 0:
            break // every field at its default: an empty body
        case 1:
            p.time = 1_451_606_400_000_000_000
            p.name = "temperatures"
            p.database = "printer"
            p.retentionPolicy = "autogen"
            p.group = "temperatures\nhost=printer-1"
            p.dimensions = ["host", ""]
            p.tags = ["host": "printer-1", "region": "eu-west", "sensor": "thermo-3", "": "empty key"]
            p.fieldsDouble = ["hotend": 220.5, "bed": -0.0, "air": .infinity, "tiny": .leastNonzeroMagnitude]
            p.fieldsInt = ["count": 42, "neg": -1, "min": .min, "zero": 0]
            p.fieldsString = ["note": "héllo 🌡", "empty": ""]
            p.fieldsBool = ["on": true, "off": false]
            p.byName = true
        default:
            p.time = -5
            p.name = String(repeating: "long name ", count: 40) // a two-byte length
            p.fieldsBool = ["only": true]
        }
        return p
    }

    static func swiftProtobufFrame(_ message: some SwiftProtobuf.Message, field: Int) throws -> [UInt8] {
        var out: [UInt8] = []
        try FrameEncoder.appendWrapped(message, field: field, to: &out)
        return out
    }

    /// The frame's bytes without the length prefix, as `FrameDecoder` hands them over.
    static func body(_ frame: [UInt8]) throws -> [UInt8] {
        var decoder = FrameDecoder()
        decoder.append(frame)
        let body = try #require(try decoder.nextFrame())
        #expect(decoder.bufferedByteCount == 0)
        return Array(body)
    }

    static func decode(_ body: [UInt8]) throws -> AgentData? {
        try body.withUnsafeBytes { try AgentCodec.decodeData($0) }
    }

    @Test("a point encodes to swift-protobuf's bytes, byte for byte", arguments: 0..<3)
    func encodePoint(variant: Int) throws {
        let p = Self.point(variant)
        var mine: [UInt8] = []
        try AgentCodec.appendPoint(p, to: &mine)
        #expect(mine == (try Self.swiftProtobufFrame(p, field: 17)))
    }

    @Test("begin and end encode to swift-protobuf's bytes, byte for byte")
    func encodeBatchEdges() throws {
        var b = Agent_BeginBatch()
        b.name = "cpu"
        b.group = "cpu\nhost=a"
        b.tags = ["host": "a", "dc": "x"]
        b.size = 100
        b.byName = true
        var e = Agent_EndBatch()
        e.name = "cpu"
        e.group = "cpu\nhost=a"
        e.tmax = -1
        e.tags = ["host": "a"]
        e.byName = true
        var mine: [UInt8] = []
        try AgentCodec.appendBegin(b, to: &mine)
        try AgentCodec.appendEnd(e, to: &mine)
        try AgentCodec.appendBegin(Agent_BeginBatch(), to: &mine)
        try AgentCodec.appendEnd(Agent_EndBatch(), to: &mine)
        let expected = try Self.swiftProtobufFrame(b, field: 16) + Self.swiftProtobufFrame(e, field: 18)
            + Self.swiftProtobufFrame(Agent_BeginBatch(), field: 16) + Self.swiftProtobufFrame(Agent_EndBatch(), field: 18)
        #expect(mine == expected)
    }

    @Test("Request{point} and Response{point} decode to the message swift-protobuf decodes", arguments: 0..<3)
    func decodePoint(variant: Int) throws {
        var request = Agent_Request()
        request.point = Self.point(variant)
        let requestBytes: [UInt8] = try request.serializedBytes()
        guard case .point(let fromRequest)? = try Self.decode(requestBytes) else {
            Issue.record("no point decoded from \(requestBytes)")
            return
        }
        #expect(fromRequest == request.point)
        #expect(fromRequest == (try Agent_Request(serializedBytes: requestBytes).point))
        let got = fromRequest

        var response = Agent_Response()
        response.point = got
        guard case .point(let fromResponse)? = try Self.decode(try response.serializedBytes()) else {
            Issue.record("no point decoded from a Response")
            return
        }
        #expect(fromResponse == got)
    }

    @Test("begin and end decode to the messages swift-protobuf decodes")
    func decodeBatchEdges() throws {
        var r = Agent_Request()
        r.begin.name = "cpu"
        r.begin.tags = ["host": "a", "dc": "x"]
        r.begin.size = 7
        r.begin.byName = true
        guard case .begin(let b)? = try Self.decode(try r.serializedBytes()) else {
            Issue.record("no begin")
            return
        }
        #expect(b == r.begin)
        r.end.name = "cpu"
        r.end.group = "g"
        r.end.tmax = 99
        r.end.tags = ["host": "a"]
        guard case .end(let e)? = try Self.decode(try r.serializedBytes()) else {
            Issue.record("no end")
            return
        }
        #expect(e == r.end)
    }

    @Test("swift-protobuf's cases are left to it: management messages, unknown fields, a repeated message")
    func leftToSwiftProtobuf() throws {
        var info = Agent_Request()
        info.info = Agent_InfoRequest()
        #expect(try Self.decode(try info.serializedBytes()) == nil)
        #expect(try Self.decode([]) == nil)

        // Point{time: 1, field 99 (unknown): varint 5}: swift-protobuf keeps field 99, so it decodes the frame.
        let unknown: [UInt8] = [0x8A, 0x01, 0x05, 0x08, 0x01, 0x98, 0x06, 0x05]
        #expect(try Self.decode(unknown) == nil)
        let kept = try Agent_Request(serializedBytes: unknown).point
        #expect(!kept.unknownFields.data.isEmpty)
        // …and keeps it when the point is sent back.
        var out: [UInt8] = []
        try AgentCodec.appendPoint(kept, to: &out)
        #expect(try Agent_Response(serializedBytes: Self.body(out)).point == kept)

        // A known field with another wire type (time as fixed64) is an unknown field to swift-protobuf too.
        #expect(try Self.decode([0x8A, 0x01, 0x09, 0x09, 1, 0, 0, 0, 0, 0, 0, 0]) == nil)
        // Two occurrences of the point are merged by swift-protobuf.
        #expect(try Self.decode([0x8A, 0x01, 0x02, 0x08, 0x01, 0x8A, 0x01, 0x02, 0x12, 0x00]) == nil)
    }

    @Test("malformed data messages are errors that say what is wrong and where", arguments: [
        ([0x8A, 0x01, 0x02, 0x08, 0x80], "truncated varint in Point"),
        ([0x8A, 0x01, 0x03, 0x12, 0x09, 0x61], "length 9 runs past the end in Point"),
        ([0x8A, 0x01, 0x04, 0x12, 0x02, 0xC3, 0x28], "invalid UTF-8 in a string in Point"),
        ([0x8A, 0x01, 0x04, 0x42, 0x02, 0x11, 0x00], "truncated fixed64 in map entry"),
        ([0x8A, 0x01, 0x05, 0x3A, 0x03, 0x0A, 0x00, 0x00], "invalid field number 0 in map entry"),
        ([0x82, 0x01, 0x02, 0x20, 0xFF], "truncated varint in BeginBatch"),
        ([0x92, 0x01, 0x03, 0x0A, 0x05, 0x61], "length 5 runs past the end in EndBatch"),
        ([0x8A, 0x01, 0x04, 0x3A, 0x02, 0x09, 0x00], "wire type 1 for map entry field 1, expected 2 in map entry"),
        ([0x8A, 0x01, 0x05, 0x08], "length 5 runs past the end in message"),
    ] as [([UInt8], String)])
    func malformed(bytes: [UInt8], message: String) {
        #expect(throws: WireFormatError(message)) { try Self.decode(bytes) }
        // swift-protobuf refuses them too.
        #expect(throws: (any Error).self) { try Agent_Request(serializedBytes: bytes) }
    }
}

@Suite("UDFKit Agent on the shared codec")
struct AgentOnCodecTests {
    @Test("a malformed point request is reported to the host saying what is wrong, and stops the agent")
    func malformedPoint() throws {
        var frame: [UInt8] = []
        FrameEncoder.appendFrame([0x8A, 0x01, 0x04, 0x12, 0x02, 0xC3, 0x28], to: &frame) // name: invalid UTF-8
        let (bytes, error) = try runAgent(Counter(), input: Requests.point("ok") + frame + Requests.point("never"))
        let r = try responses(bytes)
        try #require(r.count == 2)
        #expect(r[0].point.name == "ok")
        let message = "error processing request of type unknown: malformed request: invalid UTF-8 in a string in Point"
        #expect(r[1].error.error == message)
        #expect(error?.description == message)
    }

    @Test("a request with unknown fields in its point still reaches the handler, and they go back out")
    func unknownFieldsKept() throws {
        var frame: [UInt8] = []
        FrameEncoder.appendFrame([0x8A, 0x01, 0x06, 0x12, 0x01, 0x61, 0x98, 0x06, 0x05], to: &frame)
        let (bytes, error) = try runAgent(Counter(), input: frame)
        #expect(error == nil)
        let r = try responses(bytes)
        try #require(r.count == 1)
        #expect(r[0].point.name == "a")
        #expect(r[0].point.fieldsInt == ["seen": 1])
        #expect(!r[0].point.unknownFields.data.isEmpty)
    }
}
