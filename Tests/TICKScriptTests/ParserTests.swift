import Testing
@testable import TICKScript

private func parse(_ source: String) throws -> Program { try Program.parse(source) }
private let zero = SourcePosition(line: 0, column: 0)
private func e(_ kind: Expression.Kind) -> Expression { Expression(kind, at: zero) }
private func id(_ name: String) -> Expression { e(.identifier(name)) }
private func str(_ s: String) -> Expression { e(.string(s, tripleQuoted: false)) }
private func ref(_ s: String) -> Expression { e(.reference(s)) }
private func link(_ left: Expression, _ op: ChainOperator, _ name: String, _ args: Expression...) -> Expression {
    e(.chain(left: left, op: op, name: name, arguments: args))
}
private func lambdaBody(_ source: String) throws -> Expression { try Program.parseLambda(source).normalized }

@Suite("Parsing TICKscript into the AST")
struct ParserTests {
    @Test("The printer demo task parses into chains, a dbrp and variables")
    func printerDemo() throws {
        let program = try parse("""
            dbrp "printer"."autogen"
            var alpha = 0.001
            var data = stream
                |from()
                    .measurement('temperatures')
                |window()
                    .period(5m)
                    .every(5m)
            data
                @tTest()
                    .field('hotend')
                    .size(3600)
                    .alpha(alpha)
                |alert()
                    .id('hotend')
                    .crit(lambda: "pvalue" < alpha)
                    .log('/tmp/hotend_failure.log')
            """)
        #expect(program.statements.count == 4)
        let normalized = program.normalized.statements
        #expect(normalized[0].kind == .dbrp(database: "printer", retentionPolicy: "autogen"))
        #expect(normalized[1].kind == .variable(name: "alpha", value: e(.float(0.001))))
        let minutes5 = e(.duration(nanoseconds: 300_000_000_000, literal: ""))
        let window = link(
            link(link(link(link(id("stream"), .pipe, "from"), .dot, "measurement", str("temperatures")), .pipe, "window"),
                 .dot, "period", minutes5), .dot, "every", minutes5)
        #expect(normalized[2].kind == .variable(name: "data", value: window))
        let udf = link(link(link(link(id("data"), .at, "tTest"), .dot, "field", str("hotend")), .dot, "size", e(.int(3600))),
                       .dot, "alpha", id("alpha"))
        let alert = link(link(link(link(udf, .pipe, "alert"), .dot, "id", str("hotend")), .dot, "crit",
                              e(.lambda(e(.binary(.less, ref("pvalue"), id("alpha")))))),
                         .dot, "log", str("/tmp/hotend_failure.log"))
        #expect(normalized[3].kind == .expression(alert))
    }

    @Test("Positions are 1-based line:column of each construct's first token")
    func positions() throws {
        let program = try parse("var x = 5\nstream\n    |window()\n        .period(10s)")
        #expect(program.statements[0].position.description == "1:1")
        #expect(program.statements[0].namePosition.description == "1:5")
        guard case .expression(let period) = program.statements[1].kind,
              case .chain(let window, .dot, "period", let args) = period.kind else {
            Issue.record("not a chain"); return
        }
        #expect(period.position.description == "4:9")
        #expect(window.position.description == "3:5")
        #expect(args[0].position.description == "4:17")
    }

    @Test("Lambda operators bind as in Kapacitor: * over +, comparison over AND, AND over OR")
    func precedence() throws {
        let a = ref("a"), b = ref("b"), c = ref("c")
        #expect(try lambdaBody("\"a\" + \"b\" * \"c\"") == e(.binary(.add, a, e(.binary(.multiply, b, c)))))
        #expect(try lambdaBody("\"a\" - \"b\" - \"c\"") == e(.binary(.subtract, e(.binary(.subtract, a, b)), c)))
        #expect(try lambdaBody("\"a\" > 1 AND \"b\" < 2 OR \"c\" == 3") == e(.binary(.or,
            e(.binary(.and, e(.binary(.greater, a, e(.int(1)))), e(.binary(.less, b, e(.int(2)))))),
            e(.binary(.equal, c, e(.int(3)))))))
        #expect(try lambdaBody("-\"a\" * 2") == e(.binary(.multiply, e(.unary(.negate, a)), e(.int(2)))))
        #expect(try lambdaBody("!(\"a\" OR \"b\")") == e(.unary(.not, e(.binary(.or, a, b)))))
        #expect(try lambdaBody("\"host\" =~ /^web\\/[0-9]+$/ AND sigma(\"v\") > 3.5")
            == e(.binary(.and, e(.binary(.regexMatch, ref("host"), e(.regex("^web\\/[0-9]+$")))),
                         e(.binary(.greater, e(.call(function: "sigma", arguments: [ref("v")])), e(.float(3.5)))))))
    }

    @Test("Literals: strings with escapes, triple quotes, ints vs floats, durations, star, lists")
    func literals() throws {
        let program = try parse("""
            var s = 'it\\'s'
            var t = '''multi
            'line'''
            var i = 10
            var f = 10.0
            var o = 0600
            var d = 1500ms
            var u = 3µ
            var w = 2w
            var l = ['a', s, *]
            var b = TRUE
            """).normalized
        let values = program.statements.map { statement -> Expression? in
            if case .variable(_, let value) = statement.kind { return value } else { return nil }
        }
        #expect(values[0] == str("it's"))
        #expect(values[1] == e(.string("multi\n'line", tripleQuoted: true)))
        #expect(values[2] == e(.int(10)))
        #expect(values[3] == e(.float(10)))
        #expect(values[4] == e(.int(0o600)))
        #expect(values[5] == e(.duration(nanoseconds: 1_500_000_000, literal: "")))
        #expect(values[6] == e(.duration(nanoseconds: 3_000, literal: "")))
        #expect(values[7] == e(.duration(nanoseconds: 2 * 7 * 86_400 * 1_000_000_000, literal: "")))
        #expect(values[8] == e(.list([str("a"), id("s"), e(.star)])))
        #expect(values[9] == e(.bool(true)))
    }

    @Test("Template declarations and comments attach to statements and chain links")
    func declarationsAndComments() throws {
        let program = try parse("""
            // threshold for the alert
            var crit float
            // the source
            stream
                // pick the measurement
                |from()
            // trailing
            """)
        #expect(program.statements[0].kind == .declaration(name: "crit", type: .float))
        #expect(program.statements[0].comments.map(\.text) == ["threshold for the alert"])
        #expect(program.statements[1].comments.map(\.text) == ["the source"])
        guard case .expression(let from) = program.statements[1].kind else { Issue.record("no chain"); return }
        #expect(from.comments.map(\.text) == ["pick the measurement"])
        #expect(program.trailingComments.map(\.text) == ["trailing"])
    }
}
