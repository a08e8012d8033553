import ArgumentParser

extension Tock {
    /// Every subcommand, in the order `tock --help` lists them.
    static let commands: [any ParsableCommand.Type] = [
        Version.self,
        Fmt.self,
        Run.self,
        Demo.self,
        ShowGraph.self,
        Bench.self,
    ]
}

struct Version: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Print the version.")
    func run() { print("Tock \(Tock.version)") }
}
