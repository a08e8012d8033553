import Engine
import FuzzSupport
import TICKScript

/// The properties the TICKscript fuzz target checks on any text a client could define a task with.
///
/// 1. Lexing, parsing and checking return a program or a ``ScriptError`` for any input: no trap.
/// 2. The formatter's output of a parsed script parses again to the same program (``Program/normalized``)
///    and formats to the same text: `tock` can rewrite any script it accepts without changing it.
/// 3. Building a pipeline from a checked script with ``TaskBuilder`` returns a pipeline or an error.
/// 4. The input read as a single lambda expression (the form `vars` and `tock show` use) parses or fails
///    cleanly, and a parsed lambda also survives format → parse.
public enum TICKScriptFuzzing {
    public static func check(_ input: UnsafeRawBufferPointer) throws(PropertyViolation) {
        let source = String(decoding: input, as: UTF8.self)

        if let program = try? Program.parse(source, check: false) {
            try checkRoundTrip(program, source: source)
        }
        if let checked = try? Program.parse(source) {
            _ = try? TaskBuilder(taskID: "fuzz", execPolicy: ExecPolicy(allowedPrograms: [], setting: "fuzz")).build(checked)
        }
        if let lambda = try? Program.parseLambda(source) {
            let formatted = lambda.formatted()
            let reparsed: Expression
            do {
                reparsed = try Program.parseLambda(formatted)
            } catch {
                throw PropertyViolation("formatted lambda does not parse: \(error)\n--- source\n\(source)\n--- formatted\n\(formatted)")
            }
            try require(reparsed.normalized == lambda.normalized,
                        "format → parse changed the lambda\n--- source\n\(source)\n--- formatted\n\(formatted)")
        }
    }

    static func checkRoundTrip(_ program: Program, source: String) throws(PropertyViolation) {
        let formatted = program.formatted()
        let reparsed: Program
        do {
            reparsed = try Program.parse(formatted, check: false)
        } catch {
            throw PropertyViolation("formatted script does not parse: \(error)\n--- source\n\(source)\n--- formatted\n\(formatted)")
        }
        try require(reparsed.normalized == program.normalized,
                    "format → parse changed the program\n--- source\n\(source)\n--- formatted\n\(formatted)")
        let again = reparsed.formatted()
        try require(again == formatted,
                    "formatting is not stable\n--- source\n\(source)\n--- formatted\n\(formatted)\n--- again\n\(again)")
    }
}
