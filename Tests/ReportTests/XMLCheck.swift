import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif

/// Reads an SVG document with Foundation's XML parser: whether it is well-formed, and the elements it holds.
final class XMLCheck: NSObject, XMLParserDelegate {
    private(set) var elements: [(name: String, attributes: [String: String])] = []
    private(set) var error: String?

    static func read(_ text: String) -> XMLCheck {
        let check = XMLCheck()
        let parser = XMLParser(data: Data(text.utf8))
        parser.delegate = check
        if !parser.parse() { check.error = check.error ?? parser.parserError.map { "\($0)" } ?? "not well-formed" }
        return check
    }

    var isWellFormed: Bool { error == nil }

    /// The elements named `name` whose `class` attribute is `className` (any class when nil).
    func elements(_ name: String, className: String? = nil) -> [[String: String]] {
        elements.filter { $0.name == name && (className == nil || $0.attributes["class"] == className) }.map(\.attributes)
    }

    func parser(_ parser: XMLParser, didStartElement elementName: String, namespaceURI: String?, qualifiedName: String?,
                attributes: [String: String] = [:]) {
        elements.append((elementName, attributes))
    }

    func parser(_ parser: XMLParser, parseErrorOccurred parseError: any Error) {
        error = "\(parseError) at line \(parser.lineNumber), column \(parser.columnNumber)"
    }
}
