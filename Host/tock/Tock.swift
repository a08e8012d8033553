import AgentCLI
import ArgumentParser
import Foundation
import TockModel

/// The `tock` command: Kapacitor's verbs, plus `run`, `fmt`, `demo` and `bench` for work without a server.
@main
struct Tock: AsyncParsableCommand {
    static let version = TockVersion.current

    static let configuration = CommandConfiguration(
        commandName: "tock",
        abstract: "A monitoring and alerting engine that runs Kapacitor's TICKscripts and UDFs.",
        version: version,
        subcommands: Tock.commands
    )

    /// Parses with Kapacitor's global-flag order accepted (`tock -url URL list tasks`), then runs.
    ///
    /// `tock help VERB…` prints the verb's help; a word that is no verb names the closest one, or says that
    /// Kapacitor's verb is not in Tock yet (``VerbDispatch``); an unknown option names the closest option.
    static func main() async {
        let names = Set(commands.map { $0._commandName })
        var arguments = hoistingGlobalFlags(Array(CommandLine.arguments.dropFirst()), verbs: names)
        switch VerbDispatch.examine(arguments, commands: commands, root: Tock.self) {
        case .parse(let checked):
            arguments = checked
        case .help(let text):
            print(text)
            Foundation.exit(0)
        case .refuse(let message, let status):
            FileHandle.standardError.write(Data((message + "\n").utf8))
            Foundation.exit(status)
        }
        // `tock agent …` is the small `tock-agent` executable when it lies beside this one (same arguments, same
        // process id); otherwise the agent runs here.
        // Help is printed here, under `tock agent`'s own name.
        if arguments.first == AgentCommand._commandName, !arguments.contains(where: { ["--help", "-h", "-help"].contains($0) }) {
            AgentCommand.execAgentExecutable(Array(arguments.dropFirst()))
        }
        do {
            var command = try parseAsRoot(arguments)
            if var asyncCommand = command as? any AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
        } catch {
            let message = self.message(for: error)
            if let better = VerbDispatch.improved(message, arguments: arguments, commands: commands, root: Tock.self) {
                let full = fullMessage(for: error).replacingOccurrences(of: message, with: better)
                FileHandle.standardError.write(Data((full + "\n").utf8))
                Foundation.exit(exitCode(for: error).rawValue)
            }
            exit(withError: error)
        }
    }

    /// Kapacitor writes its client flags before the verb (`kapacitor -url http://h:9092 show t`); here every
    /// verb carries them itself, so whatever precedes the first verb is moved to the end of the arguments.
    static func hoistingGlobalFlags(_ arguments: [String], verbs: Set<String>) -> [String] {
        guard let verb = arguments.firstIndex(where: { verbs.contains($0) }), verb > 0,
              arguments[0].hasPrefix("-"), !["-h", "--help", "--version", "help"].contains(arguments[0]) else {
            return arguments
        }
        return Array(arguments[verb...]) + Array(arguments[..<verb])
    }
}
