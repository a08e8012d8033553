import Foundation
import Testing

/// `tock help VERB` and `tock VERB --help` for every verb; a word that is no verb, a Kapacitor verb Tock does
/// not have yet, and a mistyped option are each answered with what to type instead.
@Suite struct CLIHelpSpecification {
    /// The verbs `tock help` lists under SUBCOMMANDS.
    static func verbs() throws -> [String] {
        let help = try TockBinary.run(["help"])
        var verbs: [String] = []
        var inSubcommands = false
        for line in help.stdout.split(separator: "\n", omittingEmptySubsequences: false) {
            if line.hasPrefix("SUBCOMMANDS:") { inSubcommands = true; continue }
            guard inSubcommands else { continue }
            if line.hasPrefix("  See ") { break }
            if !line.hasPrefix("  ") { if !line.isEmpty { break } else { continue } }
            // "  record    Record …" (a verb line; continuation lines are indented further)
            guard line.dropFirst(2).first != " ", let word = line.split(separator: " ").first else { continue }
            verbs.append(String(word))
        }
        return verbs
    }

    @Test func tockHelpListsTheVerbs() throws {
        let verbs = try Self.verbs()
        for verb in ["run", "demo", "record", "replay", "define", "show", "serve", "users", "level"] {
            #expect(verbs.contains(verb), "tock help lists no \(verb): \(verbs)")
        }
    }

    @Test func everyVerbHasItsOwnHelpBothWays() throws {
        let verbs = try Self.verbs().filter { $0 != "help" }
        #expect(verbs.count > 20)
        for verb in verbs {
            let viaHelp = try TockBinary.run(["help", verb])
            #expect(viaHelp.status == 0, "tock help \(verb): \(viaHelp.stderr)")
            #expect(viaHelp.stdout.contains("USAGE: tock \(verb)"), "tock help \(verb) printed:\n\(viaHelp.stdout)")
            let viaFlag = try TockBinary.run([verb, "--help"])
            #expect(viaFlag.status == 0, "tock \(verb) --help: \(viaFlag.stderr)")
            #expect(viaFlag.stdout.contains("USAGE: tock \(verb)"), "tock \(verb) --help printed:\n\(viaFlag.stdout)")
        }
    }

    @Test func helpReachesSubcommands() throws {
        let help = try TockBinary.run(["help", "demo", "printer"])
        #expect(help.status == 0)
        #expect(help.stdout.contains("USAGE: tock demo printer"))
        #expect(help.stdout.contains("--write-data"))
    }

    @Test func anUnknownVerbNamesTheClosestOne() throws {
        let typo = try TockBinary.run(["recrod", "stream", "-task", "t"])
        #expect(typo.status == 64)
        #expect(typo.stderr.contains("unknown verb 'recrod'. Did you mean 'record'?"), "stderr: \(typo.stderr)")
        let helpTypo = try TockBinary.run(["help", "shwo"])
        #expect(helpTypo.status == 64)
        #expect(helpTypo.stderr.contains("Did you mean 'show'?"), "stderr: \(helpTypo.stderr)")
        let nothingClose = try TockBinary.run(["frobnicate"])
        #expect(nothingClose.status == 64)
        #expect(nothingClose.stderr.contains("unknown verb 'frobnicate'."))
        #expect(!nothingClose.stderr.contains("Did you mean"))
    }

    @Test(arguments: ["watch", "logs", "backup", "push"])
    func aKapacitorVerbTockDoesNotHaveYetIsSaidSoPlainly(verb: String) throws {
        let result = try TockBinary.run([verb, "-task", "cpu_alert"])
        #expect(result.status == 64)
        #expect(result.stderr.contains("`\(verb)` is a Kapacitor verb that Tock does not have yet"), "stderr: \(result.stderr)")
        let withGlobalFlag = try TockBinary.run(["-url", "http://localhost:9092", verb, "-task", "cpu_alert"])
        #expect(withGlobalFlag.stderr.contains("Tock does not have yet"), "stderr: \(withGlobalFlag.stderr)")
    }

    @Test func anOptionWithoutAVerbNamesTheVerbsThatTakeIt() throws {
        let result = try TockBinary.run(["-task", "cpu_alert"])
        #expect(result.status == 64)
        #expect(result.stderr.contains("no verb came before it"), "stderr: \(result.stderr)")
        #expect(result.stderr.contains("record"), "stderr: \(result.stderr)")
        #expect(result.stderr.contains("replay"), "stderr: \(result.stderr)")
    }

    @Test func aMistypedOptionNamesTheClosestOption() throws {
        let result = try TockBinary.run(["replay", "-tsk", "cpu_alert", "-recording", "r"])
        #expect(result.status != 0)
        #expect(result.stderr.contains("Did you mean '-task'?"), "stderr: \(result.stderr)")
    }
}
