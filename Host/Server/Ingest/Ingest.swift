import Collectors
import Foundation
import InfluxDB
import LineProtocol
import Logging
import Synchronization
import TockModel

/// The daemon's inputs besides `/write`: `[[udp]]` listeners and the InfluxDB subscriptions of `[[influxdb]]`.
/// Both deliver through the `/write` path (``WriteHandler/ingest(_:database:retentionPolicy:precision:arrival:)``),
/// so their points reach the same stream tasks and count in the same ingress statistics.
final class Ingest: Sendable {
    let handler: WriteHandler
    let log: Logger
    private let udp = Mutex<[UDPListener]>([])
    private let linkers = Mutex<[(linker: SubscriptionLinker, task: Task<Void, Never>)]>([])
    private let collectors = Mutex<CollectorScheduler?>(nil)

    init(handler: WriteHandler, log: Logger) {
        self.handler = handler
        self.log = log
    }

    /// Opens the enabled `[[udp]]` listeners; a listener that cannot bind is an error, as in Kapacitor.
    func startUDP(_ sections: [UDPConfiguration], defaultRetentionPolicy: String) async throws {
        for (i, section) in sections.enumerated() where section.enabled {
            let bind = section.bind
            var rp = section.retentionPolicy
            if rp.isEmpty { rp = defaultRetentionPolicy.isEmpty ? "autogen" : defaultRetentionPolicy }
            let listener = try await UDPListener.start(
                host: bind.host, port: bind.port,
                target: .init(database: section.database, retentionPolicy: rp, precision: Precision(section.precision) ?? .nanoseconds),
                capacity: section.batchPending, batching: .init(size: section.batchSize, timeout: section.batchTimeout),
                readBuffer: section.readBuffer, handler: handler, log: log,
                label: "[[udp]] #\(i + 1) \(section.bindAddress)")
            udp.withLock { $0.append(listener) }
            log.info("listening for UDP line protocol", metadata: [
                "address": "\(bind.host):\(listener.port)", "db": .string(section.database), "rp": .string(rp),
            ])
        }
    }

    /// Starts keeping the subscriptions of every cluster, in the background; `boundPort` is the daemon's HTTP port.
    func startSubscriptions(_ clusters: InfluxDBClusters?, configuration: ServerConfiguration, boundPort: Int) {
        for cluster in clusters?.ordered ?? [] {
            let name: String
            do {
                name = try InstanceID.subscriptionName(mode: cluster.configuration.subscriptionMode, dataDirectory: configuration.dataDirectory)
            } catch {
                log.error("cannot keep the instance id for subscriptions", metadata: [
                    "cluster": .string(cluster.name), "dir": .string(configuration.dataDirectory), "err": "\(error)",
                ])
                continue
            }
            var tokens: SubscriptionTokens?
            if configuration.authEnabled {
                do { tokens = try SubscriptionTokens.load(dataDirectory: configuration.dataDirectory) } catch {
                    log.error("cannot make subscription tokens", metadata: ["cluster": .string(cluster.name), "err": "\(error)"])
                    continue
                }
            }
            let linker = SubscriptionLinker(cluster: cluster, subscriptionName: name, hostname: configuration.hostname,
                                            boundPort: boundPort, tokens: tokens, handler: handler, log: log)
            let task = Task { await linker.run() }
            linkers.withLock { $0.append((linker, task)) }
        }
    }

    /// The counters of the running collectors, by name (empty without collector sections).
    var collectorStats: [String: CollectorScheduler.Stats] { collectors.withLock { $0 }?.stats ?? [:] }

    /// Starts the `[[collectors.NAME]]` sections: their points go through the `/write` path, by default into
    /// `telegraf`.`autogen` (where Telegraf writes, so Telegraf-era TICKscripts find them), tagged with the host's name.
    func startCollectors(_ configs: [CollectorConfig]) throws(CollectorError) {
        guard !configs.isEmpty else { return }
        let log = self.log
        let handler = self.handler
        let scheduler = CollectorScheduler(configs, hostTags: ["host": HostFS.hostname], clock: { Self.now }, logger: log, sink: { points in Self.write(points, to: handler, log: log) })
        try scheduler.start()
        collectors.withLock { $0 = scheduler }
        log.info("collectors started", metadata: ["collectors": .string(configs.map(\.name).joined(separator: ","))])
    }

    /// Runs the collectors of a reloaded configuration (SIGHUP): unchanged sections keep their schedule, changed and
    /// new ones start, removed ones stop. A bad section leaves the running set as it was, and the error is logged.
    func reloadCollectors(_ configs: [CollectorConfig]) {
        guard let scheduler = collectors.withLock({ $0 }) else {
            do { try startCollectors(configs) } catch {
                log.error("collectors not reloaded", metadata: ["err": .string(error.description)])
            }
            return
        }
        do {
            let changes = try scheduler.update(configs)
            log.info("collectors reloaded", metadata: [
                "kept": .string(changes.kept.joined(separator: ",")),
                "started": .string(changes.started.joined(separator: ",")),
                "stopped": .string(changes.stopped.joined(separator: ",")),
            ])
        } catch {
            log.error("collectors not reloaded: the running ones are kept", metadata: ["err": .string(error.description)])
        }
    }

    static var now: Int64 { Int64(Date().timeIntervalSince1970 * 1e9) }

    /// Hands collected points to the `/write` path, by database and retention policy.
    static func write(_ points: [Point], to handler: WriteHandler, log: Logger) {
        let serializer = LineProtocolSerializer()
        let byTarget = Dictionary(grouping: points) { TargetKey(database: $0.database, retentionPolicy: $0.retentionPolicy) }
        for (target, group) in byTarget {
            let bytes: [UInt8]
            do { bytes = try serializer.serialize(group) } catch {
                log.error("collected points cannot be written as line protocol", metadata: ["err": "\(error)"])
                continue
            }
            let state = bytes.withUnsafeBytes { raw in
                handler.ingest(raw, database: target.database.isEmpty ? "telegraf" : target.database,
                               retentionPolicy: target.retentionPolicy.isEmpty ? "autogen" : target.retentionPolicy,
                               precision: .nanoseconds, arrival: now)
            }
            if state.badLines > 0 {
                log.error("collected points were refused", metadata: ["count": "\(state.badLines)"])
            }
        }
    }

    struct TargetKey: Hashable {
        var database: String
        var retentionPolicy: String
    }

    /// Stops the subscription upkeep and closes every UDP listener (subscriptions stay in InfluxDB).
    func stop() async {
        collectors.withLock { $0 }?.stop()
        let tasks = linkers.withLock { all -> [Task<Void, Never>] in
            let tasks = all.map(\.task)
            all = []
            return tasks
        }
        for task in tasks {
            task.cancel()
            await task.value
        }
        let listeners = udp.withLock { all -> [UDPListener] in
            let listeners = all
            all = []
            return listeners
        }
        for listener in listeners { await listener.close() }
    }

    /// The `[[udp]]` listeners' bound ports, in the order of the file.
    var udpPorts: [Int] { udp.withLock { $0.map(\.port) } }
}
