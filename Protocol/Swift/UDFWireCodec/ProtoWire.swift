// Protobuf wire-format primitives of the hand-written UDF codec, shared by the host (PluginHost) and the Swift SDK
// (UDFKit): a writer into preallocated bytes and a bounds-checked reader over a frame.

/// Protobuf wire types.
@usableFromInline package enum WireType {
    @usableFromInline package static let varint = 0
    @usableFromInline package static let fixed64 = 1
    @usableFromInline package static let lengthDelimited = 2
    @usableFromInline package static let startGroup = 3
    @usableFromInline package static let endGroup = 4
    @usableFromInline package static let fixed32 = 5
}

@inlinable
package func varintSize(_ value: UInt64) -> Int {
    // 1 byte per started group of 7 bits; 0 takes one byte.
    let bits = 64 - (value | 1).leadingZeroBitCount
    return (bits + 6) / 7
}

/// The size of a length-delimited field whose payload is `length` bytes and whose tag is one byte.
@inlinable
package func delimitedSize(_ length: Int) -> Int {
    1 + varintSize(UInt64(length)) + length
}

/// Writes protobuf bytes into memory the caller has already sized exactly.
@usableFromInline package struct ProtoWriter {
    @usableFromInline package var cursor: UnsafeMutablePointer<UInt8>

    @inlinable package init(_ start: UnsafeMutablePointer<UInt8>) { cursor = start }

    @inlinable package mutating func byte(_ b: UInt8) {
        cursor.pointee = b
        cursor += 1
    }

    @inlinable package mutating func varint(_ value: UInt64) {
        var v = value
        while v >= 0x80 {
            cursor.pointee = UInt8(truncatingIfNeeded: v) | 0x80
            cursor += 1
            v &>>= 7
        }
        cursor.pointee = UInt8(truncatingIfNeeded: v)
        cursor += 1
    }

    @inlinable package mutating func fixed64(_ value: UInt64) {
        UnsafeMutableRawPointer(cursor).storeBytes(of: value.littleEndian, as: UInt64.self)
        cursor += 8
    }

    /// Bytes already encoded, as they are.
    @inlinable package mutating func raw(_ bytes: UnsafeBufferPointer<UInt8>) {
        guard let base = bytes.baseAddress else { return }
        cursor.update(from: base, count: bytes.count)
        cursor += bytes.count
    }

    /// The string's UTF-8 bytes, without a length.
    @inlinable package mutating func utf8(_ string: String) {
        var s = string
        s.withUTF8 { buf in
            if let base = buf.baseAddress {
                cursor.update(from: base, count: buf.count)
                cursor += buf.count
            }
        }
    }

    /// A one-byte tag, the length and the string's bytes.
    @inlinable package mutating func stringField(tag: UInt8, _ string: String) {
        byte(tag)
        varint(UInt64(string.utf8.count))
        utf8(string)
    }
}

/// Why bytes are not the protobuf message they should be.
///
/// ```swift
/// do { _ = try AgentCodec.decodeRequest(frame) } catch { print(error) } // "truncated varint in Point"
/// ```
public struct WireFormatError: Error, Sendable, Hashable, CustomStringConvertible {
    /// What was wrong and in which message, e.g. "truncated varint in Point".
    public var message: String

    public init(_ message: String) { self.message = message }

    public var description: String { message }
}

