import Engine
import Foundation
import PluginHost
import Testing
import TockModel
import UDFProtocol

/// Builds protobuf bytes by hand, to feed the decoder what other encoders might send.
struct Wire {
    var bytes: [UInt8] = []

    mutating func varint(_ v: UInt64) { Varint.append(v, to: &bytes) }
    mutating func tag(_ field: Int, _ wire: Int) { varint(UInt64(field << 3 | wire)) }
    mutating func string(_ field: Int, _ s: String) { delimited(field, Array(s.utf8)) }
    mutating func delimited(_ field: Int, _ payload: [UInt8]) {
        tag(field, 2)
        varint(UInt64(payload.count))
        bytes += payload
    }
    mutating func delimited(_ field: Int, _ build: (inout Wire) -> Void) {
        var inner = Wire()
        build(&inner)
        delimited(field, inner.bytes)
    }

    /// One unknown field of every wire type, numbered from `base`.
    mutating func unknowns(_ base: Int) {
        tag(base, 0); varint(300)
        tag(base + 1, 1); bytes += [1, 2, 3, 4, 5, 6, 7, 8]
        string(base + 2, "ignored")
        tag(base + 3, 5); bytes += [9, 9, 9, 9]
        tag(base + 4, 3); tag(1, 0); varint(7); string(2, "in a group"); tag(base + 4, 4)
    }
}

private func decode(_ w: Wire) throws -> UDFResponse {
    try UDFCodec.decodeResponse(w.bytes[...])
}

@Suite("UDF codec: encoding requests")
struct CodecEncodingTests {
    @Test("a point with one entry per map is byte-identical to swift-protobuf's encoding")
    func bytesIdentical() throws {
        let point = Point(
            name: "cpu", tags: ["host": "a"],
            fields: ["d": .double(1.5), "i": .int(-2), "s": .string("x"), "b": .bool(true)],
            time: 1_451_606_400_000_000_000, database: "telegraf", retentionPolicy: "autogen",
            group: GroupID("host=a"), dimensions: Dimensions(byName: true, tagNames: ["host"]))
        var mine: [UInt8] = []
        UDFCodec.appendPointRequest(point, to: &mine, framed: false)
        var request = Agent_Request()
        request.point = Reference.point(point)
        // One entry per map leaves swift-protobuf no choice of order, so the bytes must agree exactly.
        #expect(mine == (try request.serializedBytes() as [UInt8]))
    }

    @Test("an empty point is the oneof tag with length 0")
    func emptyPoint() {
        var out: [UInt8] = []
        UDFCodec.appendPointRequest(Point(name: "", fields: [:], time: 0), to: &out)
        #expect(out == [0x03, 0x8A, 0x01, 0x00])
    }

    @Test("unsigned fields go to fieldsInt when they fit, else to fieldsDouble")
    func unsigned() throws {
        let point = Point(name: "m", fields: ["small": .uint(7), "huge": .uint(.max)], time: 1)
        var out: [UInt8] = []
        UDFCodec.appendPointRequest(point, to: &out, framed: false)
        let p = try Agent_Request(serializedBytes: out).point
        #expect(p.fieldsInt == ["small": 7])
        #expect(p.fieldsDouble == ["huge": 18_446_744_073_709_551_615.0])
    }

