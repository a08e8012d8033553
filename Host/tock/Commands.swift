import AgentCLI
import ArgumentParser

extension Tock {
    /// Every subcommand, in the order `tock --help` lists them.
    static let commands: [any ParsableCommand.Type] = [
        Version.self,
        Fmt.self,
        Run.self,
        TestCommand.self,
        Demo.self,
        ShowGraph.self,
        Bench.self,
        Serve.self, ConfigCommand.self, Users.self,
        Define.self, DefineTemplate.self, Enable.self, Disable.self, Reload.self, Delete.self, List.self, Show.self, ShowTemplate.self, Stats.self, Vars.self, Level.self, ServiceTests.self,
        DefineTopicHandler.self, ShowTopic.self, ShowTopicHandler.self, DefineSilence.self, ReplayDeadLetters.self,
        Record.self, Replay.self, ReplayLive.self,
        Collect.self, AgentCommand.self,
        Hosts.self,
    ]
}