/// Reads protobuf wire format from a frame, checking every bound.
@usableFromInline package struct ProtoReader {
    @usableFromInline package var cursor: UnsafePointer<UInt8>
    @usableFromInline package let end: UnsafePointer<UInt8>
    /// The message being read, for error messages.
    @usableFromInline package let context: StaticString

    /// How many more groups or messages may open inside this one, counted as swift-protobuf counts them
    /// (`BinaryDecodingOptions.messageDepthLimit`, 100): reading a message takes one, and so does each
    /// group being skipped. It bounds the recursion of ``skip(wire:field:)``, so a frame of nested
    /// groups cannot overflow the stack, and makes this decoder refuse exactly what swift-protobuf refuses.
    @usableFromInline package var depthBudget: Int

    /// swift-protobuf's default `messageDepthLimit`.
    @usableFromInline package static let messageDepthLimit = 100

    /// A reader over a message whose parent left `depthBudget` (for the top-level `Response`, the limit
    /// less the one it takes itself).
    @inlinable package init(start: UnsafePointer<UInt8>, end: UnsafePointer<UInt8>, context: StaticString,
                    depthBudget: Int = ProtoReader.messageDepthLimit - 1) {
        cursor = start
        self.end = end
        self.context = context
        self.depthBudget = depthBudget
    }

    @inlinable package var isAtEnd: Bool { cursor >= end }

    @usableFromInline package func error(_ what: String) -> WireFormatError {
        WireFormatError("\(what) in \(context)")
    }

    @inlinable @inline(__always) package mutating func varint() throws(WireFormatError) -> UInt64 {
        // Fast path: one byte, as most tags and lengths are.
        if cursor < end, cursor.pointee < 0x80 {
            let v = UInt64(cursor.pointee)
            cursor += 1
            return v
        }
        return try longVarint()
    }

    @usableFromInline @inline(never) package mutating func longVarint() throws(WireFormatError) -> UInt64 {
        var value: UInt64 = 0
        var shift: UInt64 = 0
        while cursor < end {
            let b = cursor.pointee
            cursor += 1
            if shift == 63 && b > 1 { throw error("varint overflows 64 bits") }
            value |= UInt64(b & 0x7F) << shift
            if b < 0x80 { return value }
            shift += 7
        }
        throw error("truncated varint")
    }

    /// The next tag as (field number, wire type).
    @inlinable package mutating func tag() throws(WireFormatError) -> (field: Int, wire: Int) {
        let t = try varint()
        let field = t >> 3
        if field == 0 || field > 536_870_911 { throw error("invalid field number \(field)") }
        return (Int(field), Int(t & 7))
    }

    @inlinable package mutating func fixed64() throws(WireFormatError) -> UInt64 {
        guard end - cursor >= 8 else { throw error("truncated fixed64") }
        let v = UnsafeRawPointer(cursor).loadUnaligned(as: UInt64.self)
        cursor += 8
        return UInt64(littleEndian: v)
    }

    /// The bytes of a length-delimited value.
    @inlinable package mutating func delimited() throws(WireFormatError) -> UnsafeBufferPointer<UInt8> {
        let length = try varint()
        guard length <= UInt64(end - cursor) else { throw error("length \(length) runs past the end") }
        let buf = UnsafeBufferPointer(start: cursor, count: Int(length))
        cursor += Int(length)
        return buf
    }

    /// A reader over the bytes of a length-delimited value.
    @inlinable package mutating func submessage(_ context: StaticString) throws(WireFormatError) -> ProtoReader {
        let buf = try delimited()
        let start = buf.baseAddress ?? cursor
        // A map entry, the only submessage read this way, shares its parent's budget as in swift-protobuf.
        return ProtoReader(start: start, end: start + buf.count, context: context, depthBudget: depthBudget)
    }

    @inlinable package mutating func string() throws(WireFormatError) -> String {
        let buf = try delimited()
        if buf.isEmpty { return "" }
        // Validate here: the standard library's validating initializer takes a slow generic path.
        guard isValidUTF8(buf) else { throw error("invalid UTF-8 in a string") }
        return String(decoding: buf, as: UTF8.self)
    }

    /// Skips a value of an unknown field, including groups.
    @usableFromInline package mutating func skip(wire: Int, field: Int) throws(WireFormatError) {
        switch wire {
        case WireType.varint: _ = try varint()
        case WireType.fixed64:
            guard end - cursor >= 8 else { throw error("truncated fixed64") }
            cursor += 8
        case WireType.lengthDelimited: _ = try delimited()
        case WireType.fixed32:
            guard end - cursor >= 4 else { throw error("truncated fixed32") }
            cursor += 4
        case WireType.startGroup:
            depthBudget -= 1
            if depthBudget < 0 { throw error("groups nested too deeply") }
            while true {
                let (f, w) = try tag()
                if w == WireType.endGroup {
                    guard f == field else { throw error("mismatched end of group \(field)") }
                    depthBudget += 1
                    return
                }
                try skip(wire: w, field: f)
            }
        default:
            throw error("invalid wire type \(wire) for field \(field)")
        }
    }

    /// Whether a known field came with the wire type its declaration implies. When it did not, the value
    /// is skipped and the field treated as unknown, as swift-protobuf and Go's protobuf (Kapacitor) do.
    @inlinable package mutating func known(_ wire: Int, _ expected: Int, field: Int) throws(WireFormatError) -> Bool {
        if wire == expected { return true }
        try skip(wire: wire, field: field)
        return false
    }

    /// Checks the key or value of a map entry: there swift-protobuf refuses a wrong wire type (Go's protobuf skips
    /// it, leaving the key or value empty); Tock refuses it too, so the fast path and swift-protobuf agree on every
    /// frame (`Tests/Fuzz/Crashers.md`, `udf/map-entry-key-with-fixed64-wire-type`).
    @inlinable package mutating func mapEntry(_ wire: Int, _ expected: Int, field: Int) throws(WireFormatError) -> Bool {
        guard wire == expected else { throw error("wire type \(wire) for map entry field \(field), expected \(expected)") }
        return true
    }
}

