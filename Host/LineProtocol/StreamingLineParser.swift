import TockModel

/// Parses line protocol that arrives in chunks of any size, such as an HTTP body as it streams in.
///
/// A line split across chunks is kept until its end arrives; the result is the same however
/// the input is cut. A line longer than ``maxLineLength`` bytes is reported and skipped up to its
/// line break, so a broken client cannot make the parser buffer without bound.
///
/// ```swift
/// var stream = StreamingLineParser(LineProtocolParser(precision: .seconds, defaultTime: now, database: "db"))
/// for try await chunk in body { errors += chunk.withUnsafeReadableBytes { stream.feed($0, into: &points) } }
/// errors += stream.finish(into: &points)
/// ```
public struct StreamingLineParser: Sendable {
    /// Parses the complete lines; its settings (precision, default time, database) may be changed between chunks.
    public var parser: LineProtocolParser
    /// The longest line accepted, in bytes without its line break.
    public let maxLineLength: Int

    private var pending: [UInt8] = []
    private var spare: [UInt8] = []
    private var line = 1
    private var skipping = false

    /// - Parameter maxLineLength: default 1 MiB.
    public init(_ parser: LineProtocolParser, maxLineLength: Int = 1 << 20) {
        precondition(maxLineLength > 0)
        self.parser = parser
        self.maxLineLength = maxLineLength
    }

    /// The number of bytes held back: the start of a line whose end has not arrived yet.
    public var bufferedByteCount: Int { pending.count }

    /// Parses the complete lines that `chunk` finishes, appending their points to `points`.
    /// - Returns: the errors of the bad lines among them.
    public mutating func feed(_ chunk: UnsafeRawBufferPointer, into points: inout [Point]) -> [LineProtocolError] {
        var errors: [LineProtocolError] = []
        guard var base = chunk.baseAddress?.assumingMemoryBound(to: UInt8.self), chunk.count > 0 else { return errors }
        var count = chunk.count
        if skipping {
            guard let nl = firstNewline(base, count) else { return errors }
            line += 1
            skipping = false
            base += nl + 1
            count -= nl + 1
            if count == 0 { return errors }
        }
        if pending.isEmpty {
            let consumed = process(base, count, into: &points, errors: &errors)
            if consumed < count { keepTail(base + consumed, count - consumed, errors: &errors) }
        } else {
            pending.append(contentsOf: UnsafeBufferPointer(start: base, count: count))
            // Parse from `work` while the unfinished tail goes into the (empty) spare buffer.
            var work: [UInt8] = []
            swap(&work, &pending)
            swap(&pending, &spare)
            work.withUnsafeBufferPointer { buffer in
                let consumed = process(buffer.baseAddress!, buffer.count, into: &points, errors: &errors)
                if consumed < buffer.count { keepTail(buffer.baseAddress! + consumed, buffer.count - consumed, errors: &errors) }
            }
            work.removeAll(keepingCapacity: true)
            spare = work
        }
        return errors
    }

    /// Parses the complete lines that `chunk` finishes; see ``feed(_:into:)-(UnsafeRawBufferPointer,_)``.
    public mutating func feed(_ chunk: [UInt8], into points: inout [Point]) -> [LineProtocolError] {
        chunk.withUnsafeBytes { feed($0, into: &points) }
    }

    /// Parses what is left (a last line without line break) at the end of the input, and resets
    /// the line count for a new input.
    public mutating func finish(into points: inout [Point]) -> [LineProtocolError] {
        var errors: [LineProtocolError] = []
        if !skipping && !pending.isEmpty {
            let all = pending
            all.withUnsafeBufferPointer { buffer in
                _ = parser.parseRegion(buffer.baseAddress!, count: buffer.count, final: true, firstLine: line,
                                       maxLineLength: maxLineLength, into: &points, errors: &errors)
            }
        }
        pending.removeAll()
        line = 1
        skipping = false
        return errors
    }

    /// Parses up to and including the last line break of `p[0..<count]`; returns the bytes consumed.
    private mutating func process(_ p: UnsafePointer<UInt8>, _ count: Int, into points: inout [Point],
                                  errors: inout [LineProtocolError]) -> Int {
        guard let last = lastNewline(p, count) else { return 0 }
        let (consumed, lines) = parser.parseRegion(p, count: last + 1, final: false, firstLine: line,
                                                   maxLineLength: maxLineLength, into: &points, errors: &errors)
        line += lines
        return consumed
    }

    /// Keeps an unfinished line for the next chunk, or reports it and skips it when it is too long.
    private mutating func keepTail(_ p: UnsafePointer<UInt8>, _ count: Int, errors: inout [LineProtocolError]) {
        var length = count
        if length > 0 && p[length - 1] == Byte.carriageReturn { length -= 1 }
        if length > maxLineLength {
            errors.append(LineProtocolParser.lengthError(p, 0, count, line: line, limit: maxLineLength))
            for k in 0..<count where p[k] == Byte.newline { line += 1 }
            skipping = true
        } else {
            pending.append(contentsOf: UnsafeBufferPointer(start: p, count: count))
        }
    }

    private func firstNewline(_ p: UnsafePointer<UInt8>, _ count: Int) -> Int? {
        var i = 0
        while i < count {
            if p[i] == Byte.newline { return i }
            i += 1
        }
        return nil
    }

    private func lastNewline(_ p: UnsafePointer<UInt8>, _ count: Int) -> Int? {
        var i = count - 1
        while i >= 0 {
            if p[i] == Byte.newline { return i }
            i -= 1
        }
        return nil
    }
}
