import UDFProtocol

/// How a plugin's stdout is cut into messages.
public enum OutputFraming: Sendable, Hashable {
    /// Varint length prefixes (Kapacitor's UDF protocol and Tock's plugin protocol).
    case lengthPrefixed
    /// Newline-terminated lines (Telegraf's `execd` line protocol).
    case lines
}

/// Cuts a child's stdout into messages for ``PluginConnection``'s reader.
package protocol OutputDecoder {
    mutating func append(_ bytes: UnsafeRawBufferPointer)
    /// The next complete message, or `nil` until one has arrived.
    mutating func next() throws(FrameError) -> ArraySlice<UInt8>?
    /// The stream ended: an error when it ended inside a message that cannot stand alone, or the last message.
    mutating func end() throws(FrameError) -> ArraySlice<UInt8>?
}

extension FrameDecoder: OutputDecoder {
    package mutating func next() throws(FrameError) -> ArraySlice<UInt8>? { try nextFrame() }

    package mutating func end() throws(FrameError) -> ArraySlice<UInt8>? {
        try finish()
        return nil
    }
}

/// Splits a byte stream into lines (without their `\n`, or `\r\n`), as Telegraf's `execd` inputs write line
/// protocol on stdout. A line longer than the limit is refused like an oversized frame.
package struct LineDecoder: OutputDecoder, Sendable {
    package let maxLineLength: Int
    private var buffer: [UInt8] = []
    private var start = 0
    /// Where the search for the next newline resumes (bytes before it hold none).
    private var scanned = 0

    package init(maxLineLength: Int) {
        self.maxLineLength = maxLineLength
    }

    package mutating func append(_ bytes: UnsafeRawBufferPointer) {
        if start > 0 && start >= buffer.count / 2 {
            buffer.removeFirst(start)
            scanned -= start
            start = 0
        }
        buffer.append(contentsOf: bytes)
    }

    package mutating func next() throws(FrameError) -> ArraySlice<UInt8>? {
        guard let newline = buffer[scanned...].firstIndex(of: UInt8(ascii: "\n")) else {
            scanned = buffer.count
            if buffer.count - start > maxLineLength {
                throw .frameTooLarge(size: UInt64(buffer.count - start), limit: maxLineLength)
            }
            return nil
        }
        var end = newline
        if end > start && buffer[end - 1] == UInt8(ascii: "\r") { end -= 1 }
        let line = buffer[start..<end]
        start = newline + 1
        scanned = start
        return line
    }

    package mutating func end() throws(FrameError) -> ArraySlice<UInt8>? {
        defer { buffer = []; start = 0; scanned = 0 }
        return start < buffer.count ? buffer[start...] : nil
    }
}
