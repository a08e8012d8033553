extension GraphLayout {
    /// The layout as an SVG document: a box per node (its ID in bold, then its counters), a curve with an
    /// arrowhead per edge, labelled with its count, and the graph's attributes (Kapacitor's throughput) as a caption.
    ///
    /// A node whose `errors` counter is not `0` is outlined in red. Elements carry classes (`node`, `edge`,
    /// `edge-label`) and the node's ID (`data-id`), so tests and style sheets can find them.
    public func svg(title: String = "", caption: String = "", errorNodes: Set<String> = []) -> String {
        let captionHeight = caption.isEmpty ? 0.0 : 22.0
        let totalHeight = height + captionHeight
        var out = "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"pipeline-graph\" width=\"\(SVG.number(width))\""
        out += " height=\"\(SVG.number(totalHeight))\" viewBox=\"0 0 \(SVG.number(width)) \(SVG.number(totalHeight))\""
        out += " font-family=\"monospace\" font-size=\"11\" role=\"img\">\n"
        if !title.isEmpty { out += "<title>\(SVG.escape(title))</title>\n" }
        out += "<defs><marker id=\"arrow\" viewBox=\"0 0 10 10\" refX=\"10\" refY=\"5\" markerWidth=\"7\" markerHeight=\"7\""
        out += " orient=\"auto-start-reverse\"><path d=\"M0,0 L10,5 L0,10 z\" fill=\"#555\"/></marker></defs>\n"
        out += "<rect width=\"100%\" height=\"100%\" fill=\"#ffffff\"/>\n"
        if !caption.isEmpty {
            out += SVG.text(caption, x: Self.margin, y: height + 8, className: "caption") + "\n"
        }
        for route in routes {
            let middle = (route.y1 + route.y2) / 2
            let d = "M\(SVG.number(route.x1)),\(SVG.number(route.y1)) C\(SVG.number(route.x1)),\(SVG.number(middle))"
                + " \(SVG.number(route.x2)),\(SVG.number(middle)) \(SVG.number(route.x2)),\(SVG.number(route.y2))"
            out += "<path class=\"edge\" data-from=\"\(SVG.escape(route.from))\" data-to=\"\(SVG.escape(route.to))\" d=\"\(d)\""
            out += " fill=\"none\" stroke=\"#555\" stroke-width=\"1.2\" marker-end=\"url(#arrow)\">"
            out += "<title>\(SVG.escape(route.from)) → \(SVG.escape(route.to))\(route.label.isEmpty ? "" : ": " + SVG.escape(route.label))</title></path>\n"
            if !route.label.isEmpty {
                // A white backing keeps the count readable where it crosses another edge.
                let x = (route.x1 + route.x2) / 2 + 4, y = middle + 4
                let w = Double(route.label.count) * Self.characterWidth + 4
                out += "<rect class=\"edge-label-back\" x=\"\(SVG.number(x - 2))\" y=\"\(SVG.number(y - 11))\" width=\"\(SVG.number(w))\""
                out += " height=\"14\" fill=\"#ffffff\" fill-opacity=\"0.85\"/>"
                out += SVG.text(route.label, x: x, y: y, className: "edge-label", attributes: "fill=\"#333\"") + "\n"
            }
        }
        for box in boxes {
            let failing = errorNodes.contains(box.id)
            out += "<g class=\"node\" data-id=\"\(SVG.escape(box.id))\">"
            out += "<rect x=\"\(SVG.number(box.x))\" y=\"\(SVG.number(box.y))\" width=\"\(SVG.number(box.width))\""
            out += " height=\"\(SVG.number(box.height))\" rx=\"5\" fill=\"\(box.layer == 0 ? "#e8f0fb" : "#f7f7f7")\""
            out += " stroke=\"\(failing ? "#d62728" : "#7a7a7a")\" stroke-width=\"\(failing ? 2 : 1)\"/>\n"
            out += SVG.text(box.id, x: box.x + Self.padding, y: box.y + Self.titleHeight - 4, className: "node-title",
                            attributes: "font-weight=\"bold\"") + "\n"
            for (k, line) in box.lines.enumerated() {
                let y = box.y + Self.titleHeight + Double(k + 1) * Self.lineHeight - 3
                out += SVG.text(line, x: box.x + Self.padding, y: y, className: "node-counter", attributes: "fill=\"#333\"") + "\n"
            }
            out += "</g>\n"
        }
        out += "</svg>\n"
        return out
    }
}

extension DOTGraph {
    /// The graph as an SVG picture (``GraphLayout``): the graph's attributes as the caption, nodes with a
    /// non-zero `errors` counter outlined in red.
    public func svg() -> String {
        let caption = graphAttributes.map { "\($0.key): \($0.value)" }.joined(separator: ", ")
        let failing = Set(nodes.filter { ($0["errors"].flatMap { Int($0) } ?? 0) != 0 }.map(\.id))
        return GraphLayout(self).svg(title: name.isEmpty ? "pipeline" : name, caption: caption, errorNodes: failing)
    }
}
