import Testing
@testable import TICKScript

/// A small seeded generator (SplitMix64), so every run sees the same "random" scripts.
struct SeededGenerator: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// Writes random but valid TICKscript source, with random spacing, line breaks, comments and parentheses.
struct ScriptWriter {
    var rng: SeededGenerator

    mutating func pick<T>(_ items: [T]) -> T { items[Int.random(in: 0..<items.count, using: &rng)] }
    mutating func chance(_ percent: Int) -> Bool { Int.random(in: 0..<100, using: &rng) < percent }

    /// White space between tokens: usually a space, sometimes nothing, a line break or a comment line.
    mutating func gap() -> String {
        switch Int.random(in: 0..<20, using: &rng) {
        case 0: return "\n"
        case 1: return "\n// note \(Int.random(in: 0..<100, using: &rng))\n"
        case 2, 3: return ""
        default: return " "
        }
    }

    mutating func literal() -> String {
        switch Int.random(in: 0..<9, using: &rng) {
        case 0: return String(Int.random(in: 0...100_000, using: &rng))
        case 1: return pick(["0.5", "10.0", "3.25", "0.001", "1e", ".5"]).replacingE()
        case 2: return pick(["'a'", "'it\\'s'", "''", "'x y'", "'''tri\nple'''"])
        case 3: return pick(["5m", "10s", "1h", "250ms", "3µ", "2d", "1w", "7u"])
        case 4: return pick(["TRUE", "FALSE"])
        case 5: return pick(["\"value\"", "\"usage_idle\"", "\"a \\\"quoted\\\" name\"", "\"time\""])
        case 6: return pick(["/^web[0-9]+$/", "/a\\/b/", "/.*/"])
        case 7: return pick(["x", "alpha", "threshold"])
        default: return "0" + String(Int.random(in: 0...7, using: &rng))
        }
    }

    mutating func lambdaExpression(depth: Int) -> String {
        if depth <= 0 || chance(30) { return literal() }
        switch Int.random(in: 0..<10, using: &rng) {
        case 0: return pick(["-", "!"]) + literal()
        case 1: return "(" + gap() + lambdaExpression(depth: depth - 1) + gap() + ")"
        case 2:
            let name = pick(["sigma", "abs", "if", "strContains", "count"])
            let arguments = (0..<Int.random(in: 0...3, using: &rng)).map { _ in lambdaExpression(depth: depth - 1) }
            return name + "(" + arguments.joined(separator: "," + gap()) + ")"
        default:
            let op = pick(BinaryOperator.allCases).rawValue
            // Word operators and "/" need a space: "5AND" is a bad duration and "//" starts a comment.
            let wide = op == "AND" || op == "OR" || op == "/"
            let before = wide ? " " + gap() : gap(), after = wide ? gap() + " " : gap()
            return lambdaExpression(depth: depth - 1) + before + op + after + lambdaExpression(depth: depth - 1)
        }
    }

    mutating func argument() -> String {
        switch Int.random(in: 0..<8, using: &rng) {
        case 0: return "lambda:" + gap() + lambdaExpression(depth: 3)
        case 1: return "[" + (0..<Int.random(in: 0...3, using: &rng)).map { _ in pick(["'host'", "x", "*"]) }.joined(separator: ", ") + "]"
        case 2: return "*"
        case 3: return pick(["x", "alpha"])
        case 4: return "-" + pick(["5m", "1", "2.5"])
        default: return literal()
        }
    }

    mutating func chain(from source: String) -> String {
        var text = source
        for _ in 0..<Int.random(in: 1...6, using: &rng) {
            let op = pick(["|", ".", ".", "@"])
            let name = pick(["from", "window", "period", "every", "alert", "crit", "tTest", "eval", "as", "log"])
            let arguments = (0..<Int.random(in: 0...3, using: &rng)).map { _ in argument() }
            let separator = chance(20) ? ",\n" : ", "
            text += gap() + op + name + "(" + arguments.joined(separator: separator) + (chance(10) && !arguments.isEmpty ? "," : "") + ")"
        }
        return text
    }

