/// The small pieces every picture is made of: escaping text for XML and HTML, and writing numbers the way
/// SVG coordinates want them (short, no exponent, never `nan`).
public enum SVG {
    /// `text` with the five characters that are special in XML and HTML written as entities, so that any node
    /// name, tag value or message can go into an element's text or a quoted attribute value.
    ///
    /// Control characters other than tab, newline and carriage return are not allowed in XML 1.0 at all and
    /// are replaced by U+FFFD.
    public static func escape(_ text: String) -> String {
        var out = ""
        out.unicodeScalars.reserveCapacity(text.unicodeScalars.count)
        for scalar in text.unicodeScalars {
            switch scalar {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            case "\t", "\n", "\r": out.unicodeScalars.append(scalar)
            case _ where scalar.value < 0x20 || scalar.value == 0x7F || scalar.value == 0xFFFE || scalar.value == 0xFFFF:
                out += "\u{FFFD}"
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out
    }

    /// A coordinate or length with at most `decimals` decimals, trailing zeros dropped (`12.5`, `3`, `-0.25`).
    /// Values that are not finite are written as `0`, so a bad input never makes the document unreadable.
    public static func number(_ value: Double, decimals: Int = 2) -> String {
        guard value.isFinite else { return "0" }
        var scale = 1.0
        for _ in 0..<max(0, min(decimals, 6)) { scale *= 10 }
        let rounded = (value * scale).rounded() / scale
        if rounded == 0 { return "0" }
        let negative = rounded < 0
        let magnitude = abs(rounded)
        let whole = magnitude.rounded(.down)
        var fraction = Int(((magnitude - whole) * scale).rounded())
        var wholeText = String(wholeNumber: whole)
        if Double(fraction) >= scale {
            fraction = 0
            wholeText = String(wholeNumber: whole + 1)
        }
        var text = (negative ? "-" : "") + wholeText
        if fraction > 0 {
            var digits = String(fraction)
            while digits.count < decimals { digits = "0" + digits }
            while digits.hasSuffix("0") { digits.removeLast() }
            text += "." + digits
        }
        return text
    }

    /// A `<text>` element at (`x`, `y`) with the escaped `content`.
    /// `attributes` is written into the element as it is (`fill="#333"`): pass only attributes made here.
    public static func text(_ content: String, x: Double, y: Double, anchor: String = "start", className: String? = nil,
                            attributes: String = "") -> String {
        let cls = className.map { " class=\"\(escape($0))\"" } ?? ""
        let extra = attributes.isEmpty ? "" : " " + attributes
        return "<text x=\"\(number(x))\" y=\"\(number(y))\" text-anchor=\"\(anchor)\"\(cls)\(extra)>\(escape(content))</text>"
    }

    /// A `points` attribute value: `x,y x,y …`.
    public static func points(_ points: [(x: Double, y: Double)]) -> String {
        points.map { "\(number($0.x)),\(number($0.y))" }.joined(separator: " ")
    }
}

private extension String {
    /// The digits of a non-negative whole number held in a `Double` (no exponent, no decimal point).
    init(wholeNumber whole: Double) {
        if whole < 9.0e18 {
            self = String(Int64(whole))
        } else {
            self = "\(whole)"
        }
    }
}
