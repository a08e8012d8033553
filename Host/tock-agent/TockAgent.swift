import AgentCLI
import ArgumentParser

/// `tock-agent`: the agent alone (`tock agent` runs it when it lies beside `tock`). It links the collectors, the
/// shipper and the configuration reader, not the engine's server, storage or alerting, so that the process that
/// collects on every host stays small.
@main
enum TockAgent {
    /// Parses the arguments as `tock agent` does and runs the agent on threads of its own: the executable never
    /// starts Swift's concurrency or Dispatch's thread pools (see ``AgentCommand/runOnThreads()``).
    static func main() {
        do {
            let command = try AgentCommand.parse(Array(CommandLine.arguments.dropFirst()))
            try command.runOnThreads()
        } catch {
            AgentCommand.exit(withError: error)
        }
    }
}