/// Whether `bytes` is well-formed UTF-8 (no overlong forms, surrogates or values above U+10FFFF).
@inlinable
package func isValidUTF8(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
    guard var p = bytes.baseAddress else { return true }
    let end = p + bytes.count
    // ASCII eight bytes at a time, the common case for tag and field names.
    while end - p >= 8 {
        if UnsafeRawPointer(p).loadUnaligned(as: UInt64.self) & 0x8080_8080_8080_8080 != 0 { break }
        p += 8
    }
    while p < end {
        let b0 = p.pointee
        if b0 < 0x80 {
            p += 1
            continue
        }
        @inline(__always) func cont(_ q: UnsafePointer<UInt8>) -> Bool { q < end && q.pointee & 0xC0 == 0x80 }
        switch b0 {
        case 0xC2...0xDF:
            guard cont(p + 1) else { return false }
            p += 2
        case 0xE0...0xEF:
            guard cont(p + 1), cont(p + 2) else { return false }
            let b1 = p[1]
            if b0 == 0xE0 && b1 < 0xA0 { return false } // overlong
            if b0 == 0xED && b1 > 0x9F { return false } // surrogates
            p += 3
        case 0xF0...0xF4:
            guard cont(p + 1), cont(p + 2), cont(p + 3) else { return false }
            let b1 = p[1]
            if b0 == 0xF0 && b1 < 0x90 { return false } // overlong
            if b0 == 0xF4 && b1 > 0x8F { return false } // above U+10FFFF
            p += 4
        default:
            return false
        }
    }
    return true
}

// MARK: - Strings and map entries, as both sides of the UDF protocol write them

/// The size of an optional string field (proto3: omitted when empty) with a one-byte tag.
@inlinable
package func optionalStringSize(_ s: String) -> Int {
    s.isEmpty ? 0 : delimitedSize(s.utf8.count)
}

/// The payload size of a `map<string,string>` entry (key and value are always written, as swift-protobuf and Go do).
@inlinable
package func stringEntrySize(_ key: String, _ value: String) -> Int {
    delimitedSize(key.utf8.count) + delimitedSize(value.utf8.count)
}

/// The payload size of a `map<string,double>` entry.
@inlinable
package func doubleEntrySize(_ key: String) -> Int { delimitedSize(key.utf8.count) + 9 }

