import ArgumentParser

/// The `tock` command: Kapacitor's verbs, plus `run`, `fmt`, `demo` and `bench` for work without a server.
@main
struct Tock: AsyncParsableCommand {
    static let version = "0.1.0"

    static let configuration = CommandConfiguration(
        commandName: "tock",
        abstract: "A monitoring and alerting engine that runs Kapacitor's TICKscripts and UDFs.",
        version: version,
        subcommands: Tock.commands
    )
}
