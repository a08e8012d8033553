import ArgumentParser
import Server

/// `tock config`: prints the default configuration, commented (as `kapacitord config` does).
struct ConfigCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "config", abstract: "Print the default daemon configuration (TOML, commented).")

    func run() { print(ServerConfiguration.defaultText, terminator: "") }
}
