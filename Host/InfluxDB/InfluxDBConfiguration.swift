import Foundation
import TockModel

/// One `[[influxdb]]` section of kapacitor.conf: an InfluxDB 1.x cluster Tock queries, writes to and subscribes to.
///
/// Keys, defaults and checks follow Kapacitor's `services/influxdb/config.go`: `enabled` defaults to true (the
/// section is there to be used), `subscription-protocol` to `http`, `startup-timeout` to 5m,
/// `subscriptions-sync-interval` to 1m, `udp-buffer` to 1000 and `excluded-subscriptions` to `_kapacitor = ["autogen"]`.
/// Durations are nanoseconds.
public struct InfluxDBConfiguration: Sendable, Hashable {
    public var enabled = true
    public var name = ""
    /// The cluster `.cluster()` and `influxDBOut()` use when they name none.
    public var isDefault = false
    public var urls: [String] = []
    public var username = ""
    public var password = ""
    /// PEM files: the CA to trust, and this client's certificate and key.
    public var sslCA = ""
    public var sslCert = ""
    public var sslKey = ""
    public var insecureSkipVerify = false
    /// How long a request may take, connecting included; 0: no limit on the answer, as in Kapacitor (connecting
    /// still gives up after ``defaultConnectTimeout``).
    public var timeout: Int64 = 0
    public var disableSubscriptions = false
    /// `http`, `https` or `udp`: how InfluxDB sends the subscribed writes.
    public var subscriptionProtocol = "http"
    /// `cluster` (one subscription named after the Tock instance's id, shared by the instances of a cluster) or
    /// `server` (named after this server's own id).
    public var subscriptionMode = "cluster"
    /// A path prefix for the subscription's destination URL (Tock behind a proxy).
    public var subscriptionPath = ""
    /// The (database, retention policies) to subscribe to; empty: every one InfluxDB has.
    public var subscriptions: [String: [String]] = [:]
    public var excludedSubscriptions: [String: [String]] = ["_kapacitor": ["autogen"]]
    /// The host name InfluxDB reaches Tock by; empty: the daemon's `hostname`.
    public var kapacitorHostname = ""
    /// The port InfluxDB reaches Tock's `/write` on; -1: the port the daemon bound.
    public var httpPort = -1
    /// `host:port` the UDP listeners of `subscription-protocol = "udp"` bind; port 0 picks a free port.
    public var udpBind = ""
    /// Datagrams held for the tasks before more are dropped.
    public var udpBuffer = 1000
    /// The socket's receive buffer (`SO_RCVBUF`) in bytes; 0: the system's.
    public var udpReadBuffer = 0
    /// How long the daemon waits at start for InfluxDB to answer `/ping` before it carries on without it.
    public var startupTimeout: Int64 = 5 * GoDuration.minute
    public var subscriptionsSyncInterval: Int64 = GoDuration.minute

    /// How long connecting may take when ``timeout`` is 0.
    public static let defaultConnectTimeout: Int64 = 10 * GoDuration.second

    public init(name: String = "", urls: [String] = []) {
        self.name = name
        self.urls = urls
    }

    /// One value of a setting as a configuration file or environment variable spells it.
    public enum Value: Sendable, Hashable {
        case text(String)
        case list([String])
        case map([String: [String]])
    }

    /// Every key of the section, as kapacitor.conf spells them.
    public static let keys = [
        "enabled", "name", "default", "urls", "username", "password", "ssl-ca", "ssl-cert", "ssl-key",
        "insecure-skip-verify", "timeout", "disable-subscriptions", "subscription-protocol", "subscription-mode",
        "subscription-path", "subscriptions", "excluded-subscriptions", "kapacitor-hostname", "http-port", "udp-bind",
        "udp-buffer", "udp-read-buffer", "startup-timeout", "subscriptions-sync-interval",
    ]

