/// A directed graph read from Graphviz DOT: the subset `kapacitor show` (and Tock's API) writes, a `digraph` of
/// node statements with attributes (a node's counters) and edge statements with attributes (an edge's
/// `processed` count), plus graph attributes (Kapacitor's `throughput`).
///
/// Also read: quoted IDs with `\"` escapes, edge chains (`a -> b -> c`), `graph`/`node`/`edge` default
/// statements (graph attributes kept, the others skipped), `ID = ID` graph attributes, `,` or `;` between
/// attributes, and `//`, `#` and `/* */` comments. Subgraphs are not.
public struct DOTGraph: Sendable, Hashable {
    /// A node with its attributes in the order written.
    public struct Node: Sendable, Hashable {
        public var id: String
        public var attributes: [Attribute]

        public init(id: String, attributes: [Attribute] = []) {
            self.id = id
            self.attributes = attributes
        }

        /// The value of attribute `key`, if given.
        public subscript(key: String) -> String? { attributes.last { $0.key == key }?.value }
    }

    public struct Edge: Sendable, Hashable {
        public var from: String
        public var to: String
        public var attributes: [Attribute]

        public init(from: String, to: String, attributes: [Attribute] = []) {
            self.from = from
            self.to = to
            self.attributes = attributes
        }

        public subscript(key: String) -> String? { attributes.last { $0.key == key }?.value }
    }

    public struct Attribute: Sendable, Hashable {
        public var key: String
        public var value: String

        public init(_ key: String, _ value: String) {
            self.key = key
            self.value = value
        }
    }

    /// What a DOT text could not be read as, with where.
    public struct ParseError: Error, Sendable, Hashable, CustomStringConvertible {
        public var message: String
        /// 1-based line and column of the token that was not expected.
        public var line: Int
        public var column: Int

        public var description: String { "\(line):\(column): \(message)" }
    }

    /// The graph's name (`digraph NAME {`), empty when it has none.
    public var name: String
    public var graphAttributes: [Attribute]
    /// Every node, in the order first named (by a node statement or an edge).
    public var nodes: [Node]
    public var edges: [Edge]

    public init(name: String = "", graphAttributes: [Attribute] = [], nodes: [Node] = [], edges: [Edge] = []) {
        self.name = name
        self.graphAttributes = graphAttributes
        self.nodes = nodes
        self.edges = edges
    }

    /// Reads `text` as a `digraph` (`strict digraph` too).
    public init(parsing text: String) throws(ParseError) {
        var parser = DOTParser(tokens: try DOTLexer.tokens(text))
        self = try parser.parseGraph()
    }
}

// MARK: - Lexer

struct DOTToken: Hashable {
    enum Kind: Hashable { case id, quoted, symbol, end }
    var kind: Kind
    var text: String
    var line: Int
    var column: Int
}

enum DOTLexer {
    static func tokens(_ text: String) throws(DOTGraph.ParseError) -> [DOTToken] {
        let chars = Array(text.unicodeScalars)
        var tokens: [DOTToken] = []
        var i = 0, line = 1, lineStart = 0
        func isIDChar(_ c: Unicode.Scalar) -> Bool {
            c == "_" || c == "." || c == "-" || c.properties.isAlphabetic || ("0"..."9").contains(c) || c.value >= 0x80
        }
        while i < chars.count {
            let c = chars[i]
            let column = i - lineStart + 1
            if c == "\n" {
                line += 1
                i += 1
                lineStart = i
                continue
            }
            if c == " " || c == "\t" || c == "\r" {
                i += 1
                continue
            }
            // Comments: `//` and `#` to the end of the line, `/* … */`.
            if c == "#" || (c == "/" && i + 1 < chars.count && chars[i + 1] == "/") {
                while i < chars.count && chars[i] != "\n" { i += 1 }
                continue
            }
            if c == "/" && i + 1 < chars.count && chars[i + 1] == "*" {
                i += 2
                while i < chars.count && !(chars[i] == "*" && i + 1 < chars.count && chars[i + 1] == "/") {
                    if chars[i] == "\n" {
                        line += 1
                        lineStart = i + 1
                    }
                    i += 1
                }
                i += 2
                continue
            }
            if c == "-" && i + 1 < chars.count && chars[i + 1] == ">" {
                tokens.append(DOTToken(kind: .symbol, text: "->", line: line, column: column))
                i += 2
                continue
            }
            if "{}[];=,".unicodeScalars.contains(c) {
                tokens.append(DOTToken(kind: .symbol, text: String(c), line: line, column: column))
                i += 1
                continue
            }
            if c == "\"" {
                let startLine = line
                var value = String.UnicodeScalarView()
                i += 1
                var closed = false
                while i < chars.count {
                    let d = chars[i]
                    if d == "\"" {
                        closed = true
                        i += 1
                        break
                    }
                    if d == "\\" && i + 1 < chars.count && (chars[i + 1] == "\"" || chars[i + 1] == "\\") {
                        value.append(chars[i + 1])
                        i += 2
                        continue
                    }
                    if d == "\n" {
                        line += 1
                        lineStart = i + 1
                    }
                    value.append(d)
                    i += 1
                }
                guard closed else { throw DOTGraph.ParseError(message: "unterminated string", line: startLine, column: column) }
                tokens.append(DOTToken(kind: .quoted, text: String(value), line: startLine, column: column))
                continue
            }
            if isIDChar(c) {
                var value = String.UnicodeScalarView()
                // A `-` starts an ID only as a number's sign; inside one it is part of it (never `->`).
                while i < chars.count, isIDChar(chars[i]), !(chars[i] == "-" && i + 1 < chars.count && chars[i + 1] == ">") {
                    value.append(chars[i])
                    i += 1
                }
                tokens.append(DOTToken(kind: .id, text: String(value), line: line, column: column))
                continue
            }
            throw DOTGraph.ParseError(message: "unexpected character '\(c)'", line: line, column: column)
        }
        tokens.append(DOTToken(kind: .end, text: "", line: line, column: i - lineStart + 1))
        return tokens
    }
}