/// The payload size of a `map<string,int64>` entry.
@inlinable
package func int64EntrySize(_ key: String, _ value: Int64) -> Int {
    delimitedSize(key.utf8.count) + 1 + varintSize(UInt64(bitPattern: value))
}

/// The payload size of a `map<string,bool>` entry.
@inlinable
package func boolEntrySize(_ key: String) -> Int { delimitedSize(key.utf8.count) + 2 }

extension ProtoWriter {
    /// A `map<string,string>` entry under the one-byte `tag`.
    @inlinable package mutating func stringEntry(tag: UInt8, _ key: String, _ value: String) {
        byte(tag)
        varint(UInt64(stringEntrySize(key, value)))
        stringField(tag: 0x0A, key)
        stringField(tag: 0x12, value)
    }

    /// A `map<string,double>` entry under the one-byte `tag`.
    @inlinable package mutating func doubleEntry(tag: UInt8, _ key: String, _ value: Double) {
        byte(tag)
        varint(UInt64(doubleEntrySize(key)))
        stringField(tag: 0x0A, key)
        byte(0x11)
        fixed64(value.bitPattern)
    }

    /// A `map<string,int64>` entry under the one-byte `tag`.
    @inlinable package mutating func int64Entry(tag: UInt8, _ key: String, _ value: Int64) {
        byte(tag)
        varint(UInt64(int64EntrySize(key, value)))
        stringField(tag: 0x0A, key)
        byte(0x10)
        varint(UInt64(bitPattern: value))
    }

    /// A `map<string,bool>` entry under the one-byte `tag`.
    @inlinable package mutating func boolEntry(tag: UInt8, _ key: String, _ value: Bool) {
        byte(tag)
        varint(UInt64(boolEntrySize(key)))
        stringField(tag: 0x0A, key)
        byte(0x10)
        byte(value ? 1 : 0)
    }

    /// A varint field under the one-byte `tag`, omitted when 0 (proto3).
    @inlinable package mutating func optionalVarint(tag: UInt8, _ value: UInt64) {
        if value == 0 { return }
        byte(tag)
        varint(value)
    }

    /// A string field under the one-byte `tag`, omitted when empty (proto3).
    @inlinable package mutating func optionalString(tag: UInt8, _ value: String) {
        if value.isEmpty { return }
        stringField(tag: tag, value)
    }
}

/// Appends one message of `bodySize` bytes to `output`: the frame's length prefix unless `framed` is false, the
/// two-byte tag of the wrapper's oneof field (`Request` or `Response` field 16, 17 or 18) and the body's length, then
/// lets `write` fill the body. The output is sized once.
@inlinable
package func appendWrappedMessage(
    oneofTag: (UInt8, UInt8), bodySize: Int, to output: inout [UInt8], framed: Bool,
    _ write: (inout ProtoWriter) -> Void
) {
    let wrapperSize = 2 + varintSize(UInt64(bodySize)) + bodySize
    let total = (framed ? varintSize(UInt64(wrapperSize)) : 0) + wrapperSize
    let start = output.count
    output.append(contentsOf: repeatElement(0, count: total))
    output.withUnsafeMutableBufferPointer { buf in
        var w = ProtoWriter(buf.baseAddress! + start)
        if framed { w.varint(UInt64(wrapperSize)) }
        w.byte(oneofTag.0)
        w.byte(oneofTag.1)
        w.varint(UInt64(bodySize))
        write(&w)
        assert(w.cursor == buf.baseAddress! + start + total, "UDF codec size mismatch")
    }
}

/// The two-byte tags of the wrapper messages' data cases (field number << 3 | length-delimited, as a varint).
@usableFromInline package enum DataTag {
    /// `begin = 16`.
    @usableFromInline package static let begin: (UInt8, UInt8) = (0x82, 0x01)
    /// `point = 17`.
    @usableFromInline package static let point: (UInt8, UInt8) = (0x8A, 0x01)
    /// `end = 18`.
    @usableFromInline package static let end: (UInt8, UInt8) = (0x92, 0x01)
}
