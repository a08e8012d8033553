import Testing
import UDFProtocol

@Suite("Protobuf messages in frames")
struct MessageFramingTests {
    @Test("a framed Request decodes back from the frame")
    func roundTrip() throws {
        var request = Agent_Request()
        request.keepalive.time = 1_500_000_000
        var out: [UInt8] = []
        try FrameEncoder.appendMessage(request, to: &out)
        try FrameEncoder.appendMessage(Agent_Request(), to: &out)

        var decoder = FrameDecoder()
        decoder.append(out)
        let first = try #require(try decoder.nextFrame())
        #expect(try Agent_Request(frame: first) == request)
        let second = try #require(try decoder.nextFrame())
        #expect(second.isEmpty)
        #expect(try Agent_Request(frame: second).message == nil)
    }

    @Test("the frame of a KeepaliveRequest is byte-identical to Kapacitor's")
    func kapacitorBytes() throws {
        var request = Agent_Request()
        request.keepalive.time = 1
        var out: [UInt8] = []
        try FrameEncoder.appendMessage(request, to: &out)
        // length 4; field 3 (keepalive) length-delimited, 2 bytes long; inside, field 1 varint = 1
        #expect(out == [0x04, 0x1A, 0x02, 0x08, 0x01])
    }
}
