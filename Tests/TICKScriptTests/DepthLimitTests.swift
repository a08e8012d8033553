import Foundation
import Testing
@testable import TICKScript

/// Scripts built to exhaust the stack: every one is refused with a line:column error, never a crash, and
/// scripts just inside ``Program/maximumDepth`` go through every pass (check, format, normalize, compare).
@Suite("Depth limit")
struct DepthLimitTests {
    static let limit = Program.maximumDepth

    /// The error parsing `script` throws; fails the test when it parses.
    static func error(_ script: String) -> ScriptError? {
        do {
            _ = try Program.parse(script)
            Issue.record("expected a depth error")
            return nil
        } catch {
            return error
        }
    }

    static let deepMessage = "expression nested deeper than \(Program.maximumDepth) levels"

    @Test("8,000 nested parentheses stop at the first parenthesis past the limit")
    func parentheses() throws {
        let prefix = "stream\n    |where(lambda: "
        let script = prefix + String(repeating: "(", count: 8000) + "TRUE" + String(repeating: ")", count: 8000) + ")\n"
        let error = try #require(Self.error(script))
        #expect(error.message.hasPrefix(Self.deepMessage))
        // The where() argument is one level, the lambda body another; the limit is crossed inside the parentheses.
        #expect(error.position.line == 2)
        #expect(error.position.column > prefix.count - "stream\n".count)
        #expect(error.position.column <= prefix.count - "stream\n".count + Self.limit + 1)
    }

    @Test("10,000 '!' are refused at the '!' past the limit")
    func nots() throws {
        let script = "stream\n    |where(lambda: " + String(repeating: "!", count: 10_000) + "TRUE)\n"
        let error = try #require(Self.error(script))
        #expect(error.message.hasPrefix(Self.deepMessage))
        #expect(error.position.line == 2)
    }

    @Test("A flat chain of 20,000 OR terms is refused at the operator where its tree passes the limit")
    func orChain() throws {
        let terms = (0..<20_000).map { "\"f\($0)\" > 0" }
        let script = "stream\n    |where(lambda: " + terms.joined(separator: " OR ") + ")\n"
        let error = try #require(Self.error(script))
        #expect(error.message.hasPrefix(Self.deepMessage))
        // Column of the OR that makes the tree one level too deep: the lambda and where() take 2 levels.
        let prefix = "    |where(lambda: " + terms.prefix(Self.limit - 1).joined(separator: " OR ") + " "
        #expect(error.position == SourcePosition(line: 2, column: prefix.unicodeScalars.count + 1, offset: error.position.offset))
    }

    @Test("A chain of 15,000 '+' terms is refused, 150 are accepted")
    func plusChain() throws {
        let long = "var x = lambda: " + Array(repeating: "1", count: 15_000).joined(separator: " + ") + "\n"
        #expect(Self.error(long)?.message.hasPrefix(Self.deepMessage) == true)
        let fine = "var x = lambda: " + Array(repeating: "1", count: 150).joined(separator: " + ") + "\n"
        let program = try Program.parse(fine)
        #expect(try Program.parse(program.formatted()).normalized == program.normalized)
    }

    @Test("A pipeline longer than the limit is refused at its link past it")
    func longPipeline() throws {
        let script = "stream\n" + String(repeating: "    |log()\n", count: 2 * Self.limit)
        let error = try #require(Self.error(script))
        #expect(error.message.hasPrefix(Self.deepMessage))
        #expect(error.position.column == 5)
        #expect(error.position.line == Self.limit + 1)
    }

    @Test("parseLambda (lambda template vars) has the same limit")
    func lambdaVar() throws {
        let text = String(repeating: "-", count: 5000) + "1"
        #expect(throws: ScriptError.self) { try Program.parseLambda(text) }
    }

    /// Runs `body` on a thread with a small stack, as the daemon's threads may be, and waits for it.
    static func onSmallStack(_ body: @escaping @Sendable () -> Void) {
        let done = DispatchSemaphore(value: 0)
        let thread = Thread {
            body()
            done.signal()
        }
        thread.stackSize = 2 << 20
        thread.start()
        done.wait()
    }

    @Test("Expressions at the limit parse, check, format, normalize and compare on a 2 MiB stack")
    func atTheLimit() {
        // Parentheses and unary operators nest the parser itself; a flat chain nests only the tree.
        let parens = "var a = lambda: " + String(repeating: "(", count: Self.limit - 3) + "1"
            + String(repeating: ")", count: Self.limit - 3) + "\n"
        let nots = "var b = lambda: " + String(repeating: "!", count: Self.limit - 2) + "TRUE\n"
        let chain = "var c = lambda: " + Array(repeating: "TRUE", count: Self.limit - 1).joined(separator: " OR ") + "\n"
        let script = parens + nots + chain
        nonisolated(unsafe) var outcome = ""
        Self.onSmallStack {
            do {
                let program = try Program.parse(script)
                let again = try Program.parse(program.formatted())
                outcome = again.normalized == program.normalized && again.hashValue == again.hashValue ? "ok" : "differs"
            } catch {
                outcome = "\(error)"
            }
        }
        #expect(outcome == "ok")
    }
}

/// Float literals past a double's range are refused where they are written; those within it format so
/// that they read back as the same value.
@Suite("Extreme literals")
struct ExtremeLiteralTests {
    @Test("A 400-digit float literal is refused at its first digit")
    func hugeFloat() throws {
        let digits = "1" + String(repeating: "0", count: 399) + ".5"
        do {
            _ = try Program.parse("var x = \(digits)\n")
            Issue.record("a float past 1.8e308 was accepted")
        } catch {
            #expect(error.position.line == 1 && error.position.column == 9)
            #expect(error.message.contains("overflows a 64-bit float"))
            #expect(error.message.contains("(402 characters)"))
        }
    }

    @Test("Extreme finite floats, tiny floats and large integers survive tock fmt", arguments: [
        "179769313486231570000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000.0",
        "0." + String(repeating: "0", count: 320) + "5",
        "0." + String(repeating: "0", count: 400) + "1",
        "9223372036854775807",
        "0777777777777777777777",
        "2562047h",
    ])
    func roundTrip(literal: String) throws {
        let program = try Program.parse("var x = \(literal)\nvar y = lambda: \"v\" > \(literal)\n")
        let formatted = program.formatted()
        let again = try Program.parse(formatted)
        #expect(again.normalized == program.normalized)
        #expect(!formatted.contains("inf"))
        #expect(again.formatted() == formatted)
    }
}

@Suite("Errors on long lines")
struct LongLineErrorTests {
    @Test("The quoted line is cut to 120 characters around the column, the caret still under it")
    func clipped() {
        let line = String(repeating: "a", count: 500) + "X" + String(repeating: "b", count: 500)
        let error = ScriptError("bad X", at: SourcePosition(line: 2, column: 501))
        let lines = error.rendered(source: "first\n" + line + "\n").split(separator: "\n")
        #expect(lines.count == 3)
        #expect(lines[0] == "2:501: bad X")
        let quoted = Array(lines[1].dropFirst(4)), caret = lines[2].dropFirst(4)
        #expect(quoted.count == ScriptError.renderedWidth + 2)
        #expect(quoted.first == "…" && quoted.last == "…")
        #expect(quoted[caret.count - 1] == "X")
        #expect(caret.last == "^")
    }

    @Test("Short lines are quoted whole")
    func whole() {
        let error = ScriptError("bad", at: SourcePosition(line: 1, column: 3))
        #expect(error.rendered(source: "abcdef") == "1:3: bad\n    abcdef\n      ^")
    }
}