    /// Sets one key; the error says which key and what was wrong with the value.
    public mutating func set(_ key: String, _ value: Value) throws(InfluxDBConfigurationError) {
        func fail(_ message: String) -> InfluxDBConfigurationError { InfluxDBConfigurationError(key: key, message: message) }
        func text() throws(InfluxDBConfigurationError) -> String {
            switch value {
            case .text(let s): return s
            case .list: throw fail("must be a single value, not a list")
            case .map: throw fail("must be a single value, not a table")
            }
        }
        func bool() throws(InfluxDBConfigurationError) -> Bool {
            let s = try text()
            switch s.lowercased() {
            case "true": return true
            case "false": return false
            default: throw fail("must be true or false, got \"\(s)\"")
            }
        }
        func duration() throws(InfluxDBConfigurationError) -> Int64 {
            let s = try text()
            guard let ns = GoDuration.parse(s), ns >= 0 else {
                throw fail("must be a duration such as \"10s\" or \"5m\", got \"\(s)\"")
            }
            return ns
        }
        func integer(_ range: ClosedRange<Int>) throws(InfluxDBConfigurationError) -> Int {
            let s = try text()
            guard let n = Int(s), range.contains(n) else {
                throw fail("must be a whole number from \(range.lowerBound) to \(range.upperBound), got \"\(s)\"")
            }
            return n
        }
        func map() throws(InfluxDBConfigurationError) -> [String: [String]] {
            guard case .map(let m) = value else { throw fail("must be a table of database = [\"retention policy\", …]") }
            return m
        }
        switch key {
        case "enabled": enabled = try bool()
        case "name": name = try text()
        case "default": isDefault = try bool()
        case "urls":
            switch value {
            case .list(let items): urls = items
            case .text(let s): urls = s.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
            case .map: throw fail("must be a list of URLs such as [\"http://localhost:8086\"]")
            }
        case "username": username = try text()
        case "password": password = try text()
        case "ssl-ca": sslCA = try text()
        case "ssl-cert": sslCert = try text()
        case "ssl-key": sslKey = try text()
        case "insecure-skip-verify": insecureSkipVerify = try bool()
        case "timeout": timeout = try duration()
        case "disable-subscriptions": disableSubscriptions = try bool()
        case "subscription-protocol":
            let s = try text()
            guard ["http", "https", "udp"].contains(s) else {
                throw fail("invalid subscription protocol, must be one of 'udp', 'http' or 'https', got \(s)")
            }
            subscriptionProtocol = s
        case "subscription-mode":
            let s = try text()
            guard ["cluster", "server"].contains(s) else {
                throw fail("invalid subscription mode, must be 'cluster' or 'server', got \(s)")
            }
            subscriptionMode = s
        case "subscription-path": subscriptionPath = try text()
        case "subscriptions": subscriptions = try map()
        case "excluded-subscriptions": excludedSubscriptions = try map()
        case "kapacitor-hostname": kapacitorHostname = try text()
        case "http-port": httpPort = try integer(-1...65535)
        case "udp-bind": udpBind = try text()
        case "udp-buffer":
            let n = try integer(0...1_000_000)
            udpBuffer = n == 0 ? 1000 : n
        case "udp-read-buffer": udpReadBuffer = try integer(0...Int(Int32.max))
        case "startup-timeout":
            let ns = try duration()
            startupTimeout = ns == 0 ? 5 * GoDuration.minute : ns
        case "subscriptions-sync-interval":
            let ns = try duration()
            subscriptionsSyncInterval = ns == 0 ? GoDuration.minute : ns
        default:
            throw fail("unknown setting (\(Self.keys.joined(separator: ", ")))")
        }
    }

    /// Kapacitor's `Validate`: a name of letters, digits, `.`, `-` and `_`, at least one URL that parses as
    /// http(s), and readable TLS files.
    public func validate() throws(InfluxDBConfigurationError) {
        guard !name.isEmpty else { throw InfluxDBConfigurationError(key: "name", message: "influxdb cluster must be given a name") }
        guard name.unicodeScalars.allSatisfy({ $0.properties.isAlphabetic || ("0"..."9").contains($0) || "-._".unicodeScalars.contains($0) }) else {
            throw InfluxDBConfigurationError(
                key: "name", message: "influxdb cluster name must contain only numbers, letters or '.', '-', and '_' characters, got \"\(name)\"")
        }
        guard !urls.isEmpty else { throw InfluxDBConfigurationError(key: "urls", message: "must specify at least one InfluxDB URL") }
        for url in urls {
            guard let parsed = URLComponents(string: url), let scheme = parsed.scheme, ["http", "https"].contains(scheme),
                  let host = parsed.host, !host.isEmpty else {
                throw InfluxDBConfigurationError(key: "urls", message: "\"\(url)\" is not an http:// or https:// URL")
            }
        }
        for (key, path) in [("ssl-ca", sslCA), ("ssl-cert", sslCert), ("ssl-key", sslKey)] where !path.isEmpty {
            guard FileManager.default.isReadableFile(atPath: path) else {
                throw InfluxDBConfigurationError(key: key, message: "cannot read \"\(path)\"")
            }
        }
        if sslCert.isEmpty != sslKey.isEmpty {
            throw InfluxDBConfigurationError(key: sslCert.isEmpty ? "ssl-cert" : "ssl-key", message: "ssl-cert and ssl-key go together")
        }
    }
}

/// A bad `[[influxdb]]` setting: the key and what was wrong (the caller adds the file and section).
public struct InfluxDBConfigurationError: Error, Sendable, CustomStringConvertible {
    public var key: String
    public var message: String

    public init(key: String, message: String) {
        self.key = key
        self.message = message
    }

    public var description: String { "\(key): \(message)" }
}
