import Engine
import Foundation
import TockModel

/// The `[hosts]` section: the host inventory, its recent-metrics store and its `tock_hosts` points.
public struct HostsSettings: Sendable, Equatable {
    /// Register hosts from the points written (`/write`, UDP, subscriptions, collectors) and serve `/hosts`.
    public var enabled = true
    /// Nanoseconds the recent metrics are kept.
    public var retention: Int64 = 24 * GoDuration.hour
    /// The most series (host, measurement, field, other tags) kept; new series beyond are not kept.
    public var maxSeries = 100_000
    /// The most values kept over all series; each series keeps at most `max-values / series` of its newest.
    public var maxValues = 10_000_000
    /// Nanoseconds per kept value: one value (the last) per series per resolution bucket.
    public var resolution: Int64 = 10 * GoDuration.second
    /// Nanoseconds between the `tock_hosts` points (one per host) written into the daemon's stream.
    public var checkInterval: Int64 = 10 * GoDuration.second
    /// A host that has not reported for this long shows as `silent` in lists.
    public var silentAfter: Int64 = 5 * GoDuration.minute
    /// Where the `tock_hosts` points go.
    public var database = "_tock"
    public var retentionPolicy = "autogen"

    public init() {}

    /// How many values one series may keep at most: the retention over the resolution.
    var valuesPerSeries: Int { max(1, Int(min(retention / max(resolution, 1), Int64(Int32.max)))) }

    mutating func set(key: String, value: String, origin: String) throws(ConfigurationError) {
        func duration(_ name: String) throws(ConfigurationError) -> Int64 {
            guard let ns = GoDuration.parse(value), ns > 0 else {
                throw ConfigurationError("\(origin): hosts.\(name) must be a positive duration such as \"10s\", got \"\(value)\"")
            }
            return ns
        }
        func count(_ name: String) throws(ConfigurationError) -> Int {
            guard let n = Int(value), n > 0 else {
                throw ConfigurationError("\(origin): hosts.\(name) must be a positive whole number, got \"\(value)\"")
            }
            return n
        }
        switch key {
        case "enabled":
            guard let b = Bool(value.lowercased()) else {
                throw ConfigurationError("\(origin): hosts.enabled must be true or false, got \"\(value)\"")
            }
            enabled = b
        case "retention": retention = try duration(key)
        case "resolution": resolution = try duration(key)
        case "check-interval": checkInterval = try duration(key)
        case "silent-after": silentAfter = try duration(key)
        case "max-series": maxSeries = try count(key)
        case "max-values": maxValues = try count(key)
        case "database":
            guard !value.isEmpty else { throw ConfigurationError("\(origin): hosts.database must not be empty") }
            database = value
        case "retention-policy":
            guard !value.isEmpty else { throw ConfigurationError("\(origin): hosts.retention-policy must not be empty") }
            retentionPolicy = value
        default:
            throw ConfigurationError("\(origin): unknown setting hosts.\(key) (enabled, retention, resolution, max-series, max-values, check-interval, silent-after, database, retention-policy)")
        }
    }

    /// `tock config`'s text for the section.
    static let defaultText = """

        [hosts]
          # The host inventory: every point with a host tag registers its host (first and last seen, points,
          # the agent version of tock_agent heartbeats, the host_facts fields). Locations and labels are set
          # with `tock hosts set HOST location=725 rack=b` or PATCH /kapacitor/v1/hosts/HOST.
          enabled = true
          # Recent numeric values per host series, for /kapacitor/v1/hosts/HOST/metrics and
          # /kapacitor/v1/locations/LOC/metrics: one value per resolution, kept retention long, in memory.
          retention = "24h"
          resolution = "10s"
          max-series = 100000
          # All series together keep at most this many values (16 bytes each).
          max-values = 10000000
          # Every check-interval one point per host, tock_hosts (tags host, location; fields assigned, reported,
          # silent_seconds), is written into database.retention-policy: alert on it for the host deadman.
          check-interval = "10s"
          # Lists show a host as silent when it has not reported for this long.
          silent-after = "5m"
          database = "_tock"
          retention-policy = "autogen"

        """
}
