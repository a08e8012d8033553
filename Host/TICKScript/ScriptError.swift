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
    ///
    /// A line longer than ``renderedWidth`` is cut to that many characters around the column, with `…` where
    /// it was cut, so a hostile one-line script does not come back as a megabyte of error.
    public func rendered(source: String) -> String {
        let lines = source.split(separator: "\n", omittingEmptySubsequences: false)
        guard position.line >= 1, position.line <= lines.count else { return description }
        var scalars = Array(lines[position.line - 1].unicodeScalars)
        var caret = max(0, min(position.column - 1, scalars.count))
        if scalars.count > Self.renderedWidth {
            let start = max(0, min(caret - Self.renderedWidth / 2, scalars.count - Self.renderedWidth))
            let end = min(scalars.count, start + Self.renderedWidth)
            scalars = (start > 0 ? ["…"] : []) + Array(scalars[start..<end]) + (end < scalars.count ? ["…"] : [])
            caret = caret - start + (start > 0 ? 1 : 0)
        }
        var line = String.UnicodeScalarView()
        line.append(contentsOf: scalars)
        let caretPad = String(scalars.prefix(caret).map { $0 == "\t" ? "\t" : " " })
        return "\(description)\n    \(String(line))\n    \(caretPad)^"
    }

    /// The most characters of the offending line ``rendered(source:)`` shows.
    public static let renderedWidth = 120
}
