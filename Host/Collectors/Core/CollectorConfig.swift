import PluginSupervisor
import TockModel

/// One `[[collectors.NAME]]` section: the collector, its schedule, where its points go and the plugin's options.
///
/// ```toml
/// [[collectors.cpu]]
///   interval = "10s"
///   jitter = "1s"
///   tags = { dc = "par1" }
///   percpu = false
///
/// [[collectors.net_response]]
///   address = "db1:5432"
///   timeout = "2s"             # the probe's own, as in Telegraf
///   gather-timeout = "10s"     # optional: the whole gather's bound (derived when left out)
/// ```
public struct CollectorConfig: Sendable, Equatable {
    public var name: String
    /// Between two gathers (default 10 s, Telegraf's agent interval).
    public var interval: Duration = .seconds(10) { didSet { intervalSet = true } }
    /// Whether the section set ``interval`` (a plugin's own interval applies otherwise).
    public private(set) var intervalSet = false
    /// A random delay of up to this much before each gather, so that many hosts do not read at the same instant.
    public var jitter: Duration = .zero
    /// How long one gather may take before it is abandoned and reported as failed: the section's `gather-timeout`;
    /// for a collector whose `timeout` is not its own option (see ``Collector/ownsTimeoutOption``), its `timeout`
    /// too; else the collector's ``Collector/gatherBound`` plus ``gatherMargin``, never less than
    /// ``defaultTimeout``.
    public var timeout: Duration = CollectorConfig.defaultTimeout
    /// The gather bound of a section that sets none and whose collector knows none (Telegraf's common 5 s).
    public static let defaultTimeout: Duration = .seconds(5)
    /// What a derived gather bound adds to the collector's own worst case, so that a probe reports its own timeout
    /// (a point with `result=timeout`) before the gather is abandoned.
    public static let gatherMargin: Duration = .seconds(1)
    /// Added to every point (the point's own tags win).
    public var tags: [String: String] = [:]
    public var database = ""
    public var retentionPolicy = ""
    public var options: CollectorOptions
    /// Whether the host's tags (`host`, an agent's `location`) are added to its points: Kapacitor's scrapers add none.
    public var hostTagged = true
    /// Set for a collector plugin (a section with `prog`): how to start it and its options.
    public var plugin: CollectorPluginConfiguration?

    public init(name: String, options: CollectorOptions? = nil) {
        self.name = name
        self.options = options ?? CollectorOptions(collector: name)
    }

    /// The settings every collector section takes besides its plugin's options.
    public static let commonKeys: Set<String> = ["interval", "jitter", "timeout", "gather-timeout", "tags", "database", "retention-policy"]
    /// What a plugin's section takes besides the common keys and its plugin's options.
    public static let pluginKeys: Set<String> = ["prog", "args", "env", "plugin-timeout"]

    /// Stamps `points` with this section's tags, database and retention policy.
    public func finish(_ points: [Point], hostTags: [String: String]) -> [Point] {
        let extra = (hostTagged ? hostTags : [:]).merging(tags) { $1 }
        return points.map { point in
            var point = point
            if !extra.isEmpty {
                var all = extra
                for (key, value) in point.tags { all[key] = value }
                point.tags = Tags(all)
            }
            point.database = database
            point.retentionPolicy = retentionPolicy
            return point
        }
    }
}
