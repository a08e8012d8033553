import Report
import Testing

@Suite struct DOTGraphSpecification {
    /// What Tock's API returns for a running task (Kapacitor's layout): node statements with counters, then edges.
    static let taskDOT = """
        digraph cpu_alert {
        stream0 [avg_exec_time_ns="0s" errors="0" in="0" out="12" ];
        from1 [avg_exec_time_ns="1.2µs" errors="0" in="12" out="12" ];
        alert2 [alerts_inhibited="0" alerts_triggered="2" avg_exec_time_ns="3µs" crits_triggered="1" errors="1" in="12" out="2" ];

        stream0 -> from1 [processed="12"];
        from1 -> alert2 [processed="12"];
        }

        """

    @Test func readsTheTaskGraphTheAPIReturns() throws {
        let graph = try DOTGraph(parsing: Self.taskDOT)
        #expect(graph.name == "cpu_alert")
        #expect(graph.nodes.map(\.id) == ["stream0", "from1", "alert2"])
        #expect(graph.nodes[2]["alerts_triggered"] == "2")
        #expect(graph.nodes[1]["avg_exec_time_ns"] == "1.2µs")
        #expect(graph.nodes[2].attributes.count == 7)
        #expect(graph.edges == [
            .init(from: "stream0", to: "from1", attributes: [.init("processed", "12")]),
            .init(from: "from1", to: "alert2", attributes: [.init("processed", "12")]),
        ])
    }

    @Test func readsWhatKapacitorItselfSends() throws {
        // `kapacitor show` of Kapacitor 1.8: the throughput as a graph attribute, each node's edges after it.
        let graph = try DOTGraph(parsing: """
            digraph cpu_alert {
            graph [throughput="0.00 points/s"];

            stream0 [avg_exec_time_ns="0s" errors="0" working_cardinality="0" ];
            stream0 -> from1 [processed="7"];

            from1 [avg_exec_time_ns="0s" errors="0" working_cardinality="0" ];
            from1 -> alert2 [processed="7"];

            alert2 [alerts_inhibited="0" alerts_triggered="2" avg_exec_time_ns="0s" crits_triggered="2" errors="0" infos_triggered="0" oks_triggered="0" warns_triggered="0" working_cardinality="1" ];
            }
            """)
        #expect(graph.graphAttributes == [.init("throughput", "0.00 points/s")])
        #expect(graph.nodes.map(\.id) == ["stream0", "from1", "alert2"])
        #expect(graph.nodes.map(\.attributes.count) == [3, 3, 9])
        #expect(graph.edges.map { $0["processed"] } == ["7", "7"])
        let svg = graph.svg()
        #expect(svg.contains(">throughput: 0.00 points/s</text>"), "the graph attributes are the caption")
        #expect(XMLCheck.read(svg).elements("g", className: "node").count == 3)
    }

    @Test func readsKapacitorsGraphAttributesChainsQuotesAndComments() throws {
        let graph = try DOTGraph(parsing: """
            strict digraph "my task" { // a comment
              graph [throughput="0.00 points/s"];
              node [shape=box]; rankdir = TB
              /* a block
                 comment */
              "a \\"quoted\\" node" -> b -> c [processed="3", label=x]; # another
              d
            }
            """)
        #expect(graph.name == "my task")
        #expect(graph.graphAttributes == [.init("throughput", "0.00 points/s"), .init("rankdir", "TB")])
        #expect(graph.nodes.map(\.id) == [#"a "quoted" node"#, "b", "c", "d"])
        #expect(graph.edges.map { "\($0.from)>\($0.to)" } == [#"a "quoted" node>b"#, "b>c"])
        #expect(graph.edges.allSatisfy { $0["processed"] == "3" && $0["label"] == "x" })
    }

    @Test func aPipelineWithoutStatsHasEdgesOnly() throws {
        let graph = try DOTGraph(parsing: "digraph t {\nstream0 -> from1;\nfrom1 -> window2;\n}\n")
        #expect(graph.nodes.map(\.id) == ["stream0", "from1", "window2"])
        #expect(graph.edges.count == 2)
    }

    @Test(arguments: [
        ("digraph {", "1:10: expected '}' at the end"),
        ("graph { a -- b }", "1:1: expected 'digraph', found 'graph'"),
        ("digraph g { a -> ; }", "1:18: expected an ID, found ';'"),
        ("digraph g {\n  a [x=\"y ]\n}", "2:8: unterminated string"),
        ("tree g { }", "1:1: expected 'digraph', found 'tree'"),
        ("digraph g { subgraph s { a } }", "1:13: subgraphs are not supported, found 'subgraph'"),
        ("digraph g { a } b", "1:17: expected the end of the graph, found 'b'"),
        ("digraph g { a @ b }", "1:15: unexpected character '@'"),
    ])
    func refusesWhatItCannotReadSayingWhere(text: String, message: String) {
        do {
            _ = try DOTGraph(parsing: text)
            Issue.record("\(text) was read")
        } catch {
            #expect(error.description == message)
        }
    }
}

@Suite struct GraphLayoutSpecification {
    /// The printer task's shape: one stream, a window feeding three UDFs, each feeding an alert.
    static let printer: DOTGraph = {
        var edges = [("stream0", "from1"), ("from1", "window2")]
        for k in 0..<3 {
            edges.append(("window2", "tTest\(3 + 2 * k)"))
            edges.append(("tTest\(3 + 2 * k)", "alert\(4 + 2 * k)"))
        }
        var graph = DOTGraph(name: "print_temps")
        for (a, b) in edges {
            for id in [a, b] where !graph.nodes.contains(where: { $0.id == id }) {
                graph.nodes.append(.init(id: id, attributes: [.init("errors", "0"), .init("in", "1"), .init("out", "1")]))
            }
            graph.edges.append(.init(from: a, to: b, attributes: [.init("processed", "86402")]))
        }
        return graph
    }()

