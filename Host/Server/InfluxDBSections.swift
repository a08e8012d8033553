import Foundation
import InfluxDB
import LineProtocol
import TOMLKit
import TockModel

/// `[[influxdb]]` and `[[udp]]`: the InfluxDB clusters Tock talks to and the UDP line-protocol listeners, read as
/// Kapacitor reads them (services/influxdb/config.go, services/udp/config.go).
extension ServerConfiguration {
    /// Reads the `[[influxdb]]` array of tables, one cluster each (`[influxdb.subscriptions]` and
    /// `[influxdb.excluded-subscriptions]` belong to the section above them).
    mutating func applyInfluxDB(_ value: any TOMLValueConvertible, file: String) throws(ConfigurationError) {
        guard let array = value.array else {
            throw ConfigurationError("\(file): influxdb must be an array of tables ([[influxdb]]), one per cluster")
        }
        influxDB = []
        for (i, item) in array.enumerated() {
            let origin = "\(file) [[influxdb]] #\(i + 1)"
            guard let table = item.table else { throw ConfigurationError("\(origin): must be a table") }
            var section = InfluxDBConfiguration()
            for key in table.keys.sorted() {
                let value = table[key]!
                let converted: InfluxDBConfiguration.Value
                if let sub = value.table {
                    var map: [String: [String]] = [:]
                    for db in sub.keys {
                        guard let rps = sub[db]!.array else {
                            throw ConfigurationError("\(origin): \(key).\(db) must be a list of retention policies such as [\"autogen\"]")
                        }
                        map[db] = rps.map { Self.text($0) }
                    }
                    converted = .map(map)
                } else if let list = value.array {
                    converted = .list(list.map { Self.text($0) })
                } else {
                    converted = .text(Self.text(value))
                }
                do { try section.set(key, converted) } catch {
                    throw ConfigurationError("\(origin): \(error)")
                }
            }
            influxDB.append(section)
        }
    }

    /// Reads the `[[udp]]` array of tables, one listener each.
    mutating func applyUDP(_ value: any TOMLValueConvertible, file: String) throws(ConfigurationError) {
        guard let array = value.array else {
            throw ConfigurationError("\(file): udp must be an array of tables ([[udp]]), one per listener")
        }
        udp = []
        for (i, item) in array.enumerated() {
            let origin = "\(file) [[udp]] #\(i + 1)"
            guard let table = item.table else { throw ConfigurationError("\(origin): must be a table") }
            var section = UDPConfiguration()
            for key in table.keys.sorted() {
                try section.set(key, Self.text(table[key]!), origin: origin)
            }
            udp.append(section)
        }
    }

    /// `TOCK_INFLUXDB_<N>_<KEY>` and `TOCK_UDP_<N>_<KEY>` (Kapacitor's `KAPACITOR_INFLUXDB_0_URLS_0` shape, lists
    /// comma-separated): section N, counted from 0; N equal to the number of sections adds one.
    mutating func applyIndexedSection(name: String, value: String) throws(ConfigurationError) -> Bool {
        let parts = name.dropFirst(5).split(separator: "_", maxSplits: 2).map { String($0).lowercased() }
        guard parts.count == 3, parts[0] == "influxdb" || parts[0] == "udp", let index = Int(parts[1]), index >= 0 else { return false }
        let key = parts[2].replacingOccurrences(of: "_", with: "-")
        if parts[0] == "influxdb" {
            guard index <= influxDB.count else {
                throw ConfigurationError("\(name): there are \(influxDB.count) [[influxdb]] sections; the next is number \(influxDB.count)")
            }
            if index == influxDB.count { influxDB.append(InfluxDBConfiguration()) }
            let converted: InfluxDBConfiguration.Value
            switch key {
            case "urls": converted = .list(value.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) })
            case "subscriptions", "excluded-subscriptions":
                throw ConfigurationError("\(name): \(key) can only be set in the configuration file")
            default: converted = .text(value)
            }
            do { try influxDB[index].set(key, converted) } catch {
                throw ConfigurationError("\(name): \(error)")
            }
        } else {
            guard index <= udp.count else {
                throw ConfigurationError("\(name): there are \(udp.count) [[udp]] sections; the next is number \(udp.count)")
            }
            if index == udp.count { udp.append(UDPConfiguration()) }
            try udp[index].set(key, value, origin: name)
        }
        return true
    }

    /// `tock config`'s text for the two sections.
    static let influxDBDefaultText = """

        # InfluxDB 1.x clusters: batch queries read them, influxDBOut() writes to them, and Tock subscribes to
        # their writes so stream tasks see them. One [[influxdb]] table each; `name` is what .cluster('name') and
        # influxDBOut().cluster('name') use; `default = true` marks the one used without a name (else the first).
        # timeout bounds each request ("0s": no limit). startup-timeout: how long to wait at start for /ping
        # (Tock serves meanwhile, and keeps retrying every sync interval if it never answers).
        # Subscriptions: InfluxDB sends the writes of every database (or those in [influxdb.subscriptions], less
        # [influxdb.excluded-subscriptions]) to Tock's /write (http, https) or to a UDP port (udp, bound on
        # the host address udp-bind, on a free port per subscription). kapacitor-hostname (empty: the top-level
        # hostname) and http-port (0: the port Tock listens on) are how InfluxDB reaches Tock. Checked every subscriptions-sync-interval.
        # Environment: TOCK_INFLUXDB_0_URLS=http://127.0.0.1:8086, TOCK_INFLUXDB_0_ENABLED=true, …
        # [[influxdb]]
        #   enabled = true
        #   name = "localhost"
        #   default = true
        #   urls = ["http://localhost:8086"]
        #   username = ""
        #   password = ""
        #   timeout = "0s"
        #   ssl-ca = ""
        #   ssl-cert = ""
        #   ssl-key = ""
        #   insecure-skip-verify = false
        #   startup-timeout = "5m"
        #   disable-subscriptions = false
        #   subscription-protocol = "http"
        #   subscription-mode = "cluster"
        #   subscription-path = ""
        #   subscriptions-sync-interval = "1m0s"
        #   kapacitor-hostname = ""
        #   http-port = 0
        #   udp-bind = ""
        #   udp-buffer = 1000
        #   udp-read-buffer = 0
        #   [influxdb.subscriptions]
        #     # telegraf = ["autogen"]
        #   [influxdb.excluded-subscriptions]
        #     _kapacitor = ["autogen"]

        # UDP listeners: each datagram is line protocol for the listener's database and retention policy.
        # [[udp]]
        #   enabled = true
        #   bind-address = "127.0.0.1:8089"
        #   database = "udp"
        #   retention-policy = ""
        #   precision = ""
        #   read-buffer = 0
        #   batch-size = 5000
        #   batch-pending = 10
        #   batch-timeout = "1s"

        """
}

