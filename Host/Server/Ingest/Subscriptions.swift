import Engine
import Foundation
import InfluxDB
import LineProtocol
import Logging
import Synchronization
import TockModel

/// Keeps one cluster's subscriptions to Tock in line with its `[[influxdb]]` section, as Kapacitor's
/// `linkSubscriptions` (services/influxdb/service.go) does.
///
/// At start it waits up to `startup-timeout` for `/ping` (without holding up the API); then, and every
/// `subscriptions-sync-interval`, it lists InfluxDB's databases, retention policies and subscriptions and makes sure
/// every allowed (database, retention policy) has Tock's subscription — `tock-<id>`, `DESTINATIONS ANY` with the
/// URL InfluxDB reaches Tock at — while Tock's subscriptions of ones no longer allowed, or pointing elsewhere,
/// are dropped. With `subscription-protocol = "udp"` each subscription gets its own UDP listener.
/// Subscriptions are left in place at shutdown (as Kapacitor leaves them); `disable-subscriptions = true` drops
/// Tock's own at start.
final class SubscriptionLinker: Sendable {
    let cluster: InfluxDBCluster
    /// `tock-<id>`.
    let subscriptionName: String
    /// How InfluxDB reaches Tock.
    let hostname: String
    let httpPort: Int
    /// With `auth-enabled`: http(s) destinations carry `~subscriber:<token>@` (Kapacitor's subscription tokens).
    let tokens: SubscriptionTokens?
    let handler: WriteHandler
    let log: Logger
    private let listeners = Mutex<[Key: UDPListener]>([:])

    struct Key: Hashable, Sendable {
        var database: String
        var retentionPolicy: String
    }

    var configuration: InfluxDBConfiguration { cluster.configuration }

    init(cluster: InfluxDBCluster, subscriptionName: String, hostname: String, boundPort: Int, tokens: SubscriptionTokens? = nil,
         handler: WriteHandler, log: Logger) {
        self.tokens = tokens
        self.cluster = cluster
        self.subscriptionName = subscriptionName
        let c = cluster.configuration
        self.hostname = c.kapacitorHostname.isEmpty ? hostname : c.kapacitorHostname
        self.httpPort = c.httpPort == 0 ? boundPort : c.httpPort
        self.handler = handler
        self.log = log
    }

    /// Waits for InfluxDB, links, then links again every sync interval until cancelled; then closes the UDP listeners.
    func run() async {
        let c = configuration
        if await waitForInfluxDB(timeout: c.startupTimeout) {
            log.info("influxdb cluster answers", metadata: ["cluster": .string(cluster.name)])
        } else if !Task.isCancelled {
            log.warning("influxdb cluster did not answer /ping within startup-timeout; Tock goes on and retries every subscriptions-sync-interval", metadata: [
                "cluster": .string(cluster.name), "startup-timeout": .string(GoDuration.format(c.startupTimeout)),
                "subscriptions-sync-interval": .string(GoDuration.format(c.subscriptionsSyncInterval)),
            ])
        }
        while !Task.isCancelled {
            if await linkLogged() && c.disableSubscriptions { break }
            do { try await Task.sleep(nanoseconds: UInt64(c.subscriptionsSyncInterval)) } catch { break }
        }
        await closeListeners()
    }

    /// Pings with a growing pause (0.5 s doubling up to 10 s) until InfluxDB answers or `timeout` passes.
    func waitForInfluxDB(timeout: Int64) async -> Bool {
        let deadline = ContinuousClock.now + .nanoseconds(timeout)
        var pause = Duration.milliseconds(500)
        while !Task.isCancelled {
            do {
                try await cluster.ping()
                return true
            } catch {
                log.debug("influxdb cluster does not answer yet", metadata: ["cluster": .string(cluster.name), "err": "\(error)"])
            }
            let now = ContinuousClock.now
            guard now < deadline else { return false }
            do { try await Task.sleep(for: min(pause, deadline - now)) } catch { return false }
            pause = min(pause * 2, .seconds(10))
        }
        return false
    }

    /// One pass, its failure logged; whether it succeeded.
    @discardableResult
    func linkLogged() async -> Bool {
        do {
            if configuration.disableSubscriptions {
                let dropped = try await unlink()
                if dropped > 0 {
                    log.info("dropped Tock's subscriptions (disable-subscriptions)",
                             metadata: ["cluster": .string(cluster.name), "count": "\(dropped)"])
                }
            } else {
                try await link()
            }
            return true
        } catch {
            log.error("failed to link subscriptions", metadata: ["cluster": .string(cluster.name), "err": "\(error)"])
            return false
        }
    }

    /// Whether Tock subscribes to `key`: listed in `subscriptions` (or none listed) and not excluded.
    func allowed(_ key: Key) -> Bool {
        let c = configuration
        func listed(_ map: [String: [String]]) -> Bool { map[key.database]?.contains(key.retentionPolicy) ?? false }
        return (c.subscriptions.isEmpty || listed(c.subscriptions)) && !listed(c.excludedSubscriptions)
    }

    /// The destination of an http(s) subscription to `key`: with subscription tokens, its credentials in the URL.
    func httpDestination(_ key: Key) -> String {
        let credentials = tokens.map {
            "\(SubscriptionTokens.user):\($0.token(cluster: cluster.name, database: key.database, retentionPolicy: key.retentionPolicy))@"
        } ?? ""
        return "\(configuration.subscriptionProtocol)://\(credentials)\(Self.hostPort(hostname, httpPort))\(configuration.subscriptionPath)"
    }

    static func hostPort(_ host: String, _ port: Int) -> String {
        host.contains(":") && !host.hasPrefix("[") ? "[\(host)]:\(port)" : "\(host):\(port)"
    }

