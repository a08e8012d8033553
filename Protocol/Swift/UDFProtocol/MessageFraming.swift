import SwiftProtobuf

extension FrameEncoder {
    /// Appends `message`, serialized with swift-protobuf, as one frame to `output`.
    public static func appendMessage(_ message: some SwiftProtobuf.Message, to output: inout [UInt8]) throws {
        let bytes: [UInt8] = try message.serializedBytes()
        appendFrame(bytes, to: &output)
    }
}

extension SwiftProtobuf.Message {
    /// Decodes a message from one frame's bytes (as ``FrameDecoder/nextFrame()`` returns them).
    public init(frame: ArraySlice<UInt8>) throws {
        self.init()
        try frame.withUnsafeBytes { raw in
            try merge(serializedBytes: RawSpan(_unsafeBytes: raw))
        }
    }
}

extension FrameEncoder {
    /// Appends one frame holding a wrapper message (`Request` or `Response`) whose oneof field
    /// `field` is `message`, without building the wrapper: the bytes are the same.
    public static func appendWrapped(
        _ message: some SwiftProtobuf.Message, field: Int, to output: inout [UInt8]
    ) throws {
        let body: [UInt8] = try message.serializedBytes()
        let tag = UInt64(field << 3 | 2)
        let inner = Varint.encodedLength(tag) + Varint.encodedLength(UInt64(body.count)) + body.count
        Varint.append(UInt64(inner), to: &output)
        Varint.append(tag, to: &output)
        Varint.append(UInt64(body.count), to: &output)
        output.append(contentsOf: body)
    }
}
