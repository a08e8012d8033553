import Testing
@testable import TICKScript

/// Broken scripts, each with the exact error: `line:column: message`.
@Suite("Errors in broken scripts")
struct ErrorTests {
    static let cases: [(script: String, error: String)] = [
        // Lexical errors
        ("stream\n    |from()\n        .measurement('cpu)\n",
         "3:22: unterminated string: no closing ' after the string starting here"),
        ("var q = '''SELECT mean(\"value\")\nFROM cpu\n",
         "1:9: unterminated triple-quoted string: no closing ''' after the string starting here"),
        ("stream\n    |where(lambda: \"host\" =~ /web.*)\n",
         "2:30: unterminated regex: no closing \"/\" on the line of the regex starting here"),
        ("stream\n    |where(lambda: \"host == 'a')\n",
         "2:20: unterminated field reference: no closing '\"' on the line of the reference starting here"),
        ("stream\n    |window()\n        .period(5min)\n",
         "3:17: invalid duration unit \"min\" in \"5min\"; valid units are u, µ, ms, s, m, h, d, w"),
        ("stream\n    |window()\n        .period(1.5s)\n",
         "3:17: invalid duration \"1.5s\": durations must be whole numbers (write it in a smaller unit)"),
        ("var size = 99999999999999999999\n",
         "1:12: integer 99999999999999999999 overflows a 64-bit signed integer (max 9223372036854775807)"),
        ("var mode = 0698\n",
         "1:12: invalid octal integer \"0698\": a leading 0 makes an integer octal, whose digits are 0-7"),
        ("var x = 1.2.3\n", "1:9: malformed number \"1.2.\": more than one decimal point"),
        ("var x = 5 # five\n", "1:11: unexpected character \"#\"; it is not part of TICKscript"),
        // Syntax errors
        ("stream\n    |from()\n    |window(\n        .period(5m)\n",
         "4:9: expected \")\" to close the call to window() at 3:12, found \".\""),
        ("stream\n    |from(\n", "3:1: expected \")\" to close the call to from() at 2:10, found end of script"),
        ("stream\n    |window()\n        .align\n    |log()\n",
         "4:5: expected \"(\" after \".align\", found \"|\" (write .align() even without arguments)"),
        ("stream\n    |\n    |from()\n", "3:5: expected a node name after \"|\", found \"|\""),
        ("|from()\n", "1:1: expected a statement, found \"|\": a chain must start from stream, batch or a variable"),
        ("var = 5\n", "1:5: expected a variable name after \"var\", found \"=\""),
        ("var x 5\n", "1:7: expected \"=\" or a type after \"var x\", found number 5"),
        ("var crit flaot\n",
         "1:10: unknown type \"flaot\" in the declaration of crit; expected one of string, int, float, duration, lambda, regex, bool, star, list; did you mean \"float\"?"),
        ("var crit float = 5.0\n",
         "1:16: a typed declaration takes no value: write \"var crit = ...\" or \"var crit float\""),
        ("dbrp 'telegraf'.'autogen'\n",
         "1:6: expected a double-quoted database name after dbrp (dbrp \"db\".\"rp\"), found string 'telegraf'"),
        ("dbrp \"telegraf\"\nstream\n",
         "2:1: expected \".\" between the database and the retention policy (dbrp \"db\".\"rp\"), found identifier \"stream\""),
        ("stream\n    |alert()\n        .crit(lambda \"value\" > 10)\n",
         "3:22: expected \":\" right after \"lambda\", found field reference \"value\" (write lambda: expression)"),
        ("stream\n    |alert()\n        .crit(lambda: \"value\" > )\n",
         "3:33: expected an operand after \">\", found \")\""),
        ("stream\n    |alert()\n        .crit(lambda: )\n", "3:23: expected an expression after \"lambda:\", found \")\""),
        ("stream\n    |where(lambda: \"a\" > 1 and \"b\" < 2)\n",
         "2:28: expected \",\" or \")\" to close the call to where() at 2:11, found identifier \"and\" (the logical operators are written AND and OR)"),
        ("stream\n    |where(lambda: \"host\" = 'a')\n",
         "2:27: expected \",\" or \")\" to close the call to where() at 2:11, found \"=\" (compare with ==)"),
        ("stream\n    |where(lambda: (\"a\" > 1, 'x')\n",
         "2:28: expected \")\" to close \"(\" at 2:20, found \",\""),
        ("stream\n    |groupBy(['host' 'dc'])\n",
         "2:22: expected \",\" or \"]\" to close the list at 2:14, found string 'dc'"),
        ("var tags = ['host', 5]\n", "1:21: expected a string, a variable or * in the list at 1:12, found number 5"),
        ("stream\n    |eval(lambda: [\"a\"])\n",
         "2:19: expected a value, found \"[\" (a list cannot be used inside a lambda or an operator expression)"),
        ("stream\n    |window()\n        .period(, 5m)\n", "3:17: expected an argument to period() before \",\", found \",\""),
        // Checks
        ("var data = stream\n    |from()\ndat\n    |window()\n",
         "3:1: undefined variable \"dat\"; did you mean \"data\"?"),
        ("var x = 1\nvar x = 2\n", "2:5: variable \"x\" is already defined at 1:5; variables cannot be redefined"),
        ("var stream = 5\n", "1:5: cannot define a variable named \"stream\": the name is predefined"),
        ("stream\n    |from()\n        .measurement(\"cpu\")\n",
         "3:22: field reference \"cpu\" is only allowed inside a lambda; use a single-quoted string 'cpu' here"),
        ("stream\n    |where(lambda: \"up\" == true)\n",
         "2:28: undefined variable \"true\"; TICKscript writes TRUE in capitals"),
        ("var threshold = 10\nstream\n    |alert()\n        .crit(lambda: \"value\" > treshold)\n",
         "4:33: undefined variable \"treshold\"; did you mean \"threshold\"?"),
        ("var a = b\nvar b = 1\n", "1:9: undefined variable \"b\""),
    ]

    @Test("Each broken script fails with the exact position and message", arguments: cases)
    func brokenScript(script: String, error expected: String) {
        do {
            _ = try Program.parse(script)
            Issue.record("expected the error \(expected)")
        } catch {
            #expect(error.description == expected)
        }
    }

    @Test("The rendered error shows the line and a caret under the column")
    func rendered() {
        let script = "stream\n    |from()\n    |window(\n        .period(5m)\n"
        do {
            _ = try Program.parse(script)
            Issue.record("expected an error")
        } catch {
            let pad = String(repeating: " ", count: 12)
            #expect(error.rendered(source: script) == "4:9: expected \")\" to close the call to window() at 3:12, found \".\"\n"
                + pad + ".period(5m)\n" + pad + "^")
        }
    }
}
