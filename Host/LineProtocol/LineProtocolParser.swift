import TockModel

/// Parses InfluxDB 1.x line protocol from bytes into ``TockModel/Point``s.
///
/// ```swift
/// var parser = LineProtocolParser(precision: .seconds, defaultTime: now, database: "telegraf", retentionPolicy: "autogen")
/// var points: [Point] = []
/// let errors = body.withUnsafeBytes { parser.parse($0, into: &points) }
/// ```
///
/// Rules, as InfluxDB 1.x applies them:
/// - `measurement[,tagkey=tagvalue...] fieldkey=fieldvalue[,...] [timestamp]`, one point per line;
///   `\n` or `\r\n` ends a line; blank lines and lines starting with `#` are skipped; spaces and
///   tabs before a line and between its sections are ignored.
/// - Backslashes exactly as InfluxDB 1.x reads them. In the measurement, tag keys and tag values a byte
///   right after a backslash is escaped (so in `a\\ b` the space is escaped, and `t=C:\\ v=1` is an
///   error); a backslash before a comma, space or `=` (measurement also `"`) is dropped, any other is kept:
///   `a\\b` stays `a\\b`. In field keys a backslash takes the next byte with it; it is dropped before a
///   comma, space, `=` or `"`. In string values `\"` is `"` and `\\` is `\`. A backslash never joins
///   two lines (InfluxDB would read `\` and a line break as part of the line; Tock ends the line there).
/// - Field values: float (`1`, `1.5`, `-1e3`, `.5`), integer (`1i`), unsigned (`1u`), string in
///   double quotes (`\"` and `\\` escaped; it may span lines), boolean (`t`, `T`, `true`, `True`,
///   `TRUE`, `f`, `F`, `false`, `False`, `FALSE`).
/// - Tags come out sorted; a repeated tag key is an error. Fields come out sorted; of a repeated
///   field key the last value wins (InfluxDB decodes fields into a map).
/// - The timestamp is an integer in ``precision`` units, scaled to nanoseconds; a line without one
///   gets ``defaultTime`` rounded down to the precision. Times outside InfluxDB's range are errors.
/// - A bad line becomes a ``LineProtocolError``; parsing resumes on the next line.
///
/// The parser remembers recently seen series keys and field-key lists (bounded), so repeated
/// series cost no unescaping or allocation: reuse one parser for a stream of input.
public struct LineProtocolParser: Sendable {
    /// The unit of timestamps in the input.
    public var precision: Precision
    /// The time (ns since the epoch) of points whose line has no timestamp: the arrival time.
    public var defaultTime: Timestamp
    /// Copied into every point (into its series).
    public var database: String {
        didSet { if database != oldValue { series.generation &+= 1 } }
    }
    /// Copied into every point (into its series).
    public var retentionPolicy: String {
        didSet { if retentionPolicy != oldValue { series.generation &+= 1 } }
    }

    var series = SeriesCache()
    var fieldKeyLists = FieldKeyCache()
    /// The fields of the line being parsed: the first `fieldCount` entries (reused from line to line).
    var keySpans: [KeySpan] = []
    var values: [FieldValue] = []
    var fieldCount = 0
    var tagSpans: [TagSpan] = []
    var unescaped: [UInt8] = []
    let noGroup = GroupID.none
    let noDimensions = Dimensions.none

    public init(precision: Precision = .nanoseconds, defaultTime: Timestamp,
                database: String = "", retentionPolicy: String = "") {
        self.precision = precision
        self.defaultTime = defaultTime
        self.database = database
        self.retentionPolicy = retentionPolicy
        keySpans.reserveCapacity(16)
        values.reserveCapacity(16)
        tagSpans.reserveCapacity(16)
    }

    /// Parses every line of `bytes`, appending the good points to `points` in input order.
    /// - Returns: one error per bad line, in input order (empty when all lines were good).
    @discardableResult
    public mutating func parse(_ bytes: UnsafeRawBufferPointer, into points: inout [Point]) -> [LineProtocolError] {
        var errors: [LineProtocolError] = []
        guard let base = bytes.baseAddress, bytes.count > 0 else { return errors }
        _ = parseRegion(base.assumingMemoryBound(to: UInt8.self), count: bytes.count, final: true,
                        firstLine: 1, maxLineLength: .max, into: &points, errors: &errors)
        return errors
    }

