/// An error in a script, at a line and column: what the parser, the checker and the builder all throw.
public struct ScriptError: Error, Sendable, Hashable, CustomStringConvertible {
    public var message: String
    public var position: SourcePosition

    public init(_ message: String, at position: SourcePosition) {
        self.message = message
        self.position = position
    }

    /// `line:column: message`.
    public var description: String { "\(position): \(message)" }

    /// The error with the offending line of `source` and a caret under the column:
    /// ```
    /// 3:7: unknown property "perod" on window; did you mean "period"?
    ///     .perod(5m)
    ///      ^
    /// ```
    public func rendered(source: String) -> String {
        let lines = source.split(separator: "\n", omittingEmptySubsequences: false)
        guard position.line >= 1, position.line <= lines.count else { return description }
        let line = String(lines[position.line - 1])
        let caretPad = String(line.unicodeScalars.prefix(max(0, position.column - 1)).map { $0 == "\t" ? "\t" : " " })
        return "\(description)\n    \(line)\n    \(caretPad)^"
    }
}
