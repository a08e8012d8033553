import ArgumentParser
import Collectors
import Foundation
import LineProtocol
import Logging
import Server
import Synchronization
import TockModel

/// `tock collect`: gathers host metrics with the built-in collectors and prints them as line protocol, like
/// `telegraf --test` (with `--once`) or a Telegraf agent writing to stdout.
struct Collect: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "collect",
        abstract: "Gather host metrics with the built-in collectors and print them as line protocol.",
        discussion: """
            With --once, every collector (the configured ones, or those named) gathers once and the points are printed, \
            as `telegraf --test` does; collectors that report rates (cpu) read twice, --sample-wait apart. Without it, \
            each collector gathers on its interval until interrupted.
              tock collect --once cpu mem
              tock collect --once --config collectors.conf
            Collectors: \(CollectorRegistry.names.joined(separator: ", ")).
            """)

    @Flag(help: "Gather once and exit.")
    var once = false

    @Argument(help: "Collectors to run (default: those configured, or \(CollectorRegistry.defaults.joined(separator: ", "))).")
    var names: [String] = []

    @Option(name: [.customLong("config"), .customLong("config", withSingleDash: true)],
            help: "A configuration file with [[collectors.NAME]] sections.")
    var config: String?

    @Option(help: "With --once, the wait between the two readings of collectors that report rates.")
    var sampleWait = "500ms"

    @Flag(help: "List the built-in collectors and exit.")
    var list = false

    @Flag(help: "Also print the collectors' debug lines on stderr.")
    var debug = false

    func run() async throws {
        if list {
            for (name, summary) in CollectorRegistry.catalog { print("\(name.padding(toLength: 11, withPad: " ", startingAt: 0))\(summary)") }
            return
        }
        guard let waitNanos = GoDuration.parse(sampleWait), waitNanos >= 0 else {
            throw ValidationError("--sample-wait must be a duration such as 500ms, got \"\(sampleWait)\"")
        }
        let configs = try selected()
        var instances: [(config: CollectorConfig, instance: CollectorInstance)] = []
        for config in configs {
            do { instances.append((config, try CollectorRegistry.instance(for: config))) } catch {
                throw ValidationError(error.description)
            }
        }
        let hostTags = ["host": HostFS.hostname]
        let debug = self.debug
        let logger = VerbLogging.logger(label: "tock.collect", level: debug ? .debug : .info, style: .telegraf)
        guard once else {
            let scheduler = CollectorScheduler(configs, hostTags: hostTags, clock: { Self.now }, logger: logger,
                                               sink: { points in try? Self.write(points) })
            do { try scheduler.start() } catch { throw ValidationError(error.description) }
            // Until interrupted.
            while true { try await Task.sleep(for: .seconds(3600)) }
        }
        var failed = 0
        for (config, instance) in instances {
            let logger = logger.with("collector", config.name)
            do {
                switch instance {
                case .polled(var collector):
                    if type(of: collector).needsTwoReadings {
                        _ = try collector.gather(GatherContext(time: Self.now, timeout: config.timeout, logger: logger))
                        try await Task.sleep(for: .nanoseconds(waitNanos))
                    }
                    let points = try collector.gather(GatherContext(time: Self.now, timeout: config.timeout, logger: logger))
                    try Self.write(config.finish(points, hostTags: hostTags))
                case .streaming(let collector):
                    try Self.write(config.finish(try await Self.once(collector, config: config, logger: logger), hostTags: hostTags))
                }
            } catch let error as CollectorError {
                failed += 1
                logger.error("\(error.message)")
            }
        }
        if failed > 0 { throw ExitCode(1) }
    }

    /// Starts a streaming collector, signals it once, and keeps what it prints until it has been quiet for 200 ms
    /// after its first point (or until the section's timeout).
    static func once(_ collector: any StreamingCollector, config: CollectorConfig,
                     logger: Logger) async throws -> [Point] {
        let received = Mutex<(points: [Point], last: ContinuousClock.Instant?)>(([], nil))
        try collector.start(StreamContext(clock: { now }, logger: logger) { points in
            received.withLock { $0.points += points; $0.last = .now }
        })
        defer { collector.stop() }
        // A plugin answers its handshake first: wait (bounded) until it runs, then ask.
        let deadline = ContinuousClock.now + config.timeout
        while !collector.isRunning && ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(20)) }
        collector.tick()
        while ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(50))
            if let last = received.withLock({ $0.last }), ContinuousClock.now - last > .milliseconds(200) { break }
        }
        return received.withLock { $0.points }
    }

    /// The configured collectors, narrowed to `names`; a named collector that is not configured runs with its
    /// defaults.
    func selected() throws -> [CollectorConfig] {
        var configured: [CollectorConfig] = []
        if let config {
            let text: String
            do { text = try String(contentsOfFile: config, encoding: .utf8) } catch {
                throw ValidationError("cannot read \(config): \(error.localizedDescription)")
            }
            do { configured = try CollectorsSection.parseWithScrapers(text, file: config) } catch { throw ValidationError(error.description) }
        }
        for name in names where !CollectorRegistry.isKnown(name) && !configured.contains(where: { $0.name == name }) {
            throw ValidationError(CollectorError("", "unknown collector \"\(name)\" (built in: \(CollectorRegistry.names.joined(separator: ", ")))").description)
        }
        if names.isEmpty {
            return configured.isEmpty ? CollectorRegistry.defaults.map { CollectorConfig(name: $0) } : configured
        }
        return names.flatMap { name in
            let matching = configured.filter { $0.name == name }
            return matching.isEmpty ? [CollectorConfig(name: name)] : matching
        }
    }

    static var now: Timestamp { Int64(Date().timeIntervalSince1970 * 1e9) }

    static func write(_ points: [Point]) throws {
        let bytes = try LineProtocolSerializer().serialize(points)
        FileHandle.standardOutput.write(Data(bytes))
    }
}
