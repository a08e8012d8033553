import Alerting
import Collectors
import Engine
import Foundation
import Hummingbird
import HummingbirdCore
import HummingbirdTLS
import InfluxDB
import Logging
import NIOCore
import PluginHost
import ServiceLifecycle
import Storage
import UnixSignals

/// `tock serve`: the HTTP daemon, from start to graceful shutdown.
public enum Daemon {
    /// Opens the store, starts the enabled tasks and serves until SIGTERM or SIGINT; then stops accepting
    /// connections, drains every task (UDF children included) and returns. The long-lived parts run as services
    /// of one swift-service-lifecycle `ServiceGroup` (``services(app:daemonServices:hangups:reload:ingest:master:api:alerting:drainTimeout:store:udfs:log:)``),
    /// which handles the signals: SIGTERM and SIGINT shut it down gracefully, SIGHUP reloads `[load]` and the
    /// collectors.
    /// - Parameters:
    ///   - udfs: the UDFs of the `[udf]` section, for tasks that call them; their snapshots are saved in the
    ///     store at shutdown and handed back at the next start.
    ///   - log: where the daemon logs; the preview API follows the log and changes its level when the logger writes
    ///     through a ``TockLogHandler`` (``LogOutput/logger(label:)`` of the `[logging]` section).
    ///   - onListening: called with the bound port once the server accepts connections.
    public static func run(configuration: ServerConfiguration, udfs: UDFRegistry? = nil, log: Logger,
                           onListening: @escaping @Sendable (Int) -> Void = { _ in }) async throws {
        for section in configuration.unusedSections {
            log.warning("configuration section is not used by this build", metadata: ["section": .string(section)])
        }
        let bind = try configuration.bind
        let tls = configuration.httpsEnabled
            ? try ServerTLS.configuration(certificate: configuration.httpsCertificate, privateKey: configuration.httpsPrivateKey)
            : nil
        let store = try Store(path: configuration.resolvedStoragePath)
        log.info("opened storage", metadata: ["path": .string(store.path)])
        if configuration.authEnabled {
            if try store.users().contains(where: { $0.type == "admin" || $0.permissionList.contains("admin") }) {
                log.info("authentication enabled")
            } else {
                log.warning("authentication enabled but no admin user exists: create one with `tock users add NAME --admin --data-dir DIR`", metadata: [
                    "data_dir": .string(configuration.dataDirectory),
                ])
            }
        }
        if let udfs {
            for s in try store.udfSnapshots() { udfs.snapshots.save(s.data, taskID: s.taskID, nodeID: s.nodeID) }
        }
        let influxDB = try influxDBClusters(configuration, log: log)
        let master = TaskMaster(store: store, udfProvider: udfs, log: log, execPolicy: configuration.execPolicy,
                                configSections: configuration.configSections, influxDB: influxDB)
        let notifiers = (udfs?.configuration.notifiers ?? [:]).mapValues { config in
            NotifierPlugin(configuration: config, logger: log)
        }
        let deadLetters = DeadLetterOffice(limit: configuration.alerting.deadLetterMax, archive: StoreDeadLetterArchive(store: store),
                                           logger: log)
        let alerting = try configuration.applyingConfigOverrides(from: store).makeAlertingService(notifiers: notifiers,
                                                                                                 execPolicy: configuration.execPolicy,
                                                                                                 deadLetters: deadLetters)
        master.alertService = alerting
        try SilenceAPI.restore(alerting.silences, from: store, log: log)
        try TopicAPI.restore(alerting, from: store, log: log)
        defer { alerting.shutdown() }
        if configuration.configSections.deadman.global { log.info("deadman's switch is configured globally") }
        try master.startEnabledTasks()
        let api = TockAPI(master: master, configuration: configuration)
        let ingest = api.ingest
        do { try await ingest.startUDP(configuration.udp, defaultRetentionPolicy: configuration.defaultRetentionPolicy) } catch {
            await ingest.stop()
            master.stopAll()
            throw error
        }
        do { try ingest.startCollectors(configuration.collectors + configuration.scrapers) } catch {
            await ingest.stop()
            master.stopAll()
            throw ConfigurationError("\(configuration.file ?? "configuration"): \(error)")
        }
        // SIGHUP is trapped from here on; the group's SIGTERM and SIGINT once it runs.
        let hangups = await UnixSignalsSequence(trapping: .sighup)
        let daemonServices = DaemonServices.start(api: api, configuration: configuration, log: log)
        let app = try application(api: api, host: bind.host, port: bind.port,
                              tls: tls, idleTimeout: configuration.readTimeout, onListening: { port in
                                  log.info("listening", metadata: [
                                      "address": "\(bind.host):\(port)",
                                      "scheme": .string(tls == nil ? "http" : "https"),
                                  ])
                                  KapacitorURL.set(hostname: configuration.hostname, port: port, https: tls != nil)
                                  ingest.startSubscriptions(influxDB, configuration: configuration, boundPort: port)
                                  onListening(port)
                              })
        let services = Self.services(
            app: app, daemonServices: daemonServices, hangups: hangups,
            reload: {
                // The collectors of the configuration file as it is now; the rest of the file is not re-read.
                guard let file = configuration.file else { return }
                do {
                    let text = try String(contentsOfFile: file, encoding: .utf8)
                    ingest.reloadCollectors(try CollectorsSection.parseWithScrapers(text, file: file))
                } catch {
                    log.error("SIGHUP: collectors not reloaded, the running ones are kept", metadata: ["err": "\(error)"])
                }
            },
            ingest: ingest, master: master, api: api, alerting: alerting, drainTimeout: configuration.alerting.drainTimeout,
            store: store, udfs: udfs, log: log)
        // One group: SIGTERM or SIGINT shuts its services down gracefully, in the reverse of their order.
        var serviceLogger = log
        serviceLogger[metadataKey: "service"] = "lifecycle"
        let group = ServiceGroup(configuration: ServiceGroupConfiguration(services: services,
                                                                          gracefulShutdownSignals: [.sigterm, .sigint],
                                                                          logger: serviceLogger))
        defer { daemonServices.stop() }
        try await group.run()
        log.info("stopped")
    }

