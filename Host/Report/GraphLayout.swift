/// A layered drawing of a directed graph: nodes in rows by depth (the longest path from a source), ordered in
/// each row to keep edges from crossing, edges as curves from a parent's bottom to a child's top. Small pipelines
/// (a few dozen nodes) need nothing cleverer; this is the first phase of Sugiyama's method without the dummy nodes
/// of long edges.
public struct GraphLayout: Sendable, Hashable {
    /// A placed node: its box, its title and the lines under it.
    public struct Box: Sendable, Hashable {
        public var id: String
        /// The row (0 for the sources).
        public var layer: Int
        /// Top-left corner and size, in pixels.
        public var x: Double
        public var y: Double
        public var width: Double
        public var height: Double
        /// What the box says under its title (`errors: 0`), one entry a line.
        public var lines: [String]
    }

    /// A placed edge: a cubic curve from (`x1`, `y1`) on the parent to (`x2`, `y2`) on the child.
    public struct Route: Sendable, Hashable {
        public var from: String
        public var to: String
        public var x1: Double
        public var y1: Double
        public var x2: Double
        public var y2: Double
        /// The label drawn at the curve's middle (the edge's `processed` count), empty for none.
        public var label: String
    }

    public var boxes: [Box]
    public var routes: [Route]
    public var width: Double
    public var height: Double

    // Sizes: a monospace font of 11 px is about 6.6 px a character.
    static let characterWidth = 6.6, lineHeight = 14.0, padding = 8.0, titleHeight = 18.0
    static let columnGap = 28.0, rowGap = 56.0, margin = 16.0

    /// Lays out `graph`: every node gets a box and every edge a route (an edge to an unknown node is not possible:
    /// ``DOTGraph`` names every node an edge mentions).
    public init(_ graph: DOTGraph) {
        let ids = graph.nodes.map(\.id)
        var index: [String: Int] = [:]
        for (i, id) in ids.enumerated() where index[id] == nil { index[id] = i }
        let n = ids.count
        var parents = [[Int]](repeating: [], count: n), children = [[Int]](repeating: [], count: n)
        for edge in graph.edges {
            guard let a = index[edge.from], let b = index[edge.to] else { continue }
            children[a].append(b)
            parents[b].append(a)
        }
        let layers = Self.layers(parents: parents, children: children)
        let rows = Self.orderedRows(layers: layers, parents: parents, children: children)

        // Box sizes from their text.
        var lines = [[String]](repeating: [], count: n), sizes = [(Double, Double)](repeating: (0, 0), count: n)
        for (i, node) in graph.nodes.enumerated() {
            lines[i] = node.attributes.map { "\($0.key): \($0.value)" }
            let longest = max(node.id.count, lines[i].map(\.count).max() ?? 0)
            sizes[i] = (Double(longest) * Self.characterWidth + 2 * Self.padding,
                        Self.titleHeight + Double(lines[i].count) * Self.lineHeight + Self.padding)
        }
        // Rows centred on the widest one.
        let rowWidths = rows.map { row in row.map { sizes[$0].0 }.reduce(0, +) + Double(max(0, row.count - 1)) * Self.columnGap }
        let contentWidth = rowWidths.max() ?? 0
        var boxes = [Box?](repeating: nil, count: n)
        var y = Self.margin
        for (layer, row) in rows.enumerated() {
            var x = Self.margin + (contentWidth - rowWidths[layer]) / 2
            let rowHeight = row.map { sizes[$0].1 }.max() ?? 0
            for i in row {
                boxes[i] = Box(id: ids[i], layer: layer, x: x, y: y, width: sizes[i].0, height: sizes[i].1, lines: lines[i])
                x += sizes[i].0 + Self.columnGap
            }
            y += rowHeight + Self.rowGap
        }
        let placed = boxes.map { $0! }

        // Each edge leaves its parent's bottom and enters its child's top at a port spread along the side, in the
        // order of the other ends' positions, so that edges of one node do not start at one point.
        var routes: [Route] = []
        var outPorts: [Int: [Int]] = [:], inPorts: [Int: [Int]] = [:]
        for (e, edge) in graph.edges.enumerated() {
            guard let a = index[edge.from], let b = index[edge.to] else { continue }
            outPorts[a, default: []].append(e)
            inPorts[b, default: []].append(e)
        }
        func port(_ box: Box, _ edge: Int, among edges: [Int], other: (Int) -> Box) -> Double {
            let sorted = edges.sorted { other($0).x < other($1).x }
            let k = Double(sorted.firstIndex(of: edge) ?? 0)
            return box.x + box.width * (k + 1) / Double(sorted.count + 1)
        }
        for (e, edge) in graph.edges.enumerated() {
            guard let a = index[edge.from], let b = index[edge.to] else { continue }
            let from = placed[a], to = placed[b]
            let x1 = port(from, e, among: outPorts[a] ?? [e]) { placed[index[graph.edges[$0].to]!] }
            let x2 = port(to, e, among: inPorts[b] ?? [e]) { placed[index[graph.edges[$0].from]!] }
            let label = edge["processed"] ?? edge.attributes.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
            routes.append(Route(from: edge.from, to: edge.to, x1: x1, y1: from.y + from.height, x2: x2, y2: to.y, label: label))
        }
        self.boxes = placed
        self.routes = routes
        self.width = contentWidth + 2 * Self.margin
        self.height = rows.isEmpty ? 2 * Self.margin : y - Self.rowGap + Self.margin
    }

