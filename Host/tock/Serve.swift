import ArgumentParser
import Foundation
import Logging
import PluginHost
import PluginSupervisor
import Server

/// `tock serve`: the daemon (Kapacitor's `kapacitord`): InfluxDB's `/write` and Kapacitor's HTTP API.
struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run the daemon: /write and the Kapacitor HTTP API (default :9092).",
        discussion: """
            Settings come from the configuration file (kapacitor.conf shape; `tock config` prints the \
            defaults) and TOCK_<SECTION>_<KEY> environment variables. Tasks and templates are kept in \
            <data_dir>/tock.db; enabled tasks restart with the daemon. SIGTERM or SIGINT stops accepting \
            connections, drains the tasks and exits 0.
            """)

    @Option(name: [.long, .customLong("config", withSingleDash: true)], help: "The configuration file (-config as kapacitord's).")
    var config: String?

    @Option(name: .long, help: "host:port to listen on (overrides [http] bind-address).")
    var bind: String?

    @Option(name: .customLong("data-dir"), help: "The data directory (overrides data_dir).")
    var dataDir: String?

    func run() async throws {
        var configuration: ServerConfiguration
        do {
            configuration = try ServerConfiguration.load(file: config ?? ProcessInfo.processInfo.environment["TOCK_CONFIG_PATH"])
        } catch {
            Stderr.write("tock serve: \(error)\n")
            throw ExitCode(2)
        }
        if let bind { configuration.bindAddress = bind }
        if let dataDir { configuration.dataDirectory = dataDir }
        let output: LogOutput
        do {
            output = try LogOutput(destination: configuration.logFile, level: configuration.logLevel,
                                   format: configuration.logFormat)
        } catch {
            Stderr.write("tock serve: \(error)\n")
            throw ExitCode(2)
        }
        // Every library's logger writes the daemon's lines to the [logging] destination.
        LoggingSystem.bootstrap { _ in TockLogHandler(output: output) }
        let log = Logger(label: "tock")
        var udfs: UDFRegistry?
        if let file = configuration.file {
            do { udfs = try UDFRegistry(configurationFile: file, logger: log) } catch {
                Stderr.write("tock serve: \(error)\n")
                throw ExitCode(2)
            }
        }
        // What the UDFs start comes back to the daemon when its parent dies, and is stopped before it exits.
        Descendants.becomeSubreaper()
        defer {
            udfs?.terminateAll()
            Descendants.terminateAll()
        }
        do {
            try await Daemon.run(configuration: configuration, udfs: udfs, log: log)
        } catch {
            Stderr.write("tock serve: \(error)\n")
            throw ExitCode(1)
        }
    }
}