    /// The enabled `[[influxdb]]` sections as clusters; `nil` when none is enabled.
    static func influxDBClusters(_ configuration: ServerConfiguration, log: Logger) throws(ConfigurationError) -> InfluxDBClusters? {
        let clusters: InfluxDBClusters?
        do { clusters = try InfluxDBClusters.make(configuration.influxDB) } catch {
            throw ConfigurationError("\(configuration.file ?? "configuration") \(error)")
        }
        for cluster in clusters?.ordered ?? [] {
            log.info("influxdb cluster configured", metadata: [
                "cluster": .string(cluster.name), "urls": .string(cluster.configuration.urls.joined(separator: ",")),
                "default": "\(cluster.name == clusters?.defaultCluster)",
            ])
        }
        return clusters
    }

    /// Writes every UDF node's last snapshot to the store; returns how many.
    @discardableResult
    static func saveSnapshots(_ udfs: UDFRegistry, to store: Store) throws(StoreError) -> Int {
        let all = udfs.snapshots.all.sorted { ($0.key.taskID, $0.key.nodeID) < ($1.key.taskID, $1.key.nodeID) }
        try store.replaceUDFSnapshots(all.map { (taskID: $0.key.taskID, nodeID: $0.key.nodeID, data: $0.value) })
        return all.count
    }

    /// Saves the UDF snapshots every `interval` nanoseconds when they changed, until cancelled.
    static func persistSnapshots(_ udfs: UDFRegistry, to store: Store, every interval: Int64, log: Logger) async {
        var saved: [UDFSnapshotStore.Key: [UInt8]] = [:]
        while !Task.isCancelled {
            do { try await Task.sleep(for: .nanoseconds(interval)) } catch { return }
            let current = udfs.snapshots.all
            guard current != saved else { continue }
            do {
                try saveSnapshots(udfs, to: store)
                saved = current
            } catch {
                log.error("cannot save UDF snapshots", metadata: ["err": "\(error)"])
            }
        }
    }

    /// The Hummingbird application serving `api`.
    /// - Parameters:
    ///   - tls: serve HTTPS with these settings; nil for plain HTTP.
    ///   - idleTimeout: nanoseconds after which a connection that sends nothing (between requests, or stalled in a
    ///     request's head or body) is closed; 0: never. The daemon uses `[http] read-timeout`, as Go's server uses
    ///     its read timeout when no idle timeout is set.
    public static func application(api: TockAPI, host: String, port: Int, tls: TLSConfiguration? = nil,
                                   idleTimeout: Int64 = 0,
                                   onListening: @escaping @Sendable (Int) -> Void = { _ in }) throws -> some ApplicationProtocol {
        var logger = api.log
        logger.logLevel = .warning
        logger[metadataKey: "service"] = "http"
        let http1 = HTTP1Channel.Configuration(idleTimeout: idleTimeout > 0 ? .nanoseconds(idleTimeout) : nil)
        return Application(
            responder: api.responder(),
            server: try tls.map { try .tls(.http1(configuration: http1), tlsConfiguration: $0) } ?? .http1(configuration: http1),
            configuration: .init(address: .hostname(host, port: port), serverName: nil),
            onServerRunning: { channel in onListening(channel.localAddress?.port ?? port) },
            logger: logger)
    }
}
