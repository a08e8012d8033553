import AgentCLI
import ArgumentParser
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
    static func main() async {
        let names = Set(commands.map { $0._commandName })
        let arguments = hoistingGlobalFlags(Array(CommandLine.arguments.dropFirst()), verbs: names)
        // `tock agent …` is the small `tock-agent` executable when it lies beside this one (same arguments, same
        // process id); otherwise the agent runs here.
        if arguments.first == AgentCommand._commandName { AgentCommand.execAgentExecutable(Array(arguments.dropFirst())) }
        do {
            var command = try parseAsRoot(arguments)
            if var asyncCommand = command as? any AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
        } catch {
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
