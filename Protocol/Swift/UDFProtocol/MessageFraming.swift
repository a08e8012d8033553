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
