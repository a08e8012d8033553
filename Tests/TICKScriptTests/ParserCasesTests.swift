import Testing
@testable import TICKScript

private let zero = SourcePosition(line: 0, column: 0)
private func e(_ kind: Expression.Kind) -> Expression { Expression(kind, at: zero) }
private func str(_ s: String) -> Expression { e(.string(s, tripleQuoted: false)) }
private func ref(_ s: String) -> Expression { e(.reference(s)) }

private func value(_ source: String) throws -> Expression? {
    guard case .variable(_, let value) = try Program.parse(source, check: false).normalized.statements[0].kind else { return nil }
    return value
}

private func lambda(_ source: String) throws -> Expression { try Program.parseLambda(source).normalized }

@Suite("Parser cases from Kapacitor's parser tests")
struct ParserCasesTests {
    @Test("Escapes, octal integers, unary minus, operators outside lambdas")
    func kapacitorCases() throws {
        #expect(try value(#"var x = '''\'asdf'''"#) == e(.string(#"\'asdf"#, tripleQuoted: true)))
        #expect(try value(#"var x = 'a\'sdf'"#) == str("a'sdf"))
        #expect(try value("var x = 0644") == e(.int(420)))
        #expect(try value("var x = -0600") == e(.unary(.negate, e(.int(384)))))
        #expect(try value("var x = -1.0") == e(.unary(.negate, e(.float(1)))))
        #expect(try value("var x = !FALSE") == e(.unary(.not, e(.bool(false)))))
        #expect(try value("var x = 5 + 5") == e(.binary(.add, e(.int(5)), e(.int(5)))))
        let fiveMinutes = e(.duration(nanoseconds: 300_000_000_000, literal: ""))
        #expect(try value("var x = f('first ' + string(5m) + 'third')") == e(.call(function: "f", arguments: [
            e(.binary(.add, e(.binary(.add, str("first "), e(.call(function: "string", arguments: [fiveMinutes])))),
                      str("third"))),
        ])))
    }

    @Test("* and / are operators after a value, a star or a regex elsewhere")
    func contextualTokens() throws {
        #expect(try lambda(#""a" * 2 / "b""#) == e(.binary(.divide, e(.binary(.multiply, ref("a"), e(.int(2)))), ref("b"))))
        #expect(try lambda(#"("a") / 2"#) == e(.binary(.divide, ref("a"), e(.int(2)))))
        #expect(try lambda(#""a" =~ /x\/y/"#) == e(.binary(.regexMatch, ref("a"), e(.regex(#"x\/y"#)))))
        let program = try Program.parse("stream\n    |groupBy(*)\n    |eval(lambda: 2 * 3)", check: false).normalized
        let groupBy = e(.chain(left: e(.identifier("stream")), op: .pipe, name: "groupBy", arguments: [e(.star)]))
        let eval = e(.chain(left: groupBy, op: .pipe, name: "eval",
                            arguments: [e(.lambda(e(.binary(.multiply, e(.int(2)), e(.int(3))))))]))
        #expect(program.statements[0].kind == .expression(eval))
    }

    @Test("A statement ends where the next var, dbrp or identifier begins")
    func statementBoundaries() throws {
        let program = try Program.parse("var b = stream|window()var period = 5m\nb\nvar c = 1", check: false)
        #expect(program.statements.count == 4)
        guard case .expression(let b) = program.statements[2].kind else { Issue.record("no b"); return }
        #expect(b.kind == .identifier("b"))
        #expect(b.position.description == "2:1")
    }
}