    @Test("management requests are framed swift-protobuf messages")
    func management() throws {
        let options = [UDFOption(name: "field", values: [.string("hotend")]),
                       UDFOption(name: "size", values: [.int(3600)]),
                       UDFOption(name: "alpha", values: [.float(0.001)]),
                       UDFOption(name: "every", values: [.duration(5 * GoDuration.minute), .bool(true)])]
        let request = try UDFCodec.initRequest(options: options, taskID: "t", nodeID: "tTest2")
        var out: [UInt8] = []
        try UDFCodec.appendRequest(request, to: &out)
        var decoder = FrameDecoder()
        decoder.append(out)
        let decoded = try Agent_Request(frame: try #require(try decoder.nextFrame()))
        #expect(decoded.init_p.taskID == "t")
        #expect(decoded.init_p.nodeID == "tTest2")
        #expect(decoded.init_p.options.map(\.name) == ["field", "size", "alpha", "every"])
        #expect(decoded.init_p.options[0].values[0].type == .string)
        #expect(decoded.init_p.options[0].values[0].stringValue == "hotend")
        #expect(decoded.init_p.options[1].values[0].intValue == 3600)
        #expect(decoded.init_p.options[2].values[0].doubleValue == 0.001)
        #expect(decoded.init_p.options[3].values[0].type == .duration)
        #expect(decoded.init_p.options[3].values[0].durationValue == 300_000_000_000)
        #expect(decoded.init_p.options[3].values[1].boolValue == true)

        #expect(UDFCodec.keepaliveRequest(time: 42).keepalive.time == 42)
        #expect(UDFCodec.restoreRequest(snapshot: [1, 2]).restore.snapshot == Data([1, 2]))
        if case .info? = UDFCodec.infoRequest().message {} else { Issue.record("not an info request") }
        if case .snapshot? = UDFCodec.snapshotRequest().message {} else { Issue.record("not a snapshot request") }
    }

    @Test("a regex cannot be sent as a UDF option")
    func regexOption() {
        #expect(throws: UDFCodecError.self) {
            try UDFCodec.initRequest(options: [UDFOption(name: "re", values: [.regex("a.*")])], taskID: "", nodeID: "")
        }
    }

    @Test("an InfoResponse becomes the engine's UDFInfo")
    func info() throws {
        var r = Agent_InfoResponse()
        r.wants = .batch
        r.provides = .stream
        var o = Agent_OptionInfo()
        o.valueTypes = [.string, .duration]
        r.options["field"] = o
        let info = try UDFCodec.info(from: r)
        #expect(info == UDFInfo(wants: .batch, provides: .stream, options: ["field": [.string, .duration]]))
    }
}

@Suite("UDF codec: decoding responses")
struct CodecDecodingTests {
    @Test("when a key is in several typed maps, bool beats double beats int beats string")
    func fieldPrecedence() throws {
        var p = Agent_Point()
        p.fieldsString = ["a": "s", "b": "s", "c": "s", "d": "s"]
        p.fieldsInt = ["b": 1, "c": 1, "d": 1]
        p.fieldsDouble = ["c": 2.5, "d": 2.5]
        p.fieldsBool = ["d": true]
        var r = Agent_Response()
        r.point = p
        let bytes: [UInt8] = try r.serializedBytes()
        guard case .point(let point) = try UDFCodec.decodeResponse(bytes[...]) else {
            Issue.record("not a point")
            return
        }
        #expect(point.fields == ["a": .string("s"), "b": .int(1), "c": .double(2.5), "d": .bool(true)])
    }

    @Test("a key repeated within one map keeps its last value, as protobuf specifies")
    func repeatedKey() throws {
        var w = Wire()
        w.delimited(17) { p in
            p.delimited(7) { e in e.string(1, "host"); e.string(2, "first") }
            p.delimited(9) { e in e.string(1, "n"); e.tag(2, 0); e.varint(1) }
            p.delimited(7) { e in e.string(1, "host"); e.string(2, "second") }
            p.delimited(9) { e in e.string(1, "n"); e.tag(2, 0); e.varint(2) }
        }
        guard case .point(let point) = try decode(w) else {
            Issue.record("not a point")
            return
        }
        #expect(point.tags == ["host": "second"])
        #expect(point.fields == ["n": .int(2)])
    }

    @Test("the group is computed from dimensions and tags, not taken from the wire")
    func groupRecomputed() throws {
        var p = Agent_Point()
        p.name = "cpu"
        p.group = "whatever the UDF says"
        p.tags = ["host": "a", "cpu": "0"]
        p.dimensions = ["host"]
        var r = Agent_Response()
        r.point = p
        let bytes: [UInt8] = try r.serializedBytes()
        guard case .point(let point) = try UDFCodec.decodeResponse(bytes[...]) else {
            Issue.record("not a point")
            return
        }
        #expect(point.group == GroupID("host=a"))
        #expect(point.dimensions == Dimensions(byName: false, tagNames: ["host"]))
    }

    @Test("unknown fields of every wire type are skipped at every level")
    func unknownFields() throws {
        var w = Wire()
        w.unknowns(100)
        w.delimited(17) { p in
            p.unknowns(20)
            p.tag(1, 0); p.varint(5)
            p.string(2, "m")
            p.delimited(7) { e in e.unknowns(3); e.string(1, "k"); e.string(2, "v") }
            p.delimited(8) { e in e.string(1, "f"); e.unknowns(5); e.tag(2, 1); e.bytes += withUnsafeBytes(of: (2.5).bitPattern.littleEndian, Array.init) }
            p.unknowns(40)
        }
        w.unknowns(200)
        #expect(try decode(w) == .point(Point(name: "m", tags: ["k": "v"], fields: ["f": .double(2.5)], time: 5)))
    }