    @Test func everyNodeGetsABoxAndEveryEdgeARoute() {
        let layout = GraphLayout(Self.printer)
        #expect(layout.boxes.map(\.id) == Self.printer.nodes.map(\.id))
        #expect(layout.routes.count == Self.printer.edges.count)
        #expect(layout.routes.map { "\($0.from)>\($0.to)" } == Self.printer.edges.map { "\($0.from)>\($0.to)" })
        #expect(layout.routes.allSatisfy { $0.label == "86402" })
    }

    @Test func rowsAreTheLongestPathFromASource() {
        let layout = GraphLayout(Self.printer)
        let layer = Dictionary(uniqueKeysWithValues: layout.boxes.map { ($0.id, $0.layer) })
        #expect(layer == ["stream0": 0, "from1": 1, "window2": 2, "tTest3": 3, "tTest5": 3, "tTest7": 3,
                          "alert4": 4, "alert6": 4, "alert8": 4])
        // A join: c is below both its parents, a chain a → b → c and a shortcut a → c.
        let join = GraphLayout(DOTGraph(nodes: [.init(id: "a"), .init(id: "b"), .init(id: "c")],
                                        edges: [.init(from: "a", to: "c"), .init(from: "a", to: "b"), .init(from: "b", to: "c")]))
        #expect(join.boxes.map(\.layer) == [0, 1, 2])
    }

    @Test func boxesDoNotOverlapAndEdgesRunFromBottomToTop() {
        let layout = GraphLayout(Self.printer)
        for a in layout.boxes {
            #expect(a.x >= 0 && a.y >= 0 && a.x + a.width <= layout.width && a.y + a.height <= layout.height)
            for b in layout.boxes where a.id != b.id {
                let apart = a.x + a.width <= b.x || b.x + b.width <= a.x || a.y + a.height <= b.y || b.y + b.height <= a.y
                #expect(apart, "\(a.id) and \(b.id) overlap")
            }
        }
        let box = Dictionary(uniqueKeysWithValues: layout.boxes.map { ($0.id, $0) })
        for route in layout.routes {
            let from = box[route.from]!, to = box[route.to]!
            #expect(route.y1 == from.y + from.height && route.y2 == to.y)
            #expect(route.x1 > from.x && route.x1 < from.x + from.width)
            #expect(route.x2 > to.x && route.x2 < to.x + to.width)
        }
        // window2's three edges leave it at three different points, left to right as their children.
        let fanOut = layout.routes.filter { $0.from == "window2" }.sorted { box[$0.to]!.x < box[$1.to]!.x }
        #expect(fanOut.map(\.x1) == fanOut.map(\.x1).sorted() && Set(fanOut.map(\.x1)).count == 3)
    }

    @Test func orderingUncrossesEdges() {
        // a and b in row 0, their children listed crosswise: a → d, b → c; c is named before d.
        let graph = DOTGraph(nodes: [.init(id: "a"), .init(id: "b"), .init(id: "c"), .init(id: "d")],
                             edges: [.init(from: "a", to: "d"), .init(from: "b", to: "c")])
        let box = Dictionary(uniqueKeysWithValues: GraphLayout(graph).boxes.map { ($0.id, $0) })
        #expect((box["a"]!.x < box["b"]!.x) == (box["d"]!.x < box["c"]!.x))
    }

    @Test func aCycleStillGetsEveryNodePlaced() {
        let graph = DOTGraph(nodes: [.init(id: "a"), .init(id: "b"), .init(id: "c")],
                             edges: [.init(from: "a", to: "b"), .init(from: "b", to: "c"), .init(from: "c", to: "b")])
        let layout = GraphLayout(graph)
        #expect(layout.boxes.count == 3 && layout.routes.count == 3)
    }

    @Test func theSVGHasANodeGroupPerNodeAndAPathPerEdgeWithItsCount() throws {
        let graph = try DOTGraph(parsing: DOTGraphSpecification.taskDOT)
        let svg = graph.svg()
        let xml = XMLCheck.read(svg)
        #expect(xml.isWellFormed, "\(xml.error ?? "")")
        #expect(xml.elements("g", className: "node").map { $0["data-id"] } == ["stream0", "from1", "alert2"])
        #expect(xml.elements("path", className: "edge").count == 2)
        #expect(xml.elements("text", className: "edge-label").count == 2)
        #expect(svg.contains(">alerts_triggered: 2</text>"))
        #expect(svg.contains(">avg_exec_time_ns: 1.2µs</text>"))
        // alert2 counted an error: outlined in red; the others are not.
        #expect(svg.components(separatedBy: "stroke=\"#d62728\"").count - 1 == 1)
    }

    @Test func namesAndCountersAreEscaped() throws {
        let graph = DOTGraph(name: "t", nodes: [.init(id: "a<b", attributes: [.init("note", "x & \"y\"")]), .init(id: "c")],
                             edges: [.init(from: "a<b", to: "c", attributes: [.init("processed", "<1>")])])
        let svg = graph.svg()
        #expect(XMLCheck.read(svg).isWellFormed)
        #expect(svg.contains("data-id=\"a&lt;b\""))
        #expect(svg.contains("note: x &amp; &quot;y&quot;"))
        #expect(svg.contains(">&lt;1&gt;</text>"))
    }
}
