/// A self-contained HTML page: headings, paragraphs, tables and inline SVG pictures, with its style sheet in
/// the page and no script. Its Content-Security-Policy forbids every external resource and every script, so
/// a browser that opens it fetches nothing and runs nothing.
public struct HTMLPage: Sendable, Hashable {
    /// One block of the page, in order.
    public enum Block: Sendable, Hashable {
        case heading(String)
        case paragraph(String)
        /// A list of lines, each escaped.
        case list([String])
        /// A table: the header row, then the rows; each cell escaped. `className` is set on the table.
        case table(header: [String], rows: [[String]], className: String)
        /// An SVG document made by this module (``TimeSeriesChart/svg(title:)``, ``GraphLayout/svg(title:caption:errorNodes:)``),
        /// written into the page as it is, inside a `<figure>` with `caption`.
        case picture(svg: String, caption: String)
    }

    public var title: String
    public var blocks: [Block]

    public init(title: String, blocks: [Block] = []) {
        self.title = title
        self.blocks = blocks
    }

    static let style = """
        body { font-family: sans-serif; margin: 24px auto; max-width: 1000px; color: #222; }
        h1 { font-size: 22px; } h2 { font-size: 17px; margin-top: 28px; }
        table { border-collapse: collapse; font-size: 13px; }
        th, td { border-bottom: 1px solid #ddd; padding: 3px 10px; text-align: left; }
        figure { margin: 12px 0; } figcaption { font-size: 12px; color: #555; }
        svg { max-width: 100%; height: auto; }
        """

    /// The page as HTML5 text.
    public func render() -> String {
        var out = "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
        out += "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'\">\n"
        out += "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
        out += "<title>\(SVG.escape(title))</title>\n<style>\n\(Self.style)\n</style>\n</head>\n<body>\n"
        out += "<h1>\(SVG.escape(title))</h1>\n"
        for block in blocks {
            switch block {
            case .heading(let text):
                out += "<h2>\(SVG.escape(text))</h2>\n"
            case .paragraph(let text):
                out += "<p>\(SVG.escape(text))</p>\n"
            case .list(let items):
                out += "<ul>\n" + items.map { "<li>\(SVG.escape($0))</li>\n" }.joined() + "</ul>\n"
            case .table(let header, let rows, let className):
                out += "<table class=\"\(SVG.escape(className))\">\n<thead><tr>"
                out += header.map { "<th>\(SVG.escape($0))</th>" }.joined() + "</tr></thead>\n<tbody>\n"
                for row in rows { out += "<tr>" + row.map { "<td>\(SVG.escape($0))</td>" }.joined() + "</tr>\n" }
                out += "</tbody>\n</table>\n"
            case .picture(let svg, let caption):
                out += "<figure>\n\(svg)"
                if !caption.isEmpty { out += "<figcaption>\(SVG.escape(caption))</figcaption>\n" }
                out += "</figure>\n"
            }
        }
        out += "</body>\n</html>\n"
        return out
    }
}