    @Test("management responses come back as swift-protobuf messages")
    func management() throws {
        var r = Agent_Response()
        r.init_p.success = false
        r.init_p.error = "size must be > 1"
        let bytes: [UInt8] = try r.serializedBytes()
        #expect(try UDFCodec.decodeResponse(bytes[...]) == .other(r))

        var e = Agent_Response()
        e.error.error = "boom"
        let eb: [UInt8] = try e.serializedBytes()
        #expect(try UDFCodec.decodeResponse(eb[...]) == .other(e))

        #expect(try UDFCodec.decodeResponse([][...]) == .other(Agent_Response()))
    }

    @Test("of several oneof cases the last one wins; a data case sent twice is merged")
    func oneofRules() throws {
        var w = Wire()
        w.delimited(17) { p in p.string(2, "dropped") }
        w.delimited(18) { e in e.string(1, "kept"); e.tag(3, 0); e.varint(9) }
        #expect(try decode(w) == .end(UDFEndBatch(name: "kept", tmax: 9)))

        var m = Wire()
        m.delimited(17) { p in p.string(2, "cpu") }
        m.delimited(17) { p in p.tag(1, 0); p.varint(7) }
        #expect(try decode(m) == .point(Point(name: "cpu", fields: [:], time: 7)))

        var k = Wire()
        k.delimited(17) { p in p.string(2, "cpu") }
        k.delimited(3) { ka in ka.tag(1, 0); ka.varint(11) }
        var keepalive = Agent_Response()
        keepalive.keepalive.time = 11
        #expect(try decode(k) == .other(keepalive))
    }

    @Test("multi-byte UTF-8 of every length decodes")
    func utf8() throws {
        let name = "aé€🙂 12345678 日本語テキスト"
        var w = Wire()
        w.delimited(17) { p in p.string(2, name) }
        #expect(try decode(w) == .point(Point(name: name, fields: [:], time: 0)))
    }

    @Test("negative times and int fields use ten-byte varints")
    func negatives() throws {
        let point = Point(name: "m", fields: ["i": .int(-5)], time: -1)
        var r = Agent_Response()
        r.point = Reference.point(point)
        let bytes: [UInt8] = try r.serializedBytes()
        #expect(try UDFCodec.decodeResponse(bytes[...]) == .point(point))
    }

    @Test("malformed frames are errors that say what is wrong", arguments: [
        ([0x8A, 0x01, 0x04, 0x12, 0x03, 0x61, 0x62], "length 3 runs past the end in Point"),
        ([0x8A, 0x01, 0x03, 0x12, 0x01, 0xFF], "invalid UTF-8 in a string in Point"),
        ([0x8A, 0x01, 0x02, 0x08, 0x80], "truncated varint in Point"),
        ([0x8A, 0x01, 0x05, 0x12, 0x00], "length 5 runs past the end in Response"),
        ([0x00], "invalid field number 0 in Response"),
        ([0x8A, 0x01, 0x04, 0x12, 0x02, 0xC0, 0x80], "invalid UTF-8 in a string in Point"), // overlong
        ([0x8A, 0x01, 0x05, 0x12, 0x03, 0xED, 0xA0, 0x80], "invalid UTF-8 in a string in Point"), // surrogate
        ([0x8A, 0x01, 0x06, 0x12, 0x04, 0xF4, 0x90, 0x80, 0x80], "invalid UTF-8 in a string in Point"), // > U+10FFFF
        ([0x8A, 0x01, 0x04, 0x12, 0x02, 0xE2, 0x82], "invalid UTF-8 in a string in Point"), // truncated
        // A known field with the wrong wire type is not an error but an unknown field: DecoderWireTypeTests.
        ([0x8A, 0x01, 0x01, 0x0F], "invalid wire type 7 for field 1 in Point"),
    ] as [([UInt8], String)])
    func malformed(bytes: [UInt8], message: String) {
        #expect(throws: UDFCodecError("malformed UDF response: " + message)) {
            try UDFCodec.decodeResponse(bytes[...])
        }
    }
}
