/// The built-in collectors, by name.
public enum CollectorRegistry {
    /// The collectors gathered on a schedule.
    public static let builtIns: [any Collector.Type] = [
        CPUCollector.self, MemCollector.self, SwapCollector.self, SystemCollector.self, KernelCollector.self,
        ProcessesCollector.self, DiskCollector.self, DiskIOCollector.self, NetCollector.self, NetstatCollector.self,
        ProcstatCollector.self, HostFactsCollector.self, NetResponseCollector.self, HTTPResponseCollector.self, PrometheusCollector.self,
        KapacitorScraperCollector.self, PingCollector.self, X509CertCollector.self, DNSQueryCollector.self, KeywordCollector.self,
        ExceptionCollector.self, ExecCollector.self,
    ]

    /// The collectors that run on their own and report whenever they have points.
    public static let streamingBuiltIns: [any StreamingCollector.Type] = [ExecdCollector.self]

    /// What `tock collect` gathers when no configuration names collectors: Telegraf's default configuration's inputs
    /// (cpu, disk, diskio, kernel, mem, processes, swap, system) plus net and netstat.
    public static let defaults = ["cpu", "mem", "swap", "system", "kernel", "processes", "disk", "diskio", "net", "netstat"]

    /// Every name with its one-line summary, for `tock collect --list`.
    public static var catalog: [(name: String, summary: String)] {
        builtIns.map { ($0.name, $0.summary) } + streamingBuiltIns.map { ($0.name, $0.summary) }
    }

    public static var names: [String] { catalog.map(\.name) }

    public static func type(named name: String) -> (any Collector.Type)? {
        builtIns.first { $0.name == name }
    }

    public static func isKnown(_ name: String) -> Bool { names.contains(name) }

    /// Builds the polled collector `name` from `options`, or says which names exist.
    public static func make(_ name: String, options: CollectorOptions) throws(CollectorError) -> any Collector {
        guard let type = type(named: name) else { throw unknown(name) }
        return try type.init(options: options)
    }

    /// Builds the collector `name`, of either kind.
    public static func instance(_ name: String, options: CollectorOptions) throws(CollectorError) -> CollectorInstance {
        if let type = type(named: name) { return .polled(try type.init(options: options)) }
        if let type = streamingBuiltIns.first(where: { $0.name == name }) { return .streaming(try type.init(options: options)) }
        throw unknown(name)
    }

    /// Builds the collector of a section: a plugin when it has a `prog`, else the built-in of its name.
    public static func instance(for config: CollectorConfig) throws(CollectorError) -> CollectorInstance {
        if let plugin = config.plugin {
            return .streaming(PluginCollector(configuration: plugin, gatherTimeout: config.timeout))
        }
        return try instance(config.name, options: config.options)
    }

    static func unknown(_ name: String) -> CollectorError {
        CollectorError("", "unknown collector \"\(name)\" (built in: \(names.joined(separator: ", ")); a collector plugin's section names its program with prog)")
    }
}
