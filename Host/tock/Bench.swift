import ArgumentParser

/// `tock bench …`: micro-benchmarks of Tock's hot paths. Build with `-c release` before trusting numbers.
struct Bench: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Measure Tock's hot paths on one core (use a release build).",
        subcommands: Bench.commands
    )
}

extension Bench {
    /// Every `tock bench` subcommand; each lives in its own file.
    static let commands: [any ParsableCommand.Type] = [
        BenchUDFCodec.self,
        BenchGenerate.self,
        BenchLineProtocol.self,
        BenchPipeline.self,
        BenchUDF.self,
        BenchAlerts.self,
    ]
}