/// One `[[udp]]` section: a UDP socket whose datagrams are line protocol for one database (InfluxDB's and
/// Kapacitor's udp service).
public struct UDPConfiguration: Sendable, Hashable {
    public var enabled = false
    public var bindAddress = ":8089"
    public var database = "udp"
    public var retentionPolicy = ""
    /// `n`, `u`, `ms`, `s`, `m` or `h`; empty: nanoseconds.
    public var precision = ""
    /// `SO_RCVBUF` in bytes; 0: the system's.
    public var readBuffer = 0
    /// Lines gathered before they are handed to the tasks together.
    public var batchSize = 5000
    /// Batches waiting for the tasks before more are dropped.
    public var batchPending = 10
    /// How long a batch waits to fill after its first datagram, in nanoseconds.
    public var batchTimeout: Int64 = GoDuration.second

    public init() {}

    static let keys = ["enabled", "bind-address", "database", "retention-policy", "precision", "read-buffer",
                       "batch-size", "batch-pending", "batch-timeout", "buffer"]

    mutating func set(_ key: String, _ value: String, origin: String) throws(ConfigurationError) {
        func fail(_ message: String) -> ConfigurationError { ConfigurationError("\(origin): \(key): \(message)") }
        func count(_ range: ClosedRange<Int>) throws(ConfigurationError) -> Int {
            guard let n = Int(value), range.contains(n) else {
                throw fail("must be a whole number from \(range.lowerBound) to \(range.upperBound), got \"\(value)\"")
            }
            return n
        }
        switch key {
        case "enabled":
            switch value.lowercased() {
            case "true": enabled = true
            case "false": enabled = false
            default: throw fail("must be true or false, got \"\(value)\"")
            }
        case "bind-address":
            guard let colon = value.lastIndex(of: ":"), let port = Int(value[value.index(after: colon)...]),
                  (0...65535).contains(port) else { throw fail("must be host:port, got \"\(value)\"") }
            bindAddress = value
        case "database":
            guard !value.isEmpty else { throw fail("must not be empty") }
            database = value
        case "retention-policy": retentionPolicy = value
        case "precision":
            guard Precision(value) != nil else { throw fail("must be n, u, ms, s, m or h, got \"\(value)\"") }
            precision = value
        case "read-buffer": readBuffer = try count(0...Int(Int32.max))
        case "batch-size", "buffer":
            let n = try count(0...1_000_000)
            batchSize = n == 0 ? 5000 : n
        case "batch-pending":
            let n = try count(0...10_000)
            batchPending = n == 0 ? 10 : n
        case "batch-timeout":
            guard let ns = GoDuration.parse(value), ns >= 0 else { throw fail("must be a duration such as \"1s\", got \"\(value)\"") }
            batchTimeout = ns == 0 ? GoDuration.second : ns
        default:
            throw fail("unknown setting (\(Self.keys.joined(separator: ", ")))")
        }
    }

    /// The host and port to bind.
    var bind: (host: String, port: Int) {
        let colon = bindAddress.lastIndex(of: ":")!
        var host = String(bindAddress[..<colon])
        if host.hasPrefix("[") && host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        return (host.isEmpty ? "0.0.0.0" : host, Int(bindAddress[bindAddress.index(after: colon)...])!)
    }
}
