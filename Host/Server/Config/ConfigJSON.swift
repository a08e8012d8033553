import Alerting
import Engine
import InfluxDB
import TockModel

/// Conversions between the API's JSON and configuration values, and the read-only sections' views.
enum ConfigJSON {
    /// A JSON value as a configuration value; `nil` for `null`.
    static func value(_ json: JSON) -> ConfigValue? {
        switch json {
        case .null: nil
        case .bool(let b): .bool(b)
        case .int(let i): .int(i)
        case .double(let d): .float(d)
        case .string(let s): .string(s)
        case .array(let items): .array(items.compactMap { value($0) })
        case .object(let members):
            .table(Dictionary(members.compactMap { k, v in value(v).map { (k, $0) } }, uniquingKeysWith: { _, b in b }))
        }
    }

    /// A configuration value as JSON, tables with their keys sorted (Go encodes maps so).
    static func json(_ value: ConfigValue) -> JSON {
        switch value {
        case .string(let s): .string(s)
        case .int(let i): .int(i)
        case .float(let d): .double(d)
        case .bool(let b): .bool(b)
        case .array(let items): .array(items.map { json($0) })
        case .table(let t): .object(t.keys.sorted().map { ($0, json(t[$0]!)) })
        }
    }

    /// A JSON value as a handler option (service test options); `nil` for `null`.
    static func option(_ json: JSON) -> HandlerOption? {
        switch json {
        case .null: nil
        case .bool(let b): .bool(b)
        case .int(let i): .int(i)
        case .double(let d): .float(d)
        case .string(let s): .string(s)
        case .array(let items): .list(items.compactMap { option($0) })
        case .object(let members):
            .object(Dictionary(members.compactMap { k, v in option(v).map { (k, $0) } }, uniquingKeysWith: { _, b in b }))
        }
    }

    static func json(_ option: HandlerOption) -> JSON {
        switch option {
        case .string(let s): .string(s)
        case .int(let i): .int(i)
        case .float(let d): .double(d)
        case .bool(let b): .bool(b)
        case .duration(let ns): .string(GoDuration.format(ns))
        case .list(let items): .array(items.map { json($0) })
        case .object(let o): .object(o.keys.sorted().map { ($0, json(o[$0]!)) })
        }
    }

    /// An `[[influxdb]]` element as Kapacitor's config API shows it (`services/influxdb/config.go`): durations as Go
    /// writes them, the password redacted.
    static func influxDB(_ c: InfluxDBConfiguration) -> ConfigTable {
        func map(_ m: [String: [String]]) -> ConfigValue { .table(m.mapValues { .array($0.map { .string($0) }) }) }
        return [
            "enabled": .bool(c.enabled), "name": .string(c.name), "default": .bool(c.isDefault),
            "urls": .array(c.urls.map { .string($0) }), "username": .string(c.username), "password": .bool(!c.password.isEmpty),
            "ssl-ca": .string(c.sslCA), "ssl-cert": .string(c.sslCert), "ssl-key": .string(c.sslKey),
            "insecure-skip-verify": .bool(c.insecureSkipVerify), "timeout": .string(GoDuration.format(c.timeout)),
            "disable-subscriptions": .bool(c.disableSubscriptions), "subscription-protocol": .string(c.subscriptionProtocol),
            "subscription-mode": .string(c.subscriptionMode), "subscription-path": .string(c.subscriptionPath),
            "subscriptions": map(c.subscriptions), "excluded-subscriptions": map(c.excludedSubscriptions),
            "kapacitor-hostname": .string(c.kapacitorHostname), "http-port": .int(Int64(c.httpPort)),
            "udp-bind": .string(c.udpBind), "udp-buffer": .int(Int64(c.udpBuffer)), "udp-read-buffer": .int(Int64(c.udpReadBuffer)),
            "startup-timeout": .string(GoDuration.format(c.startupTimeout)),
            "subscriptions-sync-interval": .string(GoDuration.format(c.subscriptionsSyncInterval)),
        ]
    }
}