    /// Each node's row: 0 for a node without parents, else one more than its deepest parent. Edges that close a
    /// cycle (not in a pipeline, but DOT allows them) are ignored for this.
    static func layers(parents: [[Int]], children: [[Int]]) -> [Int] {
        let n = parents.count
        var layer = [Int](repeating: 0, count: n)
        // Kahn's topological order; nodes left over sit on cycles and keep the layer they reached.
        var remaining = parents.map(\.count)
        var queue = (0..<n).filter { remaining[$0] == 0 }
        var done = [Bool](repeating: false, count: n)
        var head = 0
        while true {
            while head < queue.count {
                let i = queue[head]
                head += 1
                done[i] = true
                for c in children[i] {
                    layer[c] = max(layer[c], layer[i] + 1)
                    remaining[c] -= 1
                    if remaining[c] == 0 { queue.append(c) }
                }
            }
            // A cycle: release its first node still waiting, as if the edges closing the cycle were not there.
            guard let next = (0..<n).first(where: { !done[$0] && !queue.contains($0) }) else { break }
            remaining[next] = 0
            queue.append(next)
        }
        return layer
    }

    /// The nodes of each row, ordered first as the graph names them, then by two sweeps of the barycentre
    /// heuristic (down using parents' positions, up using children's).
    static func orderedRows(layers: [Int], parents: [[Int]], children: [[Int]]) -> [[Int]] {
        guard let deepest = layers.max() else { return [] }
        var rows = [[Int]](repeating: [], count: deepest + 1)
        for (i, layer) in layers.enumerated() { rows[layer].append(i) }
        var position = [Double](repeating: 0, count: layers.count)
        func record() {
            for row in rows { for (k, i) in row.enumerated() { position[i] = (Double(k) + 0.5) / Double(row.count) } }
        }
        func sweep(_ order: [Int], neighbours: [[Int]]) {
            for r in order {
                let keyed = rows[r].enumerated().map { k, i -> (Double, Int, Int) in
                    let ns = neighbours[i]
                    let centre = ns.isEmpty ? position[i] : ns.map { position[$0] }.reduce(0, +) / Double(ns.count)
                    return (centre, k, i)
                }
                rows[r] = keyed.sorted { ($0.0, $0.1) < ($1.0, $1.1) }.map(\.2)
                for (k, i) in rows[r].enumerated() { position[i] = (Double(k) + 0.5) / Double(rows[r].count) }
            }
        }
        record()
        for _ in 0..<2 {
            sweep(Array(rows.indices.dropFirst()), neighbours: parents)
            sweep(Array(rows.indices.dropLast().reversed()), neighbours: children)
        }
        return rows
    }
}
