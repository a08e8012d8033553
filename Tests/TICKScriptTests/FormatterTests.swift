import Testing
@testable import TICKScript

private func format(_ source: String) throws -> String {
    try Program.parse(source, check: false).formatted()
}

/// Golden cases: Kapacitor's own `tick/fmt_test.go` (the expected text is tickfmt's output, byte for byte),
/// then realistic scripts.
@Suite("Formatting like tickfmt")
struct FormatterTests {
    @Test("Numbers and durations keep their spelling; spacing around = is normalised", arguments: [
        ("var x = 1", "var x = 1\n"),
        ("var x=1", "var x = 1\n"),
        ("var x=1.0", "var x = 1.0\n"),
        ("var x=01", "var x = 01\n"),
        ("var x=0600", "var x = 0600\n"),
        ("var x=1m", "var x = 1m\n"),
        ("var x=60s", "var x = 60s\n"),
        ("var x = 1.50", "var x = 1.5\n"),
        ("var x = 0.0000001", "var x = 0.0000001\n"),
        ("var x = 100000000000000000000000.0", "var x = 100000000000000000000000.0\n"),
        ("var x = -5m", "var x = -5m\n"),
        ("var x = 'it\\'s'", "var x = 'it\\'s'\n"),
        ("var x = '''a 'quoted'\nline'''", "var x = '''a 'quoted'\nline'''\n"),
        ("var x = [ 'a','b' ,  * ]", "var x = ['a', 'b', *]\n"),
        ("var x   float", "var x float\n"),
        ("dbrp  \"telegraf\" . \"autogen\"", "dbrp \"telegraf\".\"autogen\"\n"),
    ])
    func literals(source: String, expected: String) throws {
        #expect(try format(source) == expected)
    }

