/// A line that could not be parsed: where, and what was expected there.
///
/// The parser keeps going after a bad line, so one input can yield points and errors together.
public struct LineProtocolError: Error, Sendable, Hashable, CustomStringConvertible {
    /// 1-based line number in the whole input (a streaming parser counts across chunks).
    public var line: Int
    /// 1-based column, counted in characters (Unicode scalars) from the start of the line.
    public var column: Int
    /// What was expected and what was found, e.g. `expected a field value after "temp=", found end of line`.
    public var message: String
    /// The start of the offending line (at most 256 bytes), for responses like InfluxDB's `unable to parse '…'`.
    public var text: String

    public init(line: Int, column: Int, message: String, text: String = "") {
        self.line = line
        self.column = column
        self.message = message
        self.text = text
    }

    /// `line 3, column 17: expected a field value after "temp=", found end of line`.
    public var description: String { "line \(line), column \(column): \(message)" }
}

/// A point that line protocol cannot express.
public struct LineProtocolSerializationError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The measurement of the point that was refused.
    public var measurement: String
    /// Why, e.g. `field "value" is NaN, which line protocol cannot carry`.
    public var message: String

    public init(measurement: String, message: String) {
        self.measurement = measurement
        self.message = message
    }

    public var description: String { "cannot write point of measurement \"\(measurement)\" as line protocol: \(message)" }
}
