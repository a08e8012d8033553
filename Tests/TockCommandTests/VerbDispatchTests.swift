@testable import tock
import Testing

/// How `tock` reads the words before ArgumentParser: the verb dispatch, on values made here.
@Suite("tock's verb dispatch")
struct VerbDispatchTests {
    let verbs = ["record", "replay", "replay-live", "define", "define-template", "show", "show-template", "list", "run", "help"]

    @Test("a slip of a letter or two, a swap of neighbours and a unique prefix name the verb; anything else names none")
    func closest() {
        #expect(VerbDispatch.closest(to: "recrod", among: verbs) == "record")
        #expect(VerbDispatch.closest(to: "shwo", among: verbs) == "show")
        #expect(VerbDispatch.closest(to: "defin", among: verbs) == "define")
        #expect(VerbDispatch.closest(to: "replay-liev", among: verbs) == "replay-live")
        #expect(VerbDispatch.closest(to: "lis", among: verbs) == "list")
        #expect(VerbDispatch.closest(to: "frobnicate", among: verbs) == nil)
        #expect(VerbDispatch.closest(to: "-tsk", among: ["-task", "-tick", "--url"]) == "-task")
    }

    @Test("edit distance counts insertions, deletions, substitutions and a transposition as one edit each")
    func distance() {
        #expect(VerbDispatch.distance("record", "record") == 0)
        #expect(VerbDispatch.distance("record", "recrod") == 1)
        #expect(VerbDispatch.distance("show", "sho") == 1)
        #expect(VerbDispatch.distance("", "run") == 3)
        #expect(VerbDispatch.distance("kitten", "sitting") == 3)
    }

    @Test("help, an unknown word, a Kapacitor verb not built and options without a verb are each answered")
    func examine() {
        let commands = Tock.commands
        #expect(VerbDispatch.examine(["list", "tasks"], commands: commands, root: Tock.self) == .parse(["list", "tasks"]))
        #expect(VerbDispatch.examine(["--version"], commands: commands, root: Tock.self) == .parse(["--version"]))
        guard case .help(let text) = VerbDispatch.examine(["help", "record"], commands: commands, root: Tock.self) else {
            Issue.record("tock help record is not help")
            return
        }
        #expect(text.contains("USAGE: tock record"))
        guard case .help(let top) = VerbDispatch.examine(["help", "help"], commands: commands, root: Tock.self) else {
            Issue.record("tock help help is not help")
            return
        }
        #expect(top.contains("SUBCOMMANDS:"))
        guard case .refuse(let notYet, 64) = VerbDispatch.examine(["backup", "out.db"], commands: commands, root: Tock.self) else {
            Issue.record("tock backup is not refused with 64")
            return
        }
        #expect(notYet.contains("`backup` is a Kapacitor verb that Tock does not have yet"))
        guard case .refuse(let typo, 64) = VerbDispatch.examine(["enabel", "t"], commands: commands, root: Tock.self) else {
            Issue.record("tock enabel is not refused with 64")
            return
        }
        #expect(typo == "tock: unknown verb 'enabel'. Did you mean 'enable'? (`tock help` lists the verbs.)")
        guard case .refuse(let optionFirst, 64) = VerbDispatch.examine(["-tick", "t.tick"], commands: commands, root: Tock.self) else {
            Issue.record("tock -tick is not refused with 64")
            return
        }
        #expect(optionFirst.hasSuffix("-tick is taken by: define, define-template"))
    }

    @Test("the option names of a help text, in every spelling, and nothing from the descriptions")
    func optionNames() {
        let help = """
            USAGE: tock replay [-task <task>]

            OPTIONS:
              -task <task>            The task ID.
              -url, --url <url>       The server's URL (-x is not an option here).
              -h, --help              Show help information.
            """
        #expect(VerbDispatch.optionNames(inHelp: help) == ["-task", "-url", "--url", "-h", "--help"])
    }
}
