import AgentCLI
import ArgumentParser

/// `tock-agent`: the agent alone (`tock agent` runs it when it lies beside `tock`). It links the collectors, the
/// shipper and the configuration reader, not the engine's server, storage or alerting, so that the process that
/// collects on every host stays small.
@main
enum TockAgent {
    /// Parses the arguments as `tock agent` does and runs the agent. In an async function the command's async `run()`
    /// is the one called (top-level code would pick the synchronous one, which prints the help).
    static func main() async {
        do {
            var command = try AgentCommand.parse(Array(CommandLine.arguments.dropFirst()))
            try await command.run()
        } catch {
            AgentCommand.exit(withError: error)
        }
    }
}