    mutating func script() -> String {
        var lines: [String] = []
        if chance(30) { lines.append("dbrp \"db\".\"rp\"") }
        lines.append("var x = " + literal())
        lines.append("var alpha float")
        lines.append("var threshold = lambda: " + lambdaExpression(depth: 2))
        for i in 0..<Int.random(in: 1...3, using: &rng) {
            if chance(50) {
                lines.append("var v\(i) = " + chain(from: pick(["stream", "batch"])))
            } else {
                if chance(30) { lines.append("// statement \(i)") }
                lines.append(chain(from: pick(["stream", "x"])))
            }
        }
        if chance(30) { lines.append("// the end") }
        return lines.joined(separator: chance(50) ? "\n" : "\n\n")
    }
}

private extension String {
    /// `"1e"` stands for a float with an exponent-free spelling the formatter must keep exact.
    func replacingE() -> String { self == "1e" ? "100000000000000000000.0" : self }
}

@Suite("Formatting round trips")
struct RoundTripTests {
    /// `format(parse(s))` parses to the same meaning as `s`, and formatting again changes nothing.
    private func assertRoundTrip(_ source: String) throws {
        let original: Program
        do {
            original = try Program.parse(source, check: false)
        } catch {
            Issue.record("source does not parse: \(error)\n--- source\n\(source)")
            return
        }
        let formatted = original.formatted()
        let reparsed: Program
        do {
            reparsed = try Program.parse(formatted, check: false)
        } catch {
            Issue.record("formatted script does not parse: \(error)\n--- source\n\(source)\n--- formatted\n\(formatted)")
            return
        }
        #expect(reparsed.normalized == original.normalized, "meaning changed\n--- source\n\(source)\n--- formatted\n\(formatted)")
        #expect(reparsed.formatted() == formatted, "formatting is not stable\n--- source\n\(source)\n--- formatted\n\(formatted)\n--- again\n\(reparsed.formatted())")
    }

    @Test("Corpus scripts survive formatting", arguments: Corpus.canonical + [Corpus.printerDemoMessy, Corpus.topScoresMessy])
    func corpus(source: String) throws {
        try assertRoundTrip(source)
    }

    @Test("Random scripts survive formatting", arguments: 0..<300)
    func random(seed: Int) throws {
        var writer = ScriptWriter(rng: SeededGenerator(seed: UInt64(seed)))
        let source = writer.script()
        try assertRoundTrip(source)
    }

    @Test("Random lambdas survive formatting", arguments: 0..<300)
    func randomLambda(seed: Int) throws {
        var writer = ScriptWriter(rng: SeededGenerator(seed: UInt64(1_000 + seed)))
        let body = writer.lambdaExpression(depth: 5)
        let original = try Program.parseLambda(body)
        let formatted = original.formatted()
        #expect(try Program.parseLambda(formatted).normalized == original.normalized, "\(body)\n→ \(formatted)")
    }

    @Test("Mangled scripts fail with a ScriptError, never a crash", arguments: 0..<200)
    func mangled(seed: Int) {
        var rng = SeededGenerator(seed: UInt64(seed))
        var scalars = Array(Corpus.canonical[seed % Corpus.canonical.count].unicodeScalars)
        let alphabet = Array("()[]|.@,'\"/*-=!<>~:\n 5xµ".unicodeScalars)
        for _ in 0..<Int.random(in: 1...4, using: &rng) {
            let at = Int.random(in: 0..<scalars.count, using: &rng)
            if Bool.random(using: &rng) {
                scalars.remove(at: at)
            } else {
                scalars.insert(alphabet[Int.random(in: 0..<alphabet.count, using: &rng)], at: at)
            }
        }
        var text = String.UnicodeScalarView()
        text.append(contentsOf: scalars)
        do {
            let program = try Program.parse(String(text))
            _ = program.formatted()
        } catch {
            #expect(!error.message.isEmpty)
            #expect(error.position.line >= 1 && error.position.column >= 1)
        }
    }
}