// MARK: - Parser

struct DOTParser {
    var tokens: [DOTToken]
    var position = 0
    var graph = DOTGraph()
    var nodeIndex: [String: Int] = [:]

    init(tokens: [DOTToken]) {
        self.tokens = tokens
    }

    var current: DOTToken { tokens[position] }

    mutating func advance() { if position < tokens.count - 1 { position += 1 } }

    func error(_ message: String) -> DOTGraph.ParseError {
        DOTGraph.ParseError(message: message + (current.kind == .end ? " at the end" : ", found '\(current.text)'"),
                            line: current.line, column: current.column)
    }

    func isSymbol(_ s: String) -> Bool { current.kind == .symbol && current.text == s }

    func isKeyword(_ word: String) -> Bool { current.kind == .id && current.text.lowercased() == word }

    mutating func expect(_ symbol: String) throws(DOTGraph.ParseError) {
        guard isSymbol(symbol) else { throw error("expected '\(symbol)'") }
        advance()
    }

    mutating func identifier() throws(DOTGraph.ParseError) -> String {
        guard current.kind == .id || current.kind == .quoted else { throw error("expected an ID") }
        defer { advance() }
        return current.text
    }

    mutating func parseGraph() throws(DOTGraph.ParseError) -> DOTGraph {
        if isKeyword("strict") { advance() }
        guard isKeyword("digraph") else { throw error("expected 'digraph'") }
        advance()
        if current.kind == .id || current.kind == .quoted { graph.name = try identifier() }
        try expect("{")
        while !isSymbol("}") {
            guard current.kind != .end else { throw error("expected '}'") }
            try statement()
            if isSymbol(";") || isSymbol(",") { advance() }
        }
        advance()
        guard current.kind == .end else { throw error("expected the end of the graph") }
        return graph
    }

    mutating func statement() throws(DOTGraph.ParseError) {
        if isKeyword("subgraph") || isSymbol("{") { throw error("subgraphs are not supported") }
        if isKeyword("graph") || isKeyword("node") || isKeyword("edge") {
            let keyword = current.text.lowercased()
            advance()
            let attributes = try attributeLists()
            if keyword == "graph" { graph.graphAttributes += attributes }
            return
        }
        let first = try identifier()
        if isSymbol("=") {
            advance()
            graph.graphAttributes.append(.init(first, try identifier()))
            return
        }
        var chain = [first]
        while isSymbol("->") {
            advance()
            chain.append(try identifier())
        }
        let attributes = try attributeLists()
        if chain.count == 1 {
            let index = node(first)
            graph.nodes[index].attributes += attributes
        } else {
            for name in chain { _ = node(name) }
            for (from, to) in zip(chain, chain.dropFirst()) {
                graph.edges.append(DOTGraph.Edge(from: from, to: to, attributes: attributes))
            }
        }
    }

    /// Zero or more `[a=b, c=d]` lists.
    mutating func attributeLists() throws(DOTGraph.ParseError) -> [DOTGraph.Attribute] {
        var attributes: [DOTGraph.Attribute] = []
        while isSymbol("[") {
            advance()
            while !isSymbol("]") {
                let key = try identifier()
                try expect("=")
                attributes.append(.init(key, try identifier()))
                if isSymbol(",") || isSymbol(";") { advance() }
            }
            advance()
        }
        return attributes
    }

    /// The index of node `name`, added when first named.
    mutating func node(_ name: String) -> Int {
        if let index = nodeIndex[name] { return index }
        graph.nodes.append(DOTGraph.Node(id: name))
        nodeIndex[name] = graph.nodes.count - 1
        return graph.nodes.count - 1
    }
}