    /// One pass of linking.
    func link() async throws(InfluxDBError) {
        let all = try await cluster.retentionPolicies().map { Key(database: $0.database, retentionPolicy: $0.retentionPolicy) }
        var existing: Set<Key> = []
        for sub in try await cluster.subscriptions() where sub.name == subscriptionName {
            let key = Key(database: sub.database, retentionPolicy: sub.retentionPolicy)
            if allowed(key), await valid(sub, key) {
                existing.insert(key)
            } else {
                try await cluster.dropSubscription(name: sub.name, database: sub.database, retentionPolicy: sub.retentionPolicy)
                await closeListener(key)
                log.info("dropped subscription", metadata: [
                    "cluster": .string(cluster.name), "db": .string(key.database), "rp": .string(key.retentionPolicy),
                    "destination": .string(sub.destinations.joined(separator: ",")),
                ])
            }
        }
        for key in all where allowed(key) && !existing.contains(key) {
            let destination: String
            if configuration.subscriptionProtocol == "udp" {
                let listener: UDPListener
                do { listener = try await startListener(key, port: 0) } catch {
                    log.error("failed to start UDP listener", metadata: [
                        "cluster": .string(cluster.name), "db": .string(key.database),
                        "rp": .string(key.retentionPolicy), "err": "\(error)",
                    ])
                    continue
                }
                destination = "udp://\(Self.hostPort(hostname, listener.port))"
            } else {
                destination = httpDestination(key)
            }
            try await cluster.createSubscription(InfluxDBSubscription(
                database: key.database, retentionPolicy: key.retentionPolicy, name: subscriptionName, mode: "ANY",
                destinations: [destination]))
            existing.insert(key)
            log.info("created subscription", metadata: [
                "cluster": .string(cluster.name), "db": .string(key.database), "rp": .string(key.retentionPolicy),
                "name": .string(subscriptionName), "destination": .string(destination),
            ])
        }
        // Listeners of subscriptions that went away with their database or retention policy.
        let stale = listeners.withLock { Array($0.keys.filter { !existing.contains($0) }) }
        for key in stale { await closeListener(key) }
    }

    /// Whether an existing subscription of Tock's still points here (Kapacitor's `changedOrInvalid`); a udp one
    /// gets its listener back on the same port when it has none.
    private func valid(_ sub: InfluxDBSubscription, _ key: Key) async -> Bool {
        guard let first = sub.destinations.first, let url = URLComponents(string: first),
              url.scheme == configuration.subscriptionProtocol, url.host == hostname.trimmingCharacters(in: CharacterSet(charactersIn: "[]")),
              let port = url.port else { return false }
        if url.scheme == "udp" {
            if listeners.withLock({ $0[key] }) != nil { return true }
            do {
                _ = try await startListener(key, port: port)
                return true
            } catch {
                return false
            }
        }
        // The credentials too: a token made for another key, or none where one is needed (auth was turned on).
        return port == httpPort && url.path == configuration.subscriptionPath && first == httpDestination(key)
    }

    /// Drops every subscription named for this Tock; returns how many.
    @discardableResult
    func unlink() async throws(InfluxDBError) -> Int {
        var count = 0
        for sub in try await cluster.subscriptions() where sub.name == subscriptionName {
            try await cluster.dropSubscription(name: sub.name, database: sub.database, retentionPolicy: sub.retentionPolicy)
            count += 1
        }
        await closeListeners()
        return count
    }

    // MARK: UDP listeners

    private func startListener(_ key: Key, port: Int) async throws -> UDPListener {
        let c = configuration
        let listener = try await UDPListener.start(
            host: c.udpBind.isEmpty ? "0.0.0.0" : c.udpBind, port: port,
            target: .init(database: key.database, retentionPolicy: key.retentionPolicy, precision: .nanoseconds),
            capacity: c.udpBuffer, readBuffer: c.udpReadBuffer, handler: handler, log: log,
            label: "subscription \(cluster.name) \(key.database).\(key.retentionPolicy)")
        let previous = listeners.withLock { $0.updateValue(listener, forKey: key) }
        await previous?.close()
        log.info("started UDP listener", metadata: [
            "cluster": .string(cluster.name), "db": .string(key.database), "rp": .string(key.retentionPolicy),
            "port": "\(listener.port)",
        ])
        return listener
    }

    private func closeListener(_ key: Key) async {
        await listeners.withLock { $0.removeValue(forKey: key) }?.close()
    }

    func closeListeners() async {
        let all = listeners.withLock { all -> [UDPListener] in
            let values = Array(all.values)
            all = [:]
            return values
        }
        for listener in all { await listener.close() }
    }

    /// The running UDP listeners' ports by (database, retention policy).
    var udpPorts: [Key: Int] { listeners.withLock { $0.mapValues(\.port) } }
}

/// The stable identity of this Tock in subscription names: `tock-<id>`, the id a UUID kept in the data directory
/// (`cluster.id` for `subscription-mode = "cluster"`, `server.id` for `"server"`), made on first use.
enum InstanceID {
    static func subscriptionName(mode: String, dataDirectory: String) throws -> String {
        let file = (dataDirectory as NSString).appendingPathComponent(mode == "server" ? "server.id" : "cluster.id")
        if let text = try? String(contentsOfFile: file, encoding: .utf8),
           let id = UUID(uuidString: text.trimmingCharacters(in: .whitespacesAndNewlines)) {
            return "tock-" + id.uuidString.lowercased()
        }
        try FileManager.default.createDirectory(atPath: dataDirectory, withIntermediateDirectories: true)
        let id = UUID().uuidString.lowercased()
        try (id + "\n").write(toFile: file, atomically: true, encoding: .utf8)
        return "tock-" + id
    }
}