    @Test("A chain puts each link on its own line: nodes one step in, properties two")
    func chain() throws {
        #expect(try format("var x=stream()|window().period(10s).every(10s)") == """
            var x = stream()
                |window()
                    .period(10s)
                    .every(10s)

            """)
    }

    @Test("Comments above links move with them and are trimmed")
    func linkComments() throws {
        let source = "var x = stream()\n//Window data  \n|window()\n// Period / Every 10s\n.period(10s).every(10s)"
        #expect(try format(source) == """
            var x = stream()
                // Window data
                |window()
                    // Period / Every 10s
                    .period(10s)
                    .every(10s)

            """)
    }

    @Test("Arguments written over several lines stay one per line, trailing comma dropped")
    func multiLineArguments() throws {
        let source = """
            var x = stream()
            @udf()
                .option(
                    // Param 1
                    1,
                    // Param 2
                    2,
                    // Param 3
                    3,
                    // Param 4
                    4,
                            )
            """
        #expect(try format(source) == """
            var x = stream()
                @udf()
                    .option(
                        // Param 1
                        1,
                        // Param 2
                        2,
                        // Param 3
                        3,
                        // Param 4
                        4
                    )

            """)
    }

    @Test("A call whose arguments span lines ahead of the last one's start is printed one argument per line, and stays so",
          arguments: ["stream|f(stream|g()\n)", "stream|f(stream|g(), 1)", "stream|f(1, stream|g())", "stream|f(// c\n1)",
                      "stream|f(lambda: \"a\" > 1 AND\n\"b\" < 2, 3)"])
    func argumentsThatSpanLines(source: String) throws {
        let once = try format(source)
        let twice = try format(once)
        #expect(twice == once, "formatted again:\n\(twice)\nfirst:\n\(once)")
        let original = try Program.parse(source, check: false).normalized
        #expect(try Program.parse(once, check: false).normalized == original)
    }

    @Test("Parentheses survive only around binary expressions")
    func parentheses() throws {
        #expect(try format(#"global(lambda: ("a" + (1)) / (( 4 +"b") * ("c")))"#)
            == "global(lambda: (\"a\" + 1) / ((4 + \"b\") * \"c\"))\n")
        #expect(try format("global(lambda: (1 + 2 - 3 * 4 / 5) < (sin(6)) AND (TRUE OR FALSE))")
            == "global(lambda: (1 + 2 - 3 * 4 / 5) < sin(6) AND (TRUE OR FALSE))\n")
    }

    @Test("A lambda broken over lines breaks after each operator whose operand was on a new line")
    func multiLineLambda() throws {
        let source = "global(lambda: \n(1 + 2 - 3 * 4 / 5) \n< \n(sin(6))\nAND \n(TRUE\nOR (FALSE \nAND TRUE)))"
        #expect(try format(source) == """
            global(lambda: (1 + 2 - 3 * 4 / 5) <
                sin(6) AND
                (TRUE OR
                    (FALSE AND
                        TRUE)))

            """)
    }

    @Test("Comments inside a lambda stay above the operand they precede")
    func lambdaComments() throws {
        let source = "global(lambda: \n// If this\n// is less than that\n(1 + 2 - 3 * 4 / 5) \n< (sin(6))\nAND \n"
            + "// more comments.\n(TRUE OR FALSE), 'arg',)"
        #expect(try format(source) == "global(\n    lambda: \n    // If this\n    // is less than that\n"
            + "    (1 + 2 - 3 * 4 / 5) <\n    sin(6) AND\n    // more comments.\n    (TRUE OR FALSE),\n    'arg'\n)\n")
    }

    @Test("Comment blocks keep their blank lines; the text after // gets one space")
    func commentBlocks() throws {
        let source = "// Preserve comments spacing\n\n// Comment block 1\n// still 1\n\n// Comment block 2\n// still 2\n\n"
            + "// Preserve per line spacing\n//     indented\n//fix this line\n//\n\n\nvar x = stream\n\t|from()\n"
            + "\t\t//.measurement('mem')\n\t\t.measurement('cpu')\n\n// This should be its own comment block\nx |alert()\n\t\n\n"
        #expect(try format(source) == """
            // Preserve comments spacing

            // Comment block 1
            // still 1

            // Comment block 2
            // still 2

            // Preserve per line spacing
            //     indented
            // fix this line
            //
            var x = stream
                |from()
                    // .measurement('mem')
                    .measurement('cpu')

            // This should be its own comment block
            x
                |alert()

            """)
    }

    @Test("Comments everywhere, including after the last statement")
    func commentEverything() throws {
        let source = "// Comment all the things\nvar \nx = \nstream()\n// 1\n|\nudf()\n// 2\n    .option(\n"
            + "        // 3\n        1,\n        // 4\n        2.0,\n        // 5\n        3h,\n        // 6\n"
            + "        'a',\n    )\n// 7\n|\neval(\n// 8\nlambda:\na * b + c\n,\n)\n// 9\n|\ngroupBy(\n//10 \n*\n)\n// 11\n"
        #expect(try format(source) == """
            // Comment all the things
            var x = stream()
                // 1
                |udf()
                    // 2
                    .option(
                        // 3
                        1,
                        // 4
                        2.0,
                        // 5
                        3h,
                        // 6
                        'a'
                    )
                // 7
                |eval(
                    // 8
                    lambda: a * b + c
                )
                // 9
                |groupBy(
                    // 10
                    *
                )

            // 11


            """)
    }

    @Test("Kapacitor's top-scores example")
    func topScores() throws {
        #expect(try format(Corpus.topScoresMessy) == Corpus.topScoresFormatted)
    }

    @Test("The printer demo task comes out in canonical layout")
    func printerDemo() throws {
        #expect(try format(Corpus.printerDemoMessy) == Corpus.printerDemo)
    }

    @Test("Canonical scripts are fixed points of the formatter", arguments: Corpus.canonical)
    func fixedPoint(script: String) throws {
        #expect(try format(script) == script)
    }
}
