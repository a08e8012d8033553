import Agent
import ArgumentParser
import Collectors
import Dispatch
import Foundation
import Logging
import TockModel

/// `tock agent`: runs only the collectors and ships their points to a remote Tock or InfluxDB.
///
/// The same command is the whole of the small `tock-agent` executable, which links only the collectors and the
/// shipper; `tock agent` runs that executable when it lies beside `tock` (see ``AgentCommand/agentExecutable()``).
public struct AgentCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "agent",
        abstract: "Run the collectors and ship their points to a remote Tock or InfluxDB /write.",
        discussion: """
            Points are tagged host (and location with --location), batched, gzip-compressed and posted to the first \
            URL that takes them. Every batch is kept in the buffer directory until a server takes it, so the agent \
            loses nothing while the server is down or the agent restarts, up to --buffer-max-size (then the oldest \
            points are dropped and counted). A tock_agent heartbeat point tells the server the agent is alive. \
            SIGHUP re-reads the configuration's [[collectors.NAME]] sections; SIGTERM or SIGINT sends what it can \
            within 3 s and stops.
              tock agent --url http://tock.example.net:9092 --location 725
              tock agent --config agent.conf
            The configuration file takes an [agent] section (urls, database, retention-policy, username, password, \
            token, ssl-ca, ssl-cert, ssl-key, insecure-skip-verify, gzip, timeout, batch-size, flush-interval, \
            buffer-dir, buffer-max-size, hostname, location, heartbeat-interval, retry-max-interval) and \
            [[collectors.NAME]] sections; flags override the file. Without collector sections the agent runs \
            \(AgentCommand.defaultCollectors.joined(separator: ", ")).
            """)

    @Option(name: [.customLong("url"), .customLong("url", withSingleDash: true)],
            help: "A server to ship to (repeat for fail-over), e.g. http://tock:9092 or http://influxdb:8086.")
    var urls: [String] = []

    @Option(name: [.customLong("config"), .customLong("config", withSingleDash: true)],
            help: "A configuration file with an [agent] section and [[collectors.NAME]] sections.")
    var config: String?

    @Option(help: "The database points go to (default telegraf).") var database: String?
    @Option(help: "The retention policy points go to (default: the server's).") var retentionPolicy: String?
    @Option(help: "Tagged location on every point.") var location: String?
    @Option(help: "Tagged host on every point (default: this machine's name).") var hostname: String?
    @Option(help: "Basic authentication user.") var username: String?
    @Option(help: "Basic authentication password.") var password: String?
    @Option(help: "Sent as Authorization: Token …") var token: String?
    @Option(help: "PEM file of the CA that signed the server's certificate.") var ca: String?
    @Option(help: "PEM client certificate.") var cert: String?
    @Option(help: "PEM key of the client certificate.") var key: String?
    @Flag(help: "Do not verify the server's certificate.") var insecureSkipVerify = false
    @Flag(help: "Send bodies uncompressed.") var noGzip = false
    @Option(help: "Points per batch (default 5000).") var batchSize: Int?
    @Option(help: "Seal open batches this often (default 10s).") var flushInterval: String?
    @Option(help: "Where batches wait for the server (default ~/.tock/agent-buffer).") var bufferDir: String?
    @Option(help: "The most the buffer keeps on disk, e.g. 256MB (default).") var bufferMaxSize: String?
    @Option(help: "Between two tock_agent heartbeats (default 30s).") var heartbeatInterval: String?
    @Option(help: "The gather interval of collectors whose section sets none (default 10s).") var interval: String?
    @Flag(help: "Also print debug lines.") var debug = false

    /// What the agent gathers without collector sections: `tock collect`'s defaults and the host's static facts
    /// (for the server's host inventory).
    static let defaultCollectors = CollectorRegistry.defaults + ["host_facts"]

    public init() {}

    /// What both ways of running the agent start from.
    struct Prepared {
        var agent: CollectorAgent
        var logger: Logger
        /// When the collectors have gathered once and the shipper has sent (or tried to).
        var settle: Duration
    }

    /// Reads the configuration and the flags and builds the agent (its collectors start gathering).
    func prepare() throws -> Prepared {
        var settings = AgentConfiguration()
        var collectors: [CollectorConfig] = []
        if let config {
            let text: String
            do { text = try String(contentsOfFile: config, encoding: .utf8) } catch {
                throw ValidationError("cannot read \(config): \(error.localizedDescription)")
            }
            do {
                settings = try AgentConfiguration.parse(text, file: config)
                collectors = try CollectorsSection.parseWithScrapers(text, file: config)
            } catch let error as AgentConfigurationError {
                throw ValidationError(error.description)
            } catch {
                throw ValidationError("\(error)")
            }
        }
        try apply(to: &settings)
        if collectors.isEmpty { collectors = Self.defaultCollectors.map { CollectorConfig(name: $0) } }
        if let interval {
            guard let ns = GoDuration.parse(interval), ns > 0 else { throw ValidationError("--interval must be a duration such as 10s") }
            for index in collectors.indices where !collectors[index].intervalSet { collectors[index].interval = .nanoseconds(ns) }
        }
        let debug = self.debug
        // Telegraf's log lines on standard error, built here rather than bootstrapped: `tock agent` may run inside
        // `tock`, whose other verbs bootstrap their own handler.
        let logger = Logger(label: "tock.agent") { _ in TelegrafLogHandler(level: debug ? .debug : .info) }
        let agent: CollectorAgent
        do { agent = try CollectorAgent(configuration: settings, collectors: collectors, version: TockVersion.current, logger: logger) } catch {
            throw ValidationError(error.description)
        }
        return Prepared(agent: agent, logger: logger, settle: collectors.map(\.interval).max() ?? .seconds(10))
    }

    /// Once the collectors have gathered and the shipper has sent (or tried to), what only start-up used need not
    /// stay resident.
    static func releaseStartupPages(after prepared: Prepared) -> TimerThread.ID {
        let logger = prepared.logger
        return TimerThread.shared.add(after: prepared.settle + .seconds(2)) {
            let bytes = StartupPages.release()
            logger.debug("start-up pages released from \(bytes >> 20) MiB of read-only mappings")
        }
    }

    /// SIGHUP: re-reads the configuration's collector sections; the unchanged ones keep their schedule.
    func reload(_ agent: CollectorAgent, logger: Logger) {
        guard let file = config else { return logger.info("SIGHUP: no configuration file to re-read") }
        do {
            let text = try String(contentsOfFile: file, encoding: .utf8)
            var sections = try CollectorsSection.parseWithScrapers(text, file: file)
            if sections.isEmpty { sections = Self.defaultCollectors.map { CollectorConfig(name: $0) } }
            let changes = try agent.reload(sections)
            logger.info("SIGHUP: collectors kept \(changes.kept), started \(changes.started), stopped \(changes.stopped)")
        } catch {
            logger.error("SIGHUP: collectors not reloaded, the running ones are kept: \(error)")
        }
    }

    /// `tock agent` inside `tock` (no `tock-agent` beside it): signals through Dispatch, as `tock`'s other threads
    /// may not block them.
    public func run() async throws {
        let prepared = try prepare()
        let agent = prepared.agent
        let logger = prepared.logger
        let runner = Task { await agent.run() }
        let trimmer = Self.releaseStartupPages(after: prepared)
        var sources: [any DispatchSourceSignal] = []
        let queue = DispatchQueue(label: "tock.agent.signals")
        for number in [SIGTERM, SIGINT] {
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: queue)
            source.setEventHandler {
                logger.info("signal \(number): stopping")
                runner.cancel()
            }
            source.resume()
            sources.append(source)
        }
        signal(SIGHUP, SIG_IGN)
        let hangup = DispatchSource.makeSignalSource(signal: SIGHUP, queue: queue)
        hangup.setEventHandler { reload(agent, logger: logger) }
        hangup.resume()
        sources.append(hangup)
        await runner.value
        TimerThread.shared.remove(trimmer)
        for source in sources { source.cancel() }
    }

    /// `tock-agent`: the whole agent on threads of its own, without Swift's concurrency or Dispatch's pools, whose
    /// threads would wake every second and start and end every round. The calling (main) thread blocks SIGTERM,
    /// SIGINT and SIGHUP before any other thread exists, so that every thread inherits the mask, and takes them
    /// with `sigwait`.
    public func runOnThreads() throws {
        var signals = sigset_t()
        sigemptyset(&signals)
        for number in [SIGTERM, SIGINT, SIGHUP] { sigaddset(&signals, number) }
        pthread_sigmask(SIG_BLOCK, &signals, nil)
        let prepared = try prepare()
        let agent = prepared.agent
        let logger = prepared.logger
        agent.start()
        let trimmer = Self.releaseStartupPages(after: prepared)
        while true {
            var number: Int32 = 0
            guard sigwait(&signals, &number) == 0 else { continue }
            if number == SIGHUP {
                reload(agent, logger: logger)
                continue
            }
            logger.info("signal \(number): stopping")
            break
        }
        TimerThread.shared.remove(trimmer)
        agent.stop()
    }

    func apply(to settings: inout AgentConfiguration) throws {
        if !urls.isEmpty { settings.urls = urls }
        if let database { settings.database = database }
        if let retentionPolicy { settings.retentionPolicy = retentionPolicy }
        if let location { settings.location = location }
        if let hostname { settings.hostname = hostname }
        if let username { settings.username = username }
        if let password { settings.password = password }
        if let token { settings.token = token }
        if let ca { settings.sslCA = ca }
        if let cert { settings.sslCert = cert }
        if let key { settings.sslKey = key }
        if insecureSkipVerify { settings.insecureSkipVerify = true }
        if noGzip { settings.gzip = false }
        if let batchSize { settings.batchSize = batchSize }
        if let bufferDir { settings.bufferDirectory = bufferDir }
        if let bufferMaxSize {
            guard let bytes = ByteSize.parse(bufferMaxSize) else { throw ValidationError("--buffer-max-size must be a size such as 256MB") }
            settings.bufferMaxBytes = bytes
        }
        func duration(_ text: String?, _ flag: String) throws -> Duration? {
            guard let text else { return nil }
            guard let ns = GoDuration.parse(text), ns > 0 else { throw ValidationError("--\(flag) must be a duration such as 10s") }
            return .nanoseconds(ns)
        }
        if let d = try duration(flushInterval, "flush-interval") { settings.flushInterval = d }
        if let d = try duration(heartbeatInterval, "heartbeat-interval") { settings.heartbeatInterval = d }
    }
}