    /// Parses every line of `bytes`; see ``parse(_:into:)-(UnsafeRawBufferPointer,_)``.
    @discardableResult
    public mutating func parse(_ bytes: [UInt8], into points: inout [Point]) -> [LineProtocolError] {
        bytes.withUnsafeBytes { parse($0, into: &points) }
    }

    /// Parses every line of `text`; see ``parse(_:into:)-(UnsafeRawBufferPointer,_)``.
    @discardableResult
    public mutating func parse(_ text: String, into points: inout [Point]) -> [LineProtocolError] {
        var text = text
        return text.withUTF8 { parse(UnsafeRawBufferPointer($0), into: &points) }
    }

    /// Parses the records of `p[0..<end]`.
    ///
    /// When `final` is false the region must end just after a line break, and a record whose
    /// quoted string runs past the end is left for later: parsing stops at its start.
    /// - Returns: the offset of the first byte not consumed, and how many line breaks were consumed.
    mutating func parseRegion(_ p: UnsafePointer<UInt8>, count end: Int, final: Bool, firstLine: Int,
                              maxLineLength: Int, into points: inout [Point],
                              errors: inout [LineProtocolError]) -> (consumed: Int, lines: Int) {
        var i = 0
        var line = firstLine
        let defaultTime = precision.truncate(self.defaultTime)
        while i < end {
            let lineStart = i
            while i < end && (p[i] == Byte.space || p[i] == Byte.tab) { i += 1 }
            if i == end { break }
            let c = p[i]
            if c == Byte.newline {
                i += 1
                line += 1
                continue
            }
            if c == Byte.carriageReturn && (i + 1 == end || p[i + 1] == Byte.newline) {
                i += 1
                continue
            }
            if c == Byte.hash {
                while i < end && p[i] != Byte.newline { i += 1 }
                if i < end { i += 1; line += 1 }
                continue
            }
            switch parseRecord(p, i, end, final: final, defaultTime: defaultTime, into: &points) {
            case .point(let recordEnd, let next, let breaks):
                if recordEnd - lineStart > maxLineLength {
                    points.removeLast()
                    errors.append(Self.lengthError(p, lineStart, end, line: line, limit: maxLineLength))
                }
                line += breaks
                i = next
            case .failure(let position, let message):
                var k = position
                while k < end && p[k] != Byte.newline { k += 1 }
                var recordEnd = k
                if recordEnd > lineStart && p[recordEnd - 1] == Byte.carriageReturn { recordEnd -= 1 }
                if recordEnd - lineStart > maxLineLength {
                    errors.append(Self.lengthError(p, lineStart, end, line: line, limit: maxLineLength))
                } else {
                    errors.append(Self.error(p, lineStart, end, at: position, line: line, message))
                }
                for b in lineStart..<k where p[b] == Byte.newline { line += 1 }
                if k < end { k += 1; line += 1 }
                i = k
            case .incomplete:
                return (lineStart, line - firstLine)
            }
        }
        return (i, line - firstLine)
    }

    /// The error for a bad line that starts at `lineStart` (a line start) and went wrong at `position`.
    static func error(_ p: UnsafePointer<UInt8>, _ lineStart: Int, _ end: Int, at position: Int,
                      line: Int, _ message: String) -> LineProtocolError {
        var line = line
        var columnStart = lineStart
        for k in lineStart..<min(position, end) where p[k] == Byte.newline {
            line += 1
            columnStart = k + 1
        }
        var column = 1
        for k in columnStart..<min(position, end) where p[k] & 0xC0 != 0x80 { column += 1 }
        return LineProtocolError(line: line, column: column, message: message,
                                 text: lineText(p, columnStart, end))
    }

    static func lengthError(_ p: UnsafePointer<UInt8>, _ lineStart: Int, _ end: Int, line: Int,
                            limit: Int) -> LineProtocolError {
        LineProtocolError(line: line, column: limit + 1,
                          message: "line is longer than the limit of \(limit) bytes",
                          text: lineText(p, lineStart, end))
    }

    static func lineText(_ p: UnsafePointer<UInt8>, _ start: Int, _ end: Int) -> String {
        var e = start
        while e < end && e - start < 256 && p[e] != Byte.newline { e += 1 }
        if e > start && p[e - 1] == Byte.carriageReturn { e -= 1 }
        return String(decoding: UnsafeBufferPointer(start: p + start, count: e - start), as: UTF8.self)
    }
}
