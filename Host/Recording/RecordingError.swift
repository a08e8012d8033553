/// A recording that cannot be read: which file, where in it, and why.
///
/// Reads like `cpu.srpl:7: expected a field value after "v=", found end of line` or
/// `run.brpl: entry "0", line 3: points[1].time is not an RFC 3339 time`.
public struct RecordingError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The file, as given.
    public var file: String
    /// The archive entry (batch recordings), when the error is inside one.
    public var entry: String?
    /// The 1-based line (of the decompressed text, or of the entry), when the error is on one.
    public var line: Int?
    public var message: String

    public init(file: String, entry: String? = nil, line: Int? = nil, _ message: String) {
        self.file = file
        self.entry = entry
        self.line = line
        self.message = message
    }

    public var description: String {
        switch (entry, line) {
        case (let entry?, let line?): "\(file): entry \"\(entry)\", line \(line): \(message)"
        case (let entry?, nil): "\(file): entry \"\(entry)\": \(message)"
        case (nil, let line?): "\(file):\(line): \(message)"
        case (nil, nil): "\(file): \(message)"
        }
    }
}
